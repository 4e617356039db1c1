"""Lab templates: placeholders, literal braces, the variables found, and bad braces named."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.lab import template as t

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


def test_placeholders_are_filled_and_doubled_braces_are_literal():
    tmpl = t.parse('Answer {question} as JSON like {{"a": {n}}}; again: {question}')
    assert tmpl.variables == ("question", "n")
    assert tmpl.render({"question": "why?", "n": 2}) == 'Answer why? as JSON like {"a": 2}; again: why?'


@pytest.mark.parametrize("text, where", [
    ("a { b", "lone { at character 3"), ("a } b", "lone } at character 3"),
    ("{1x}", "lone { at character 1"), ("{a.b}", "character 1"), ("{a:>3}", "character 1"),
    ("{}", "character 1"), ("x {name", "character 3")])
def test_a_bad_brace_is_named_with_its_position_and_the_fix(text, where):
    with pytest.raises(t.TemplateError, match=where) as info:
        t.parse(text)
    assert "{{" in str(info.value) or "}}" in str(info.value)


def test_a_row_without_a_variable_is_refused_by_name():
    with pytest.raises(t.TemplateError, match=r"\{city\}"):
        t.parse("{name} in {city}").render({"name": "x"})


def test_templates_are_bounded():
    with pytest.raises(t.TemplateError, match="at most"):
        t.parse("x" * (t.MAX_TEMPLATE_CHARS + 1))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_escaped_is_a_template_that_renders_to_itself(text):
    tmpl = t.parse(t.escape(text))
    assert tmpl.variables == () and tmpl.render({}) == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(), NAMES.map(t.Var)), max_size=8),
       st.dictionaries(NAMES, st.text(), max_size=5))
def test_parts_written_out_parse_back_and_render_like_str_format(parts, extra):
    text = "".join(t.escape(p) if isinstance(p, str) else "{" + p.name + "}" for p in parts)
    tmpl = t.parse(text)
    names = [p.name for p in parts if isinstance(p, t.Var)]
    assert tmpl.variables == tuple(dict.fromkeys(names))
    values = {**extra, **{n: f"<{n}>" for n in names}}
    assert tmpl.render(values) == text.format(**values)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}ab_1 ", max_size=20))
def test_any_text_either_parses_or_says_where_it_breaks(text):
    try:
        tmpl = t.parse(text)
    except t.TemplateError as exc:
        assert "character" in str(exc)
    else:
        assert tmpl.render({v: "" for v in tmpl.variables}) == text.format(
            **{v: "" for v in tmpl.variables})
