"""Error and warning boxes whose text is shown as written.

``st.error`` renders Markdown, so a server message like "must be <= 2" came out as
"must be ≤ 2", and `*`, `_` or links in a message (or in a value the user typed, quoted
back by validation) would be formatted. Every alert that can carry such text goes here.
"""
from __future__ import annotations

import re

import streamlit as st

from lib.quoting import escape_markdown

# Streamlit's Markdown turns these, standing between spaces, into arrows and symbols (it
# works on the parsed text, so escaping cannot stop it); a zero-width space after the
# operator is invisible and no longer "space", so the operator stays as typed.
_TYPOGRAPHY = re.compile(r"(<->|->|<-|--|>=|<=|~=)(?=\s|$)")
ZERO_WIDTH_SPACE = "\u200b"


def as_written(text: str) -> str:
    """Markdown source that Streamlit renders as exactly ``text``."""
    return escape_markdown(_TYPOGRAPHY.sub(r"\1" + ZERO_WIDTH_SPACE, str(text)))


def error(text: str, icon: str | None = ":material/error:") -> None:
    st.error(as_written(text), icon=icon)


def warning(text: str, icon: str | None = None) -> None:
    st.warning(as_written(text), icon=icon)
