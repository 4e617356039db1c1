"""The Completions page against a server that does less than Together (issue 13 item 2):
a loopback server that answers like llama-cpp-python's, which drops ``n`` and sends one
choice per request, reached through the Custom provider.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (assert_no_exception, button, card, card_text, open_app,
                                   pick, set_number, shoot, use_custom_provider, wait_for_app)
from tests.support.llamalike_server import MODEL, LlamaLikeServer

pytestmark = pytest.mark.e2e
NOTE = "This server returned one choice per request; the 3 choices were fetched one by one."


@pytest.fixture
def llama():
    server = LlamaLikeServer(token_delay_s=0.01)
    yield server
    server.stop()


def test_n3_fills_three_cards_from_a_server_that_drops_n(app_server, page, llama,
                                                         screenshot_dir):
    open_app(page, app_server.url, "Completions")
    use_custom_provider(page, llama.base_url, "llamalike-test-key-0000")
    pick(page, "Model", MODEL)
    set_number(page, "Completions (n)", 3, tab="Output")
    set_number(page, "Max tokens", 12, tab="Output")
    page.get_by_label("Prompt", exact=True).fill("Once upon a time")
    button(page, "Generate").click()
    for i in range(3):
        expect(card(page, i)).to_contain_text(re.compile(r"· length ·"), timeout=30_000)
    expect(button(page, "Generate")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    for i in range(3):
        assert len(card_text(page, i).split()) == 12  # every word the server sent
    expect(card(page, 3)).to_have_count(0)
    expect(page.get_by_text(NOTE)).to_be_visible()
    assert sorted(body.get("n") for body in llama.requests if "prompt" in body) == [1, 1, 3]
    assert_no_exception(page)
    shoot(page, screenshot_dir / "completions_compat_n3.png")
