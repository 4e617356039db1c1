"""A share link's settings outlive a switch of provider: the Completions page opened on a
link, then pointed at another server through the Custom provider (here the local backend
again, at its own URL), sends every parameter the link set.

The Custom provider draws no page until its base URL is typed, so each widget is absent
for a run or two; the stop sequences' text area then came back empty from the browser
(found by the llama.cpp compatibility suite).
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from lib.saved.sharelink import encode_state
from tests.support.browser import (assert_no_exception, button, card, open_app,
                                   use_custom_provider, wait_for_app)

pytestmark = pytest.mark.e2e
LINKED = {"prompt": "Once upon a time", "model": "local/ngram-docs", "max_tokens": 7,
          "stop": ["zq", "\n\n"], "temperature": 0.3, "seed": 11, "logit_bias": {"5": -3.0},
          "echo": True, "stream": False}


def test_a_links_parameters_survive_a_switch_to_custom(app_server, page, fresh_backend):
    state = {"page": "completions", "values": LINKED}
    open_app(page, app_server.url, f"Completions?{urlencode(encode_state(state))}")
    use_custom_provider(page, fresh_backend.base_url, "link-test-key-0000")
    page.get_by_role("tab", name="Output").click()
    expect(page.get_by_label("Stop sequences", exact=True)).to_have_value("zq\n\\n\\n")
    button(page, "Generate").click()
    expect(card(page)).to_contain_text("·", timeout=60_000)
    wait_for_app(page)
    # By its prompt: an earlier test's stopped run may still be landing its last requests.
    [sent] = [r for r in fresh_backend.requests_seen if r["path"].endswith("/completions")
              and r["body"].get("prompt") == LINKED["prompt"]]
    assert sent["has_auth"]  # it went through the Custom provider, with its key
    assert {k: sent["body"].get(k) for k in LINKED} == LINKED
    assert_no_exception(page)
