"""The home page's regions: the connection in one line, and a card per page.

The cards come from ``lib.page_registry``, so a new page gets its card (and its place in
the navigation) from its registry entry alone.
"""
from __future__ import annotations

import streamlit as st

from lib import connection
from lib.connection import Connection
from lib.page_registry import grouped
from lib.ui.shell import page_link
from lib.ui.text import shown


def connection_status(conn: Connection | None) -> None:
    """Provider, server and whether a key is sent, as the sidebar decided them."""
    if conn is None:
        st.warning("Not connected: the sidebar says what to fix.", icon=":material/cloud_off:")
        return
    st.info(f"Connected to **{shown(conn.provider)}** · {shown(connection.key_note(conn))}",
            icon=":material/cloud_done:")


def page_cards(per_row: int = 3) -> None:
    """A bordered card per page, in navigation order, ``per_row`` to a row: its group,
    a link, what it is for and a sample to try."""
    cards = [(group, member) for group, members in grouped() for member in members]
    for start in range(0, len(cards), per_row):
        for column, (group, member) in zip(st.columns(per_row), cards[start:start + per_row]):
            with column.container(border=True, key=f"home-card-{member.key}"):
                st.caption(group.upper())
                page_link(member)
                st.markdown(member.blurb)
                st.caption(f"Try: {shown(member.sample)}")
