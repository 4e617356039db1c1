"""Text from outside is shown as text on every page, whatever element it lands in.

Each source a value can come from (a server's answer and headers, a share link, a preset
file, a PNG dropped on the Images page, a history row) carries a Markdown link, a Markdown
image and an HTML image, all pointing at a loopback "canary" server that records every
request. Chromium then drives the pages that show those values and checks that the page
built no link or image from them, that the browser never asked the canary for anything,
that the words are on screen as written, and that no page raised.
"""
from __future__ import annotations

import io
import json
import re
import time

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import Page, expect

from lib.images.png_settings import SETTINGS_CHUNK
from lib.saved import history, presets, sharelink
from tests.support.app_server import AppServer
from tests.support.browser import (assert_no_exception, button, card, fill, go_to, open_app, pick,
                           toggle, use_custom_provider, wait_for_app)
from tests.support.canned_server import CannedServer

pytestmark = pytest.mark.e2e


class Canary:
    """The loopback server every payload points at; nothing may ever reach it."""

    def __init__(self) -> None:
        self.server = CannedServer({})
        self.url = self.server.url

    def payload(self, tag: str) -> str:
        """A link, a Markdown image and an HTML image, each naming ``tag`` in its URL."""
        return (f"[Session expired {tag} - sign in]({self.url}/{tag}/phish) "
                f"![x]({self.url}/{tag}/pixel.png) <img src={self.url}/{tag}/html.png>")

    def image(self, tag: str) -> str:
        """A short payload, for fields cut at 40 characters (the "Sent:" line): tags of at
        most six letters."""
        return f"![]({self.url}/{tag})"

    def code_breakout(self, tag: str) -> str:
        """A value that closes the backticks a page puts around it, then shows an image."""
        return f"x` {self.image(tag)} `y"


def payload_words(tag: str) -> list[str]:
    """What of ``Canary.payload(tag)`` must be on screen (the URLs' ``:`` may carry an
    invisible break, so the words are taken around them)."""
    return [f"[Session expired {tag} - sign in](", f"/{tag}/phish)", f"/{tag}/pixel.png)",
            "<img src=", f"/{tag}/html.png>"]


def image_words(tag: str) -> list[str]:
    return ["![](", f"/{tag})"]


def assert_shown_as_text(page: Page, canary: Canary, words: list[str]) -> None:
    """The page is settled, shows ``words``, built no link or image to the canary, and the
    browser sent it nothing."""
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    for word in words:
        expect(main).to_contain_text(word)
    page.wait_for_timeout(200)  # give an image the page may have built time to be fetched
    built = page.evaluate("""(host) => [...document.querySelectorAll('[href], [src]')]
        .map(e => e.getAttribute('href') || e.getAttribute('src') || '')
        .filter(u => u.includes(host))""", canary.url.split("//", 1)[1])
    assert built == [], f"links or images built from outside text: {built}"
    assert [r.path for r in canary.server.requests] == [], "the browser fetched a payload URL"
    assert_no_exception(page)


@pytest.fixture(scope="module")
def canary():
    c = Canary()
    yield c
    c.server.stop()


@pytest.fixture(scope="module")
def markup_app(backend, tmp_path_factory):
    data = tmp_path_factory.mktemp("markup-data")
    server = AppServer(backend.base_url, data, tmp_path_factory.mktemp("markup-log") / "app.log")
    server.data_dir = data
    yield server
    server.stop()


@pytest.fixture
def browser_page(page):
    """The shared page fixture, with room for the slower hostile-server round trips."""
    page.set_default_timeout(30_000)
    return page


# ---------------------------------------------------------------- a hostile server

def _hostile_completion(canary: Canary):
    """Completions whose finish_reason, seed and x-request-id carry payloads."""
    def answer(request) -> tuple[int, dict[str, str], bytes]:
        body = json.loads(request.body or b"{}")
        headers = {"x-request-id": canary.payload("rid")}
        choice = {"index": 0, "text": "plain words", "finish_reason": canary.payload("finish"),
                  "seed": canary.payload("seed")}
        usage = {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
        if not body.get("stream"):
            data = {"id": "c", "object": "text_completion", "model": body.get("model"),
                    "choices": [choice], "usage": usage}
            return 200, {**headers, "Content-Type": "application/json"}, json.dumps(data).encode()
        first = {"id": "c", "choices": [{"index": 0, "text": "plain ", "finish_reason": None}]}
        last = {"id": "c", "choices": [{**choice, "text": "words"}], "usage": usage}
        events = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in (first, last))
        return 200, {**headers, "Content-Type": "text/event-stream"}, events + b"data: [DONE]\n\n"
    return answer


@pytest.fixture(scope="module")
def hostile_server(canary):
    models = json.dumps([{"id": f"hostile/{canary.payload('model')}", "object": "model",
                          "type": "language", "pricing": {"input": 0, "output": 0}}]).encode()
    server = CannedServer({"/v1/models": lambda r: (200, {"Content-Type": "application/json"},
                                                    models),
                           "/v1/completions": _hostile_completion(canary)})
    yield server.url + "/v1"
    server.stop()


