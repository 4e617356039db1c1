"""Alert text is escaped so Markdown shows it exactly as the server or the user wrote it."""
import re

from lib.api.quoting import clip, escape_markdown, short_repr


def test_markdown_specials_are_escaped_and_nothing_else_changes():
    text = "must be <= 2 *not* _1_ [x](y) `code` #tag ~s~ $x$ a|b \\ 1. ok: fine"
    escaped = escape_markdown(text)
    assert re.sub(r"\\(.)", r"\1", escaped) == text
    for special in "<*_[`#~$|":
        assert special not in re.sub(r"\\.", "", escaped)


def test_quoted_values_are_clipped():
    assert clip("x" * 500) == "x" * 197 + "..."
    assert short_repr("y" * 100) == repr("y" * 100)[:57] + "..."
