"""Which key the pages send where (issue 9, items 1, 2, 7): the home page and presenter mode
under AppTest against loopback servers that record every request's headers, so a key that
leaks is a key that arrived. The pure rules are checked on lib.connection in
unit/test_connection.py.
"""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from lib.connection import CUSTOM, LOCAL, TOGETHER, origin
from tests.support.app_server import ROOT
from tests.support.canned_server import CannedServer, json_route
from tests.support.shown import shown

TEAM_KEY = "tgp_v1_TEAM_sentinel_" + "Q9" * 10
TYPED_TOGETHER = "tgp_v1_typed_for_together_" + "x" * 10
TYPED_CUSTOM = "custom-typed-key-" + "y" * 10
MODELS = json.dumps({"data": [{"id": "vendor/model-a", "object": "model"}]}).encode()


# ------------------------------------------------------------------ the pages, over HTTP

@pytest.fixture
def servers():
    """A stand-in for Together and a Custom server, both recording every request."""
    made = [CannedServer({"/v1/models": json_route(200, MODELS)}) for _ in range(2)]
    yield made
    for server in made:
        server.stop()


def _authorizations(server: CannedServer) -> list[str]:
    return [r.headers.get("Authorization", "") for r in server.requests]


def _key_field(at: AppTest):
    """The sidebar's key field, whichever provider it belongs to."""
    return next(t for t in at.sidebar.text_input if t.label == "API key")


def _app(page: str, monkeypatch, together: CannedServer, state: dict | None = None,
         env: dict | None = None) -> AppTest:
    monkeypatch.setenv("TOGETHER_API_KEY", TEAM_KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", together.url + "/v1")
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(ROOT / page), default_timeout=30)
    for name, value in (state or {}).items():
        at.session_state[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_choosing_custom_on_the_home_page_sends_the_team_key_nowhere_but_together(
        monkeypatch, servers):
    together, custom = servers
    at = _app("playground.py", monkeypatch, together)
    assert _authorizations(together) == [f"Bearer {TEAM_KEY}"]
    _key_field(at).set_value(TYPED_TOGETHER).run()
    at.radio(key="w:provider").set_value(CUSTOM).run()
    at.text_input(key="w:custom_base_url").set_value(custom.url + "/v1").run()
    assert not at.exception, at.exception
    assert custom.requests, "the model listing went to the Custom server"
    assert _authorizations(custom) == [""] * len(custom.requests)
    assert any(f"No key is sent to 127.0.0.1:{custom.url.rsplit(':', 1)[1]}" in shown(c)
               for c in at.sidebar.caption)


def test_presenter_mode_follows_the_same_rule(monkeypatch, servers):
    together, custom = servers
    url = custom.url + "/v1"
    _app("pages/6_Presenter.py", monkeypatch, together,
         {"provider": CUSTOM, "custom_base_url": url, "api_key": TYPED_TOGETHER})
    assert custom.requests and _authorizations(custom) == [""] * len(custom.requests)
    custom.requests.clear()
    _app("pages/6_Presenter.py", monkeypatch, together,
         {"provider": CUSTOM, "custom_base_url": url, "custom_api_key": TYPED_CUSTOM,
          "custom_api_key_for": origin(url)})
    assert _authorizations(custom) == [f"Bearer {TYPED_CUSTOM}"] * len(custom.requests)


def test_a_custom_url_off_the_allowlist_is_refused_before_any_request(monkeypatch, servers):
    together, custom = servers
    listed = together.url + "/v1"
    at = _app("playground.py", monkeypatch, together,
              env={"PLAYGROUND_CUSTOM_BASE_URLS": listed})
    at.radio(key="w:provider").set_value(CUSTOM).run()
    at.text_input(key="w:custom_base_url").set_value(custom.url + "/v1").run()
    assert any("not on PLAYGROUND_CUSTOM_BASE_URLS" in shown(e) and listed in shown(e)
               for e in at.sidebar.error)
    assert custom.requests == []
    before = len(together.requests)
    at.text_input(key="w:custom_base_url").set_value(listed).run()
    assert not at.sidebar.error and len(together.requests) > before


def test_custom_switched_off_is_not_offered(monkeypatch, servers):
    together, _ = servers
    at = _app("playground.py", monkeypatch, together, {"provider": CUSTOM},
              env={"PLAYGROUND_CUSTOM": "off"})
    assert list(at.radio(key="w:provider").options) == [LOCAL, TOGETHER]
    assert at.radio(key="w:provider").value == TOGETHER


def test_a_bearer_pasted_key_gets_a_message_in_the_sidebar_and_nothing_is_sent(
        monkeypatch, servers):
    together, custom = servers
    at = _app("playground.py", monkeypatch, together,
              {"provider": CUSTOM, "custom_base_url": custom.url + "/v1"})
    custom.requests.clear()
    _key_field(at).set_value("Bearer " + TYPED_CUSTOM).run()
    assert not at.exception, at.exception
    assert any("without 'Bearer '" in shown(e) for e in at.sidebar.error)
    assert custom.requests == []
