"""The home page's regions: the connection in one line, a card per page, the model table.

The cards come from ``lib.page_registry``, so a new page gets its card (and its place in
the navigation) from its registry entry alone.

The model table is Markdown, not ``st.dataframe``: a dataframe imports pandas and pyarrow
(about a second of CPU and 60 MB), which the first page a user opens should not pay
(issue 14).
"""
from __future__ import annotations

import math

import streamlit as st

from lib import connection
from lib.api.results import ModelInfo
from lib.connection import Connection
from lib.page_registry import grouped
from lib.ui.shell import page_link
from lib.ui.text import markdown_table, shown


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


MODEL_COLUMNS = ("id", "type", "name", "context", "input $/1M", "output $/1M")
TABLE_HEIGHT = 420   # px: a long list (Together lists hundreds) scrolls inside this
SCROLL_AFTER = 10    # rows a table shows at full length


def _number(value: float | int | None) -> str:
    """A count or price as text; "–" when the listing had none or sent a non-number
    (Infinity, NaN)."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:g}"


def model_rows(models: list[ModelInfo]) -> str:
    """The models as a Markdown table, every value from the server through ``shown``."""
    return markdown_table(MODEL_COLUMNS, [
        (shown(m.id), shown(m.type), shown(m.display_name), _number(m.context_length),
         _number(m.input_price), _number(m.output_price)) for m in models])


def model_table(models: list[ModelInfo]) -> None:
    """The connection's models, scrolling in a box of its own once the list is long."""
    box = st.container(height=TABLE_HEIGHT if len(models) > SCROLL_AFTER else "content",
                       key="home-models")
    box.markdown(model_rows(models))
