"""A failed run, or a failed model list, says what happened (issue 11 item 4), under AppTest
over real HTTP: the local backend, and a canned server whose model list fails."""
from __future__ import annotations

import pytest

from tests.support.canned_server import json_route
from tests.support.pages import open_page
from tests.support.shown import shown

COMPLETIONS = "pages/1_Completions.py"
CONTEXT_WORDS = ("prompt + Max tokens is longer than the model's context (4096 tokens): "
                 "lower Max tokens or shorten the prompt")
NO_LIST = "Could not list models"


def _over_the_context(at) -> None:
    at.text_area(key="w:completions.prompt.0").set_value("Hello")
    at.number_input(key="w:completions.max_tokens.0").set_value(100000)
    at.run()
    assert not at.exception, at.exception


def _texts(elements) -> list[str]:
    return [shown(e) for e in elements]


def test_max_tokens_100000_on_local_is_refused_for_the_context_not_permission(local):
    at = open_page(COMPLETIONS)
    _over_the_context(at)
    at.button(key="generate").click().run()
    errors = _texts(at.error)
    assert any(CONTEXT_WORDS in e for e in errors), errors
    assert not any("Permission denied" in e or "key may lack access" in e for e in errors)
    assert [r["body"]["max_tokens"] for r in local.requests_seen
            if r["path"].endswith("/completions")] == [100000]


def test_a_request_over_the_listed_context_is_warned_of_before_sending(local):
    at = open_page(COMPLETIONS)
    at.text_area(key="w:completions.prompt.0").set_value("Hello").run()
    assert not any("context" in w for w in _texts(at.warning))
    _over_the_context(at)
    warnings = [w for w in _texts(at.warning) if "context" in w]
    assert warnings == ["Likely to be refused: prompt (about 2 tokens) + Max tokens (100,000) "
                        "is longer than the model's context (4096 tokens): lower Max tokens "
                        "or shorten the prompt."]
    assert not any(r["path"].endswith("/completions") for r in local.requests_seen)


@pytest.fixture
def failing_list(canned, monkeypatch):
    """A provider whose model list fails, counting its requests; the pages use it as Local."""
    server = canned({"/v1/models": json_route(404, b'{"detail": "Not Found"}')})
    monkeypatch.setenv("PLAYGROUND_LOCAL_BACKEND_URL", server.url + "/v1")
    return server


def _list_requests(server) -> int:
    return sum(r.path == "/v1/models" for r in server.requests)


def _list_warnings(at) -> list[str]:
    return [w for w in _texts(at.warning) if w.startswith(NO_LIST)]


def test_a_failed_model_list_is_said_once_and_not_refetched_until_retry(failing_list):
    at = open_page(COMPLETIONS)
    assert len(_list_warnings(at)) == 1, _texts(at.warning)
    fetched = _list_requests(failing_list)
    assert fetched >= 1
    at.text_area(key="w:completions.prompt.0").set_value("Hello").run()
    at.number_input(key="w:completions.max_tokens.0").set_value(20).run()
    assert _list_requests(failing_list) == fetched      # the failure is remembered
    assert len(_list_warnings(at)) == 1
    at.button(key="model_picker:retry").click().run()
    assert _list_requests(failing_list) > fetched        # Retry asks again
    assert len(_list_warnings(at)) == 1


def test_compare_says_a_failed_model_list_once_for_all_its_columns(failing_list):
    at = open_page("pages/3_Compare.py")
    assert len(_list_warnings(at)) == 1, _texts(at.warning)


def test_compare_warns_only_the_column_over_the_context(local):
    at = open_page("pages/3_Compare.py")
    at.text_area(key="w:compare.prompt.0").set_value("Hello").run()
    assert not any("context" in w for w in _texts(at.warning))
    next(w for w in at.number_input
         if w.key.startswith("w:compare-col1.max_tokens.")).set_value(100000).run()
    assert not at.exception, at.exception
    assert [w for w in _texts(at.warning) if "context" in w] == [
        "Likely to be refused: prompt (about 2 tokens) + Max tokens (100,000) is longer than "
        "the model's context (4096 tokens): lower Max tokens or shorten the prompt."]
