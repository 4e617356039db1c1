"""The key stays secret and markup stays text, checked across every feature in Chromium.

One app of our own (its own data folder and log) is driven through completions (streamed
and whole), images and their downloads, compare, sweep, history, presets export, a share
link, the code view and an error whose server message echoes the key; then every place a
key could leak is searched for it. A second test feeds HTML and script through prompts and
model output on every page and checks in the browser that none of it ran.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lib.api import Client, TogetherError
from tests.support.app_server import AppServer
from tests.support.browser import (assert_no_exception, button, card, card_text, fill, go_to,
                           open_app, shoot, small_image_batch, toggle, use_custom_provider,
                           wait_for_app)
from tests.support.canned_server import CannedServer

pytestmark = pytest.mark.e2e
KEY = "tgp_v1_SENTINEL_k3y_" + "Zq7" * 12
PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
MARKER = "sec-run"


def _visible_source(page: Page) -> str:
    """The page's DOM as HTML, minus the one field the user typed the key into (React
    mirrors a controlled input's value into its attribute)."""
    return page.evaluate("""() => {
        const copy = document.documentElement.cloneNode(true);
        copy.querySelectorAll('input[type=password]').forEach(e => e.remove());
        return copy.outerHTML;
    }""")


def _download(page: Page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def _read_files(app, seen: dict, when: str) -> None:
    for path in [app.log_path, *sorted(app.data_dir.rglob("*"))]:
        if path.is_file():
            seen[f"{when} file {path.name}"] = path.read_bytes()


@pytest.fixture
def own_app(backend, tmp_path):
    data = tmp_path / "data"
    server = AppServer(backend.base_url, data, tmp_path / "streamlit.log")
    server.data_dir, server.log_path = data, tmp_path / "streamlit.log"
    yield server
    server.stop()


def test_the_key_is_in_no_log_file_link_snippet_message_or_page(own_app, browser,
                                                                fresh_backend, tmp_path,
                                                                screenshot_dir):
    seen: dict[str, str | bytes] = {}
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_app(page, own_app.url, "Completions")
        use_custom_provider(page, fresh_backend.base_url, KEY)
        fresh_backend.clear_requests()

        # a streamed completion with logprobs, then a whole one
        fill(page, "Prompt", f"{MARKER} The playground")
        page.get_by_role("tab", name="Output").click()
        box = page.get_by_label("Max tokens", exact=True)
        box.fill("24")
        box.press("Enter")
        wait_for_app(page)
        button(page, "Generate").click()
        expect(card(page)).to_contain_text(re.compile(r"· (length|eos|stop) ·"),
                                           timeout=60_000)
        wait_for_app(page)
        seen["completions page"] = _visible_source(page)
        toggle(page, "Output", "Stream")
        button(page, "Generate").click()
        expect(card(page)).to_contain_text(re.compile(r"· (length|eos|stop) ·"),
                                           timeout=60_000)
        wait_for_app(page)

        # the code view and a share link
        page.get_by_text("View as code").click()
        wait_for_app(page)
        expect(page.get_by_test_id("stCode").first).to_contain_text(re.compile("curl|requests"))
        # text_content, not inner_text: the snippets in the hidden tabs count too
        seen["code view"] = "\n".join(page.get_by_test_id("stCode").all_text_contents())
        assert "curl" in seen["code view"] or "requests" in seen["code view"]
        button(page, "Copy link").click()
        wait_for_app(page)
        seen["share link"] = page.locator(".st-key-completions-share-link code").inner_text()
        assert "s=" in seen["share link"]

        # an error whose server message echoes the key back
        fresh_backend.add_fault({"kind": "status", "status": 400, "path": "completions",
                                 "message": f"bad request from key {KEY}"})
        button(page, "Generate").click()
        alert = page.get_by_test_id("stAlertContentError").filter(has_text="Invalid request")
        expect(alert).to_be_visible(timeout=60_000)
        wait_for_app(page)
        seen["error message"] = alert.inner_text()
        assert "bad request from key" in seen["error message"]
        seen["completions page after error"] = _visible_source(page)

        # presets: save one, export the file
        page.get_by_text("Presets", exact=True).first.click()
        fill(page, "Name", "sec preset")
        button(page, "Save as…").click()
        wait_for_app(page)
        seen["presets export"] = _download(page, page.get_by_test_id("stDownloadButton")
                                           .filter(has_text="Export my presets"))

        # compare and sweep
        go_to(page, "Compare")
        fill(page, "Prompt", f"{MARKER} compare")
        button(page, "Compare").click()
        expect(button(page, "Compare")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(re.compile(r"^TTFT \d+ ms · "))).to_have_count(3,
                                                                              timeout=60_000)
        seen["compare page"] = _visible_source(page)
        go_to(page, "Sweep")
        fill(page, "Prompt", f"{MARKER} sweep")
        fill(page, "X values", "0, 1")
        button(page, "Run sweep").click()
        export = button(page, "Export CSV")
        expect(export).to_be_visible(timeout=60_000)
        seen["sweep page"] = _visible_source(page)
        for name in ("Export CSV", "Export JSON"):
            target = page.get_by_test_id("stDownloadButton").filter(has_text=name)
            if target.count():
                seen[f"sweep {name}"] = _download(page, target)

        # images and their downloads
        go_to(page, "Images")
        small_image_batch(page, f"{MARKER} a lighthouse", 2)
        page.get_by_role("button", name=re.compile("Generate images")).click()
        expect(page.get_by_text("2 of 2 images")).to_be_visible(timeout=60_000)
        wait_for_app(page)
        seen["images page"] = _visible_source(page)
        seen["image PNG"] = _download(page, page.get_by_test_id("stDownloadButton")
                                      .filter(has_text=re.compile(r"PNG$")).first)
        seen["images ZIP"] = _download(page, page.get_by_test_id("stDownloadButton")
                                       .filter(has_text="Download all (ZIP)"))

        # history
        go_to(page, "History")
        seen["history page"] = _visible_source(page)
        shoot(page, screenshot_dir / "security_history.png")
        assert_no_exception(page)
        _read_files(own_app, seen, "live")   # the database's -wal and -shm while it runs
    finally:
        context.close()
    own_app.stop()          # flush the log and close the database before reading them
    _read_files(own_app, seen, "after")
    assert "live file history.db" in seen and "after file presets.json" in seen

    print("searched for the key:", {k: len(v) for k, v in seen.items()})
    for where, content in seen.items():
        raw = content if isinstance(content, bytes) else content.encode()
        assert KEY.encode() not in raw, f"the key leaked into the {where}"
        assert KEY[len("tgp_v1_"):].encode() not in raw, f"part of the key leaked: {where}"
    sent = [r for r in fresh_backend.requests_seen if r["method"] == "POST"]
    assert {r["path"].rsplit("/", 1)[-1] for r in sent} >= {"completions", "generations"}
    assert all(r["has_auth"] for r in sent)  # the key really went out, to the server only


# ---------------------------------------------------------------- markup stays text

HOSTILE = f"Look: {PAYLOAD} and <b>bold</b> &amp; done"


def _hostile_completion(request) -> tuple[int, dict[str, str], bytes]:
    body = json.loads(request.body or b"{}")
    pieces = [HOSTILE[i:i + 7] for i in range(0, len(HOSTILE), 7)]
    usage = {"prompt_tokens": 3, "completion_tokens": len(pieces),
             "total_tokens": 3 + len(pieces)}
    if not body.get("stream"):
        data = {"id": "c", "object": "text_completion", "model": body.get("model"),
                "choices": [{"index": 0, "text": HOSTILE, "finish_reason": "stop",
                             "logprobs": {"tokens": pieces, "token_logprobs": [-0.5] * len(
                                 pieces)}}], "usage": usage}
        return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()
    events = [{"id": "c", "object": "completion.chunk", "choices": [
        {"index": 0, "text": p, "logprobs": -0.5,
         "finish_reason": "stop" if k == len(pieces) - 1 else None}],
        "usage": usage if k == len(pieces) - 1 else None} for k, p in enumerate(pieces)]
    data = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return 200, {"Content-Type": "text/event-stream"}, data + b"data: [DONE]\n\n"


@pytest.fixture
def hostile_server():
    models = json.dumps([{"id": f"canned/{PAYLOAD}", "object": "model", "type": "language",
                          "pricing": {"input": 0, "output": 0}}]).encode()
    server = CannedServer({"/v1/models": lambda r: (200, {"Content-Type": "application/json"},
                                                    models),
                           "/v1/completions": _hostile_completion})
    yield server.url + "/v1"
    server.stop()


def _nothing_ran(page: Page, dialogs: list) -> None:
    page.wait_for_timeout(200)          # let an onerror handler fire if one was attached
    assert page.evaluate("window.__xss") is None, "a payload executed"
    assert dialogs == []
    main = page.get_by_test_id("stMain")
    assert main.locator("img[src='x']").count() == 0
    assert main.locator("script:not([src])").filter(has_text="__xss").count() == 0


def test_markup_in_prompts_and_output_is_text_on_every_page(own_app, browser, hostile_server,
                                                            screenshot_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs: list = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        open_app(page, own_app.url, "Completions")
        use_custom_provider(page, hostile_server, "tgp_v1_xss_test_key_000")
        fill(page, "Prompt", f"xss {PAYLOAD}")
        page.get_by_role("tab", name="Output").click()
        thumb = page.get_by_role("slider", name="Logprobs")
        thumb.focus()
        thumb.press("ArrowRight")
        wait_for_app(page)
        button(page, "Generate").click()
        expect(card(page)).to_contain_text("· stop ·", timeout=60_000)
        wait_for_app(page)
        assert card_text(page) == HOSTILE                       # shown, as text
        tokens = page.locator(".tv-body").first.locator(".tv-tok")
        expect(tokens.first).to_be_visible()                    # the token view, as text too
        assert "onerror" in "".join(tokens.all_inner_texts())   # (a popover's words are hidden)
        _nothing_ran(page, dialogs)
        shoot(page, screenshot_dir / "security_xss_completions.png")

        go_to(page, "Compare")
        fill(page, "Prompt", f"xss {PAYLOAD}")
        button(page, "Compare").click()
        expect(card(page, 0, "col0-")).to_contain_text("· stop ·", timeout=60_000)
        expect(button(page, "Compare")).to_be_visible(timeout=60_000)
        wait_for_app(page)
        assert card_text(page, 0, "col0-") == HOSTILE
        _nothing_ran(page, dialogs)

        go_to(page, "Sweep")
        fill(page, "Prompt", f"xss {PAYLOAD}")
        fill(page, "X values", "0, 1")
        button(page, "Run sweep").click()
        expect(button(page, "Export CSV")).to_be_visible(timeout=60_000)
        expect(page.locator(".st-key-sweep-cell-0-0")).to_contain_text("onerror")
        _nothing_ran(page, dialogs)

        go_to(page, "History")
        expect(page.get_by_test_id("stMain")).to_contain_text("onerror")
        _nothing_ran(page, dialogs)
        shoot(page, screenshot_dir / "security_xss_history.png")
        assert_no_exception(page)
    finally:
        context.close()


# ---------------------------------------------------------------- image URLs

@pytest.mark.parametrize("url", ["http://example.com/a.png", "http://10.0.0.1/a.png",
                                 "file:///etc/passwd", "ftp://127.0.0.1/a.png"])
def test_image_urls_off_loopback_http_are_refused_without_a_connection(url):
    """The URL in an image answer is checked before any socket is opened: the canned server
    answers the generation, and no other host ever sees a request (a refused 10.0.0.1 would
    otherwise hang until the timeout, example.com would need DNS)."""
    answer = json.dumps({"id": "i", "model": "m", "data": [{"index": 0, "url": url}]}).encode()
    server = CannedServer({"/v1/images/generations": lambda r: (
        200, {"Content-Type": "application/json"}, answer)})
    try:
        with Client(api_key="k" * 20, base_url=server.url + "/v1", timeout=(0.5, 0.5)) as c:
            result = c.generate_images({"model": "m", "prompt": "p"})
        assert result.images == []
        (index, error), = result.errors
        assert isinstance(error, TogetherError) and "https" in error.message
        assert [r.path for r in server.requests] == ["/v1/images/generations"]
    finally:
        server.stop()
