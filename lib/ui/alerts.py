"""Alert boxes whose text is shown as written.

``st.error`` renders Markdown, so a server message like "must be <= 2" came out as
"must be ≤ 2", and `*`, `_` or links in a message (or in a value the user typed, quoted
back by validation) would be formatted. Every alert that can carry such text goes here.
"""
from __future__ import annotations

import streamlit as st

from lib.ui.text import shown

MESSAGE_LIMIT = 2000  # an alert may quote a server's whole error message


def as_written(text: str) -> str:
    """Markdown source that Streamlit renders as ``text``: ``shown`` with room for a
    server's whole error message (the sidebar's key note uses it for a caption)."""
    return shown(text, MESSAGE_LIMIT)


def error(text: str, icon: str | None = ":material/error:") -> None:
    st.error(as_written(text), icon=icon)


def warning(text: str, icon: str | None = None) -> None:
    st.warning(as_written(text), icon=icon)


def success(text: str, icon: str | None = None) -> None:
    st.success(as_written(text), icon=icon)