def _generate(page: Page) -> None:
    button(page, "Generate").click()
    expect(page.get_by_text("Time to first token")).to_be_visible(timeout=60_000)
    expect(button(page, "Generate")).to_be_visible(timeout=60_000)
    expect(card(page)).to_contain_text("plain words")


def test_server_values_are_text_on_completions_sweep_and_history(markup_app, canary,
                                                                 hostile_server, browser_page):
    page = browser_page
    open_app(page, markup_app.url, "Completions")
    use_custom_provider(page, hostile_server, "tgp_v1_markup_test_key_0000")
    fill(page, "Prompt", "markup test")
    server_words = payload_words("finish") + payload_words("rid")

    _generate(page)                                   # streamed
    assert_shown_as_text(page, canary, server_words)
    toggle(page, "Output", "Stream")
    _generate(page)                                   # whole
    assert_shown_as_text(page, canary, server_words)

    go_to(page, "Sweep")
    fill(page, "Prompt", "markup sweep")
    fill(page, "X values", "0, 1")
    button(page, "Run sweep").click()
    expect(button(page, "Export CSV")).to_be_visible(timeout=60_000)
    assert_shown_as_text(page, canary, payload_words("finish"))

    go_to(page, "History")
    assert_shown_as_text(page, canary, payload_words("model") + payload_words("finish"))


# ---------------------------------------------------------------- values from files and links

def test_share_link_values_are_text(markup_app, canary, browser_page):
    page = browser_page
    params = sharelink.encode_state({"page": "completions", "values": {
        "model": "local/markup", "prompt": "from a link", "stop": [canary.image("lstop")]},
        "pinned": [], "extra": {}})
    open_app(page, markup_app.url, "Completions?" + "&".join(f"{k}={v}"
                                                             for k, v in params.items()))
    assert_shown_as_text(page, canary, image_words("lstop"))

    params = sharelink.encode_state({"page": "images", "values": {
        "model": canary.code_breakout("lmodel"), "prompt": "from a link"},
        "pinned": [], "extra": {}})
    open_app(page, markup_app.url, "Images?" + "&".join(f"{k}={v}" for k, v in params.items()))
    assert_shown_as_text(page, canary, image_words("lmodel"))


def test_preset_file_values_are_text(markup_app, canary, browser_page):
    page = browser_page
    name = canary.image("pname")
    document = {"format": presets.FORMAT, "version": presets.VERSION, "presets": [{
        "name": name, "page": "completions", "description": canary.payload("presetdesc"),
        "values": {"stop": [canary.image("pstop")]}, "pinned": []}]}
    open_app(page, markup_app.url, "Completions")
    page.get_by_text("Presets", exact=True).first.click()
    page.get_by_test_id("stFileUploader").filter(has_text="Import presets").locator(
        "input[type=file]").set_input_files({"name": "presets.json", "mimeType":
                                             "application/json",
                                             "buffer": json.dumps(document).encode()})
    wait_for_app(page)
    button(page, "Import").click()
    assert_shown_as_text(page, canary, image_words("pname"))   # "Imported: …"

    pick(page, "Preset", name)
    assert_shown_as_text(page, canary, payload_words("presetdesc"))  # its description
    button(page, "Load").click()
    assert_shown_as_text(page, canary, image_words("pstop"))    # the "Sent:" line


def _png_with_settings(settings: dict) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(SETTINGS_CHUNK, json.dumps(settings))
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_png_settings_are_text(markup_app, canary, browser_page):
    page = browser_page
    png = _png_with_settings({"prompt": "from a png", "model": canary.code_breakout("gmodel"),
                              canary.image("gkey"): 1})
    open_app(page, markup_app.url, "Images")
    page.get_by_text("Restore settings from a PNG").first.click()
    page.get_by_test_id("stFileUploader").filter(has_text="Restore settings from a PNG").locator(
        "input[type=file]").set_input_files(
        {"name": "settings.png", "mimeType": "image/png", "buffer": png})
    expect(page.get_by_text("from settings.png")).to_be_visible()
    assert_shown_as_text(page, canary, image_words("gkey") + image_words("gmodel"))


def test_history_row_values_are_text_and_restore_keeps_them_text(markup_app, canary,
                                                                 browser_page, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(markup_app.data_dir))
    model = canary.payload("rowmodel")
    history.History().record(history.Run(
        page="completions", model=model, status=history.OK, created=time.time() + 3600,
        request={"model": model, "prompt": "from a row", "stop": [canary.image("rstop")]},
        provider=canary.payload("rowprovider"), base_url=canary.payload("rowurl"),
        title=canary.payload("rowtitle"),
        outputs=[{"index": 0, "text": "row text", "finish_reason": canary.payload("rowfinish"),
                  "seed": canary.payload("rowseed")}]))
    page = browser_page
    open_app(page, markup_app.url, "History")
    assert_shown_as_text(page, canary, [
        *payload_words("rowmodel"), *payload_words("rowtitle"), *payload_words("rowprovider"),
        *payload_words("rowurl"), *payload_words("rowfinish"), *payload_words("rowseed")])

    button(page, "Restore").click()
    expect(page.get_by_role("heading", name="Completions").first).to_be_visible()
    assert_shown_as_text(page, canary, image_words("rstop"))
    expect(page.get_by_text(re.compile(r"^Sent: .*stop="))).to_be_visible()
