"""Every fault the issue lists, injected by the local backend and watched in Chromium.

For each case the page must say what happened and what to do, keep what arrived, record
the run as failed in the history, and let the next run work. The session's summary prints
the table of cases with their real outcomes (conftest's ``pytest_terminal_summary``).

The app here has its own data folder (to read its history) and a 2 s read timeout
(PLAYGROUND_TIMEOUT), so "a first byte that never comes" is seen in seconds, not minutes.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from lib.local_backend import LocalBackend
from lib.saved.history import FAILED, OK, History
from lib.saved.sharelink import encode_state
from lib.ui.text import ZERO_WIDTH_SPACE
from tests.support.app_server import AppServer
from tests.support.browser import (assert_no_exception, button, card, card_text, open_app,
                           shoot, small_image_batch, wait_for_app)
from tests.support.cases import CASE_PROPERTY

pytestmark = pytest.mark.e2e
READ_TIMEOUT_S = "2"
ENDED = re.compile(r"· (length|eos|stop) ·")
# Completions through a share link that bans end-of-text (token 0): the local model's text
# is random, and "the next run works" once failed on a run that ended before its first word.
NO_EOS_COMPLETIONS = "Completions?" + urlencode(encode_state(
    {"page": "completions", "values": {"logit_bias": {"0": -100.0}}}))


@pytest.fixture(autouse=True)
def _name_the_case(request):
    """Named before setup ends, so a case whose setup fails is still in the table."""
    request.node.user_properties.append((CASE_PROPERTY, f"fault: {request.node.callspec.id}"))


@pytest.fixture(scope="module")
def fault_app(backend, tmp_path_factory):
    data = tmp_path_factory.mktemp("faults-data")
    server = AppServer(backend.base_url, data, data / "streamlit.log",
                       env={"PLAYGROUND_TIMEOUT": READ_TIMEOUT_S})
    server.data_dir = data
    yield server
    server.stop()


def _last_run(data_dir, page_name: str, marker: str):
    runs = [r for r in History(data_dir / "history.db").list(search=marker)
            if r.page == page_name]
    assert runs, f"no {page_name} run with {marker!r} in the history"
    return max(runs, key=lambda r: r.id)


def _completion(page: Page, prompt: str) -> None:
    box = page.get_by_label("Prompt", exact=True)
    box.fill(prompt)
    button(page, "Generate").click()


def _run_ended(page: Page) -> None:
    expect(button(page, "Generate")).to_be_visible(timeout=60_000)
    wait_for_app(page)


def _completions_sent(backend) -> list[dict]:
    return [r for r in backend.requests_seen if r["path"].endswith("/completions")]


def _next_run_works(page: Page, data_dir, marker: str) -> None:
    _completion(page, f"{marker} again")
    expect(card(page)).to_contain_text(ENDED, timeout=60_000)   # it showed "error" before
    _run_ended(page)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    assert card_text(page).strip()
    assert _last_run(data_dir, "completions", f"{marker} again").status == OK


# (id, fault, words the message must hold, text kept?, requests the client sends)
STREAM_CASES = [
    ("401", {"kind": "status", "status": 401, "message": "bad key"},
     ["Invalid API key", "enter a valid key"], False, 1),
    ("403", {"kind": "status", "status": 403, "message": "no access to this model"},
     ["Permission denied", "no access to this model"], False, 1),
    ("404", {"kind": "status", "status": 404, "message": "model 'x/y' does not exist"},
     ["Not found", "does not exist", "Check the model id"], False, 1),
    # Markdown specials and " <= " (which Streamlit typesets as "≤") must show as sent.
    ("400", {"kind": "status", "status": 400, "message": "temperature: must be <= 2 *not* _1_"},
     ["Invalid request", "temperature: must be <= 2 *not* _1_"], False, 1),
    ("422", {"kind": "status", "status": 422, "message": "stop: too many sequences"},
     ["Invalid request", "stop: too many sequences"], False, 1),
    ("429 keeps failing", {"kind": "status", "status": 429, "retry_after": 0.2, "times": 3},
     ["Rate limited", "Wait a moment"], False, 3),
    ("500 retried", {"kind": "status", "status": 500, "times": 3},
     ["Server error", "try again"], False, 3),
    ("503 retried", {"kind": "status", "status": 503, "times": 3},
     ["Server error", "try again"], False, 3),
    # Sent once: the server may still be generating, so a resend could be billed twice.
    ("first byte never comes", {"kind": "slow_first_byte", "seconds": 8},
     ["Timed out", f"No answer within {READ_TIMEOUT_S} s", "PLAYGROUND_TIMEOUT"], False, 1),
    ("dropped after 8 tokens", {"kind": "drop_after", "tokens": 8},
     ["The stream broke off", "text received so far is kept"], True, 1),
    ("error chunk mid-stream", {"kind": "error_chunk", "after": 8, "message": "overloaded"},
     ["overloaded", "text received so far is kept"], True, 1),
    ("malformed chunk", {"kind": "malformed_chunk", "after": 8},
     ["malformed chunk", "text received so far is kept"], True, 1),
]


@pytest.mark.parametrize("fault, words, partial, sent",
                         [pytest.param(*c[1:], id=c[0]) for c in STREAM_CASES])
def test_completion_fault(fault_app, browser, fresh_backend, screenshot_dir, request,
                          fault, words, partial, sent):
    marker = f"fault-{request.node.callspec.id.replace(' ', '-')}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_app(page, fault_app.url, NO_EOS_COMPLETIONS)
        fresh_backend.add_fault({"path": "completions", **fault})
        fresh_backend.clear_requests()
        _completion(page, f"{marker} The playground")
        alert = page.get_by_test_id("stAlertContentError")
        expect(alert).to_be_visible(timeout=60_000)
        _run_ended(page)
        shown = alert.inner_text().replace(ZERO_WIDTH_SPACE, "")
        for word in words:
            assert word in shown, shown
        kept = card_text(page)
        assert bool(kept.strip()) == partial, kept
        assert len(_completions_sent(fresh_backend)) == sent
        assert_no_exception(page)
        shoot(page, screenshot_dir / f"fault_{marker}.png")

        row = _last_run(fault_app.data_dir, "completions", marker)
        assert row.status == FAILED and words[0].lower() in row.error.lower(), row.error
        assert (row.outputs[0]["text"] if row.outputs else "") == kept  # nothing lost

        assert fresh_backend.faults.pending() == []          # every injected use was hit
        _next_run_works(page, fault_app.data_dir, marker)
    finally:
        context.close()


@pytest.mark.parametrize("case", ["429 then success"])
def test_rate_limit_retried_then_succeeding(fault_app, page, fresh_backend, case):
    open_app(page, fault_app.url, NO_EOS_COMPLETIONS)
    fresh_backend.add_fault({"kind": "status", "status": 429, "retry_after": 0.5, "times": 2,
                             "path": "completions"})
    fresh_backend.clear_requests()
    _completion(page, "fault-429-ok The playground")
    _run_ended(page)
    expect(card(page)).to_contain_text(ENDED)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    assert card_text(page).strip()
    assert len(_completions_sent(fresh_backend)) == 3
    row = _last_run(fault_app.data_dir, "completions", "fault-429-ok")
    assert row.status == OK and row.outputs[0]["text"] == card_text(page)


@pytest.mark.parametrize("case", ["backend goes away between runs"])
def test_backend_going_away_between_runs(browser, tmp_path, screenshot_dir, case):
    own = LocalBackend(port=0, tokens_per_second=0).start()
    port = own.port
    server = AppServer(own.base_url, tmp_path, tmp_path / "streamlit.log")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_app(page, server.url, "Completions")
        _completion(page, "gone-first The playground")
        _run_ended(page)
        expect(card(page)).to_contain_text(ENDED)
        first = card_text(page)
        own.stop()
        _completion(page, "gone-second The playground")
        alert = page.get_by_test_id("stAlertContentError")
        expect(alert).to_be_visible(timeout=60_000)
        _run_ended(page)
        expect(alert).to_contain_text("Could not reach the server")
        expect(alert).to_contain_text("Check the base URL")
        assert first.strip()
        assert_no_exception(page)
        shoot(page, screenshot_dir / "fault_backend_gone.png")
        row = _last_run(tmp_path, "completions", "gone-second")
        assert row.status == FAILED and "Could not reach" in row.error

        own = LocalBackend(port=port, tokens_per_second=0).start()   # back on the same URL
        _next_run_works(page, tmp_path, "gone-third")
    finally:
        context.close()
        server.stop()
        own.stop()


IMAGE_CASES = [
    ("image URL 404s", {"kind": "status", "status": 404, "path": "image_file"}, "HTTP 404"),
    ("image URL is not an image", {"kind": "not_image", "path": "image_file"}, "not"),
    ("image URL is a decompression bomb", {"kind": "bomb", "path": "image_file"}, "pixels"),
]


@pytest.mark.parametrize("fault, words", [pytest.param(*c[1:], id=c[0]) for c in IMAGE_CASES])
def test_image_url_fault(fault_app, browser, fresh_backend, screenshot_dir, request,
                         fault, words):
    marker = f"imgfault-{request.node.callspec.id.replace(' ', '-')}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_app(page, fault_app.url, "Images")
        small_image_batch(page, f"{marker} a lighthouse", 2)
        page.get_by_test_id("stButtonGroup").filter(has_text="Response format") \
            .get_by_text("url", exact=True).click()
        wait_for_app(page)
        fresh_backend.add_fault(fault)
        page.get_by_role("button", name=re.compile("Generate images")).click()
        expect(page.get_by_text("1 of 2 images")).to_be_visible(timeout=60_000)
        wait_for_app(page)
        tiles = page.get_by_test_id("stImage").filter(has_text=re.compile(r"seed \d+"))
        expect(tiles).to_have_count(1)                       # the image that arrived is kept
        message = page.get_by_test_id("stAlertContentError").filter(has_text="Image")
        expect(message.first).to_contain_text(words)
        assert_no_exception(page)
        shoot(page, screenshot_dir / f"fault_{marker}.png")
        row = _last_run(fault_app.data_dir, "images", marker)
        # A failed image fails the run; the image that arrived is kept in the record too.
        assert row.status == FAILED and words.lower() in row.error.lower(), row.error
        assert len(row.outputs) == 1

        page.get_by_role("button", name=re.compile("Generate images")).click()
        expect(page.get_by_text("2 of 2 images")).to_be_visible(timeout=60_000)
        wait_for_app(page)
        expect(tiles).to_have_count(2)
    finally:
        context.close()
