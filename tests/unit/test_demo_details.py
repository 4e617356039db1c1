"""Demo details of issue 11 (items 5-7): the choices board's table, costs a reader can take
in, Compare's column headers, the one-click prompt score and Local's code snippets."""
import json
import shlex

import pyarrow as pa
import pytest

from lib.api import snippets
from lib.api.results import TokenLogprob
from lib.text import choice_board, record
from lib.ui import compare_view
from tests.support.pages import open_page

LOCAL_URL = "http://127.0.0.1:51234/v1"
BODY = {"model": "local/ngram-docs", "prompt": "Hi", "max_tokens": 8, "stream": True}


def test_the_choices_board_table_has_one_type_per_column_for_arrow():
    entries = [choice_board.Entry(0, "a b c", [TokenLogprob("a", -0.1)]),
               choice_board.Entry(1, "a b c", [TokenLogprob("a", -0.5)]),
               choice_board.Entry(2, "a x c", [TokenLogprob("a", -0.9)])]
    ref = choice_board.reference(entries)
    rows = choice_board.board_rows(choice_board.rank(entries), ref)
    pa.Table.from_pylist(rows)  # a column mixing "reference" with numbers raised ArrowTypeError
    assert [r["diverges at word"] for r in rows] == ["reference", "identical", "1"]


@pytest.mark.parametrize("usd, text", [(None, "—"), (0, "$0"), (3e-7, "< $0.000001"),
                                       (1.234e-5, "$0.000012"), (0.00345, "$0.0034"),
                                       (0.25, "$0.2500")])
def test_costs_read_as_amounts_never_as_zeros_or_exponents(usd, text):
    assert record.money(usd) == text


def test_compare_headers_name_what_differs_from_column_1():
    first = {"model": "local/ngram-docs", "temperature": 0.7, "top_k": 50}
    other = {"model": "local/ngram-code", "temperature": 1.2, "top_k": 50}
    assert compare_view.differences(other, first) == ["Temperature 1.2"]
    assert compare_view.differences_line(1, first, first) == "same parameters as column 1"
    assert compare_view.differences_line(2, other, first) == "vs column 1: Temperature 1.2"


def test_local_snippets_read_the_base_url_from_a_named_variable_not_the_port():
    code = snippets.all_snippets(LOCAL_URL, BODY, base_from_env=True)
    for text in code.values():
        assert "51234" not in text and snippets.BASE_ENV in text
    words = shlex.split(code["cURL"].replace("\\\n", " "))
    assert words[words.index("-d") + 1] == json.dumps(BODY, indent=2)
    for name in ("Python", "together SDK"):
        compile(code[name], "<snippet>", "exec")
    setup = snippets.setup(LOCAL_URL, True)
    assert f"{snippets.BASE_ENV}={LOCAL_URL}" in setup and "port changes" in setup
    assert snippets.KEY_ENV in setup
    assert "51234" in snippets.all_snippets(LOCAL_URL, BODY)["cURL"]  # Together/Custom: as is


def test_score_the_prompt_is_one_non_streamed_echo_request_with_max_tokens_1(local,
                                                                           fresh_backend):
    at = open_page("pages/1_Completions.py")
    at.text_area(key="w:completions.prompt.0").set_value("The playground streams")
    at.slider(key="w:completions.logprobs.0").set_value(2)
    at.toggle(key="w:completions.echo.0").set_value(True)
    at.run()
    at.button(key="generate").click().run()
    assert not at.exception
    assert not any("Prompt: which tokens" in m.value for m in at.markdown)
    assert any("it costs" in c.value and "1 completion token" in c.value for c in at.caption)
    fresh_backend.clear_requests()
    at.button(key="completions:score").click().run()
    assert not at.exception
    sent = [r["body"] for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]
    assert sent == [{"model": "local/ngram-docs", "prompt": "The playground streams",
                     "max_tokens": 1, "echo": True, "logprobs": 1, "stream": False}]
    assert any("Prompt: which tokens" in m.value for m in at.markdown)
