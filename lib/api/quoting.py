"""Quoting untrusted input inside error messages, briefly.

Messages name the value they refused; a hostile file or link must not make them
megabytes long.
"""
from __future__ import annotations

import string
from typing import Any


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def short_repr(value: Any, limit: int = 60) -> str:
    return clip(repr(value), limit)


# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it leaves no
# construct to start (links, HTML, emphasis, lists, entities, tables, math, directives).
_ESCAPED = {ord(ch): "\\" + ch for ch in string.punctuation}


def escape_markdown(text: str) -> str:
    """Text that Markdown renders exactly as written (every punctuation character escaped)."""
    return text.translate(_ESCAPED)
