"""``shown``: any value from outside renders as its own text, never as markup.

Rendered with markdown-it (CommonMark plus GFM tables and strikethrough), the output must
be one plain paragraph whose text is the value; and the text must give none of the
rewrites Streamlit's renderer makes on parsed text (found in its bundle: GFM bare links
and e-mail addresses, emoji and icon shortcodes, arrows and symbols) a place to start.
"""
from __future__ import annotations

import html
import re

from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from lib.ui.text import LIMIT, ZERO_WIDTH_SPACE, shown

MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Streamlit's rewrites of parsed text; a match in the rendered text would be rewritten.
TEXT_REWRITES = {
    "typography": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
    "emoji or icon": re.compile(r":[\w+-]+[:/]"),
    "directive": re.compile(r":[a-z]"),
    "bare link": re.compile(r"(?i)(\w+://|www\.)"),
    "e-mail link": re.compile(r"[-.+\w]+@[-\w]+"),
}
PAYLOAD = ("[Session expired – sign in](http://127.0.0.1:9/phish) ![x](http://127.0.0.1:9/p.png)"
           " <img src=http://127.0.0.1:9/h.png> a@b.co WWW.x.org :smile: :red[x] "
           ":material/home: $x$ `c` &amp; -> <= **b** ~~s~~ | a | 1. \\")
SPECIALS = st.sampled_from(list("\\`*_{}[]()#+-.!<>&|~$:@=\"'%^;?/,\n\t\r ")
                           + ["http://", "www.", "->", "<=", "--", ":smile:", "&amp;",
                              "![x](y)", "[a](b)", "<b>", "    ", "\n\n", "1. ", "- "])
TEXT = st.lists(st.one_of(st.text(max_size=8), SPECIALS), max_size=40).map("".join)


def rendered(value) -> str:
    """The text markdown-it renders from ``shown(value)``, failing on any element."""
    out = MARKDOWN.render(shown(value))
    match = re.fullmatch(r"(?:<p>([^<]*)</p>\n)?", out)
    assert match, f"markup in {out!r}"
    return html.unescape(match.group(1) or "")


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_any_text_renders_as_itself(value):
    text = rendered(value)
    assert text.replace(ZERO_WIDTH_SPACE, "") == CONTROLS.sub(" ", value).strip().replace(
        ZERO_WIDTH_SPACE, "")
    for name, pattern in TEXT_REWRITES.items():
        assert not pattern.search(text), f"{name} would rewrite {text!r}"


@given(st.integers() | st.floats() | st.none() | st.booleans())
def test_non_text_values_render_as_their_str(value):
    assert rendered(value).replace(ZERO_WIDTH_SPACE, "") == str(value)


def test_a_link_an_image_and_html_stay_text():
    text = rendered(PAYLOAD)
    assert text.replace(ZERO_WIDTH_SPACE, "") == PAYLOAD
    assert "http:" + ZERO_WIDTH_SPACE + "//" in text


def test_long_values_are_cut_and_lone_surrogates_replaced():
    assert rendered("x" * (LIMIT * 3)) == "x" * (LIMIT - 3) + "..."
    assert rendered("a\ud800b") == "a\ufffdb"
    shown("a\ud800b").encode("utf-8")  # Streamlit's protobuf can send it


def test_line_breaks_do_not_start_blocks():
    assert rendered("a\n# h\n- l\n1. o\n    c\n\n> q\n===") == "a # h - l 1. o     c > q ==="
