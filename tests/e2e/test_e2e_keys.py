"""A key goes only to the host it belongs to, seen from the browser (issue 9, items 1, 7).

One app runs with a team key in TOGETHER_API_KEY and TOGETHER_BASE_URL pointed at a
loopback stand-in for Together; two more loopback servers play Custom servers a visitor
types in. Every server records each request's headers, so "the key never went there" is
checked where it would arrive, the model listing that goes out before any click included.
(The operator's Custom switch and allowlist are checked under AppTest in
app/test_page_keys.py.)
"""
from __future__ import annotations

import json
import time
from typing import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.support.app_server import AppServer
from tests.support.browser import assert_no_exception, open_app, wait_for_app
from tests.support.canned_server import CannedServer, json_route

pytestmark = pytest.mark.e2e
TEAM_KEY = "tgp_v1_TEAM_sentinel_" + "W4" * 12
TYPED_TOGETHER = "tgp_v1_typed_for_together_" + "t" * 12
TYPED_CUSTOM = "custom-typed-key-" + "c" * 12
PASTED = "tgp_v1_pasted_after_bearer_" + "p" * 12
MODELS = json.dumps({"data": [{"id": "vendor/model-a", "object": "model"}]}).encode()


def _server() -> CannedServer:
    return CannedServer({"/v1/models": json_route(200, MODELS)})


@pytest.fixture(scope="module")
def servers():
    """Together's stand-in and two Custom servers."""
    made = {name: _server() for name in ("together", "custom", "elsewhere")}
    yield made
    for server in made.values():
        server.stop()


@pytest.fixture(scope="module")
def keys_app(servers, tmp_path_factory):
    server = AppServer("http://127.0.0.1:1/v1", tmp_path_factory.mktemp("keys-data"),
                       tmp_path_factory.mktemp("keys-log") / "streamlit.log",
                       env={"TOGETHER_API_KEY": TEAM_KEY,
                            "TOGETHER_BASE_URL": servers["together"].url + "/v1"})
    yield server
    server.stop()


def _host(server: CannedServer) -> str:
    return server.url.removeprefix("http://")


def _until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def _listed_with(server: CannedServer, authorization: str) -> Callable[[], bool]:
    return lambda: any(r.path == "/v1/models" and r.headers.get("Authorization", "") ==
                       authorization for r in server.requests)


def _headers_text(server: CannedServer) -> str:
    return json.dumps([r.headers for r in server.requests])


def _sidebar_fill(page: Page, label: str, value: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_role("textbox", name=label)
    box.fill(value)
    box.press("Enter")
    wait_for_app(page)


def _says(page: Page, words: str) -> None:
    expect(page.get_by_test_id("stSidebar").get_by_text(words, exact=True)).to_be_visible()


def _choose(page: Page, provider: str) -> None:
    page.get_by_test_id("stSidebar").get_by_text(provider, exact=True).click()
    wait_for_app(page)


def test_each_key_reaches_only_its_own_host_and_the_sidebar_says_where(keys_app, servers,
                                                                        page: Page):
    together, custom, elsewhere = servers["together"], servers["custom"], servers["elsewhere"]
    open_app(page, keys_app.url)
    _says(page, f"Key from TOGETHER_API_KEY → {_host(together)}")
    _until(_listed_with(together, f"Bearer {TEAM_KEY}"), "Together listed with the team key")

    _sidebar_fill(page, "API key", TYPED_TOGETHER)
    _says(page, f"Key typed here → {_host(together)}")

    _choose(page, "Custom")
    expect(page.get_by_test_id("stSidebar").get_by_role("textbox", name="API key")
           ).to_have_value("")
    _sidebar_fill(page, "Base URL", custom.url + "/v1")
    _says(page, f"No key is sent to {_host(custom)}")
    _until(_listed_with(custom, ""), "the Custom server's model listing, without a key")

    _sidebar_fill(page, "API key", TYPED_CUSTOM)
    _says(page, f"Key typed here → {_host(custom)}")
    _until(_listed_with(custom, f"Bearer {TYPED_CUSTOM}"), "the typed Custom key at Custom")

    _sidebar_fill(page, "Base URL", elsewhere.url + "/v1")
    _says(page, f"No key is sent to {_host(elsewhere)}")
    expect(page.get_by_test_id("stSidebar").get_by_text(
        f"The key typed for {_host(custom)} was forgotten")).to_be_visible()
    _until(_listed_with(elsewhere, ""), "the other server's model listing, without a key")

    _choose(page, "Together")
    _says(page, f"Key typed here → {_host(together)}")
    assert_no_exception(page)
    for server in (custom, elsewhere):
        seen = _headers_text(server)
        assert TEAM_KEY not in seen and TYPED_TOGETHER not in seen
    assert TYPED_CUSTOM not in _headers_text(elsewhere)
    assert TYPED_CUSTOM not in _headers_text(together)


def test_a_key_pasted_with_bearer_gets_a_sidebar_message_and_is_not_sent(keys_app, servers,
                                                                         page: Page):
    custom = servers["custom"]
    open_app(page, keys_app.url)
    _choose(page, "Custom")
    _sidebar_fill(page, "Base URL", custom.url + "/v1")
    _sidebar_fill(page, "API key", f"Bearer {PASTED}")
    expect(page.get_by_test_id("stSidebar").get_by_text(
        "The key typed here starts with 'Bearer ': paste only the key, without 'Bearer '."
    )).to_be_visible()
    assert_no_exception(page)
    _sidebar_fill(page, "API key", PASTED)  # fixed: the message goes and the key is used
    _says(page, f"Key typed here → {_host(custom)}")
    _until(_listed_with(custom, f"Bearer {PASTED}"), "the corrected key at Custom")
    assert f"Bearer {PASTED}" not in _headers_text(servers["together"])
    assert "Bearer Bearer" not in _headers_text(custom)
