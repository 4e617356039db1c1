"""Quoting untrusted input inside error messages, briefly.

Messages name the value they refused; a hostile file or link must not make them
megabytes long.
"""
from __future__ import annotations

from typing import Any


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def short_repr(value: Any, limit: int = 60) -> str:
    return clip(repr(value), limit)


_MARKDOWN_SPECIALS = "\\`*_[]<>#~$|"  # what formats text inside a paragraph


def escape_markdown(text: str) -> str:
    """Text that Markdown renders exactly as written (every special character escaped)."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)
