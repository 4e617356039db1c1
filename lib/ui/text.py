"""Values from outside, put into Markdown so that Streamlit shows them as plain text.

Nearly every Streamlit element renders Markdown: markdown, caption, headers, alerts, widget
labels and ``help`` tooltips, metric labels and values, expander and tab labels, image
captions, progress text. A server's finish reason, a model id from a link or a preset's
name written there as it came becomes a link to click or an image the browser fetches.
``shown`` is the one way a value that is not a literal of ours goes into any of them.
(Table cells, selectbox options and ``st.text``/``st.code``/``st.json`` are plain text
already; model output goes through ``stream_view.text_html``.)

Escaping every ASCII punctuation character stops links, images, HTML, emphasis, code,
headings, lists, tables, math and Streamlit's ``:red[...]`` directives. Some rewrites run on
the parsed text, where an escape no longer counts: GFM links bare ``http://…``, ``www.…``
and e-mail addresses, ``:name:`` becomes an emoji or icon, and `` -> `` an arrow. An
invisible zero-width space after the ``:``, ``@``, ``www`` or operator breaks each pattern.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

from lib.api import untrusted
from lib.api.quoting import clip, escape_markdown

LIMIT = 500  # characters of one value; a page line, not a document
ZERO_WIDTH_SPACE = "\u200b"
# Line breaks would end a paragraph (then "- x" is a list, "    x" code): all controls
# become spaces.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Streamlit's arrows and symbols: an operator standing between spaces (or at the end).
_TYPOGRAPHY = re.compile(r"(<->|->|<-|--|>=|<=|~=)(?=\s|$)")
# Bare URLs ("http:", any scheme), e-mail addresses, "www." hosts, ":emoji:" and
# ":material/icon:" all start at one of these.
_PATTERN_STARTS = re.compile(r"[:@](?=\S)|(?i:www)(?=\.)")


def shown(value: Any, limit: int = LIMIT) -> str:
    """Markdown source that Streamlit renders as ``value``'s text, on one line and at most
    ``limit`` characters long (longer text is cut and ends in "...")."""
    text = clip(untrusted.text(value), limit)  # lone surrogates: Streamlit cannot send them
    text = _CONTROLS.sub(" ", text).strip()
    text = _TYPOGRAPHY.sub(r"\1" + ZERO_WIDTH_SPACE, text)
    text = _PATTERN_STARTS.sub(lambda m: m.group(0) + ZERO_WIDTH_SPACE, text)
    return escape_markdown(text)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table of cells that are Markdown already (``shown`` text, or literals
    of ours): a read-only table without ``st.dataframe``, which imports pandas and pyarrow
    (about a second of server CPU and 60-90 MB, issue 14)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
