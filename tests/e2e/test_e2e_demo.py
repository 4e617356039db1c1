"""The five-minute stakeholder demo at 1280×720, end to end on the local backend (issue 11).

One browser session walks the path a demo-giver takes: home, Completions with n=3, Stop
mid-stream, token alternatives, Images with 4 and their ZIP, Compare with 3 columns, and
Presenter through two scenes with a Stop and a playback. Each step asserts what the room
sees (output in view while it streams, one of Generate/Stop, finish reasons, no exception
box, no "waiting for the first token" left behind) and leaves a screenshot of the viewport
in tests/screenshots/demo_NN_<step>.png, for a person to look at.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from lib.images import read_png_settings
from lib.saved.sharelink import encode_state
from tests.support.browser import (assert_no_exception, button, card, card_text, fill, go_to,
                                   open_app, pick, set_number, set_slider,
                                   small_image_batch, toggle, wait_for_app)

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1280, "height": 720}
FINISHED = re.compile(r"· (length|eos|stop) ·")
WAITING = "waiting for the first token"
PROMPT = "A stakeholder demo of the playground"  # its own, to find its run among others
IMAGE_PROMPT = "a lighthouse on a cliff at dusk"
# The demo-giver's prepared link: end-of-text (token 0) banned, so the demo model's random
# text runs its full length instead of ending after a token or two before Stop can land.
PREPARED = {"page": "completions", "values": {"logit_bias": {"0": -100.0}, "prompt": PROMPT}}
REALISTIC_TPS = 25  # tokens per second, about a hosted model's pace
SLOW_TPS = 10  # a busy hosted model: a short answer still streams for seconds


@pytest.fixture
def demo(browser, app_server, fresh_backend, screenshot_dir):
    """A 1280×720 browser tab, and ``snap(name)`` for the viewport's screenshot."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    shots = iter(range(1, 100))

    def snap(name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"demo_{next(shots):02d}_{name}.png"))
    page.snap = snap
    page.out_of_view = []  # screenshots whose output a stakeholder would have to scroll to
    page.recorded = ""  # the first card's text of the n=3 run, which Presenter plays back
    yield page
    snap("last")  # the page as the demo left it, passed or failed
    context.close()


def _stop(page: Page):
    """The page's Stop; its accessible name also holds a shortcut key where it has one
    ("Stop Esc" on Presenter)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role(
        "button", name=re.compile(r"^Stop\b"))


def _one_action(page: Page, start: str, running: bool) -> None:
    """Exactly one of the start button and Stop is on the page."""
    expect(_stop(page)).to_have_count(1 if running else 0)
    expect(button(page, start)).to_have_count(0 if running else 1)


def _streaming_in_view(page: Page, shot: str, start: str = "Generate",
                       prefix: str = "") -> None:
    """Text is arriving in the first card ("streaming…"), inside the viewport, with Stop
    alone."""
    first = card(page, 0, prefix).filter(has_text="streaming…")
    text = first.locator(".ct:not(.ct-wait)").first
    expect(first).to_have_count(1, timeout=20_000)
    expect(text).not_to_have_text("", timeout=20_000)
    expect(_stop(page)).to_be_visible()
    _one_action(page, start, running=True)
    page.snap(shot)
    _in_view(page, text, shot)


def _in_view(page: Page, what, shot: str) -> None:
    """Note (rather than stop at) output out of view, so one run shows every such step."""
    try:
        expect(what).to_be_in_viewport()
    except AssertionError:
        page.out_of_view.append(shot)


def _finished(page: Page, n: int, start: str = "Generate", prefix: str = "",
              reason: re.Pattern | str = FINISHED) -> None:
    """Every card ended with ``reason``, nothing left waiting, no exception, one button."""
    expect(button(page, start)).to_be_visible(timeout=60_000)
    wait_for_app(page)
    _one_action(page, start, running=False)
    for i in range(n):
        expect(card(page, i, prefix)).to_contain_text(reason)
        expect(card(page, i, prefix)).not_to_contain_text(WAITING)
    expect(card(page, n, prefix)).to_have_count(0)
    assert_no_exception(page)


def home(page: Page, url: str) -> None:
    open_app(page, url)
    expect(page.get_by_role("heading", name="Together Playground")).to_be_visible()
    expect(page.get_by_text("Built-in demo backend at")).to_be_visible()
    target = page.locator(".st-key-home-card-completions")
    assert_no_exception(page)
    page.snap("home")
    _in_view(page, target, "home")
    target.get_by_role("link", name="Completions", exact=True).click()
    expect(page.get_by_role("heading", name="Completions", exact=True)).to_be_visible()
    wait_for_app(page)


def completions_n3(page: Page, url: str, backend) -> None:
    page.goto(f"{url}/Completions?{urlencode(encode_state(PREPARED))}")
    wait_for_app(page, timeout=60_000)  # a new session: the first draw of a page is slowest
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(PROMPT)
    set_number(page, "Completions (n)", 3, tab="Output")
    set_number(page, "Max tokens", 150, tab="Output")  # ~6 s: time to look at it stream
    backend.configure(tokens_per_second=REALISTIC_TPS)
    button(page, "Generate").click()
    _streaming_in_view(page, "completions_streaming")
    _finished(page, 3, reason=re.compile(r"· length ·"))
    assert all(card_text(page, i).strip() for i in range(3))
    page.recorded = card_text(page, 0)
    expect(page.get_by_role("heading", name="Choices board")).to_be_visible()
    page.snap("completions_n3_finished")


def stop_mid_stream(page: Page, backend) -> None:
    set_number(page, "Max tokens", 2000, tab="Output")
    backend.configure(tokens_per_second=REALISTIC_TPS)
    button(page, "Generate").click()
    _streaming_in_view(page, "stop_streaming")
    expect(card(page, 0)).to_have_count(1)  # the last run's cards gave their place
    expect(page.get_by_role("button", name="Stop", exact=True)).to_have_count(1)
    _stop(page).click()
    _finished(page, 3, reason="stopped")
    assert card_text(page, 0).strip()
    page.snap("stop_stopped")


def token_alternatives(page: Page, backend) -> None:
    """Not streamed, so the server returns each token's top alternatives; a click shows them.
    The whole answer comes at once, after the seconds its tokens take: Stop till then."""
    set_number(page, "Max tokens", 40, tab="Output")
    set_slider(page, "Logprobs", 3, tab="Output")
    toggle(page, "Output", "Stream")
    backend.configure(tokens_per_second=REALISTIC_TPS)
    button(page, "Generate").click()
    expect(_stop(page)).to_be_visible()
    _one_action(page, "Generate", running=True)
    _finished(page, 3)
    expect(page.get_by_role("heading", name="Token probabilities")).to_be_visible()
    token = page.locator(".tv-tok").nth(2)
    token.scroll_into_view_if_needed()
    token.click()
    popover = token.locator(".tv-pop")
    expect(popover).to_be_visible()
    expect(popover.locator(".tv-pop-head")).to_contain_text(re.compile(r"\d+(\.\d)?%"))
    expect(popover.locator(".tv-alt")).not_to_have_count(0)
    expect(popover).not_to_contain_text("alternatives not returned")
    expect(popover).to_be_in_viewport()
    page.snap("token_alternatives")
    toggle(page, "Output", "Stream")  # back on for the rest of the demo
    set_number(page, "Completions (n)", 1, tab="Output")


def images_4_and_zip(page: Page) -> None:
    go_to(page, "Images")
    small_image_batch(page, IMAGE_PROMPT, 4)
    page.get_by_role("button", name=re.compile("Generate images")).click()
    expect(page.get_by_text(re.compile(r"^4 of 4 images"))).to_be_visible(timeout=60_000)
    wait_for_app(page)
    tiles = page.get_by_test_id("stImage").filter(has_text=re.compile(r"seed \d+"))
    expect(tiles).to_have_count(4)
    assert_no_exception(page)
    page.snap("images_4")
    _in_view(page, tiles.first, "images_4")
    zip_button = page.get_by_test_id("stDownloadButton").filter(has_text="Download all (ZIP)")
    zip_button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        zip_button.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert archive.testzip() is None
    pngs = [n for n in archive.namelist() if re.fullmatch(r"image_\d{4}_seed\d+\.png", n)]
    assert len(pngs) == 4
    for name in pngs:
        settings = read_png_settings(archive.read(name)).values
        assert settings["prompt"] == IMAGE_PROMPT
        assert (settings["width"], settings["height"], settings["steps"]) == (256, 256, 4)
        assert f"seed{settings['seed']}.png" in name
    page.snap("images_zip_downloaded")


def compare_3(page: Page, backend) -> None:
    go_to(page, "Compare")
    # 3 is the default (a click on the chosen option would clear it, as a toggle)
    expect(page.get_by_role("radiogroup", name="Columns").get_by_role(
        "radio", name="3", exact=True)).to_be_checked()
    fill(page, "Prompt", PROMPT)
    for i in range(1, 4):
        expect(page.get_by_text(re.compile(rf"^{i} · local/"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^4 · "))).to_have_count(0)
    backend.configure(tokens_per_second=SLOW_TPS)  # 40 tokens: long enough to see streaming
    button(page, "Compare").click()
    _streaming_in_view(page, "compare_streaming", "Compare", "col0-")
    for i in range(1, 3):
        expect(card(page, 0, f"col{i}-").locator(".ct:not(.ct-wait)").first).not_to_have_text(
            "")
    for i in range(3):
        _finished(page, 1, start="Compare", prefix=f"col{i}-")
    expect(page.get_by_text(re.compile(r"^TTFT \d+ ms · "))).to_have_count(3)
    expect(page.get_by_text("$0.000000")).to_have_count(0)
    page.snap("compare_finished")


def presenter(page: Page, backend) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name="Presenter", exact=True).click()
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_text(re.compile("Scene 1 of .*Deterministic"))).to_be_visible()
    backend.configure(tokens_per_second=SLOW_TPS)
    button(page, "Generate").click()
    _streaming_in_view(page, "presenter_scene1_streaming")
    _finished(page, 1)
    page.snap("presenter_scene1_finished")

    page.keyboard.press("PageDown")
    expect(page.get_by_text(re.compile("Scene 2 of .*Creative"))).to_be_visible()
    wait_for_app(page)
    backend.configure(tokens_per_second=8)
    button(page, "Generate").click()
    _streaming_in_view(page, "presenter_scene2_streaming")
    page.keyboard.press("Escape")
    _finished(page, 1, reason="stopped")
    assert card_text(page).strip()
    page.snap("presenter_scene2_stopped")

    page.get_by_text("Play back a recorded run").click()
    # Offered first is the newest run with a recorded stream (scene 1's); the presenter
    # picks the n=3 one from Completions (stopped runs are not offered).
    pick(page, "Recorded run", PROMPT)
    expect(page.get_by_role("combobox", name="Recorded run")).to_have_value(
        re.compile(rf"^#\d+ · local/.* · {re.escape(PROMPT)}$"))
    button(page, "Play back at recorded pace").click()
    expect(page.get_by_text(re.compile("Replay of recorded run #"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Playback of recorded run #\d+"))).to_be_visible()
    expect(page.get_by_text(re.compile("Scene 2 of"))).to_have_count(0)  # not its prompt
    expect(card(page, 0, "replay-")).to_contain_text("replay", timeout=60_000)
    wait_for_app(page)
    assert card_text(page, 0, "replay-") == page.recorded  # the whole recorded text
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(PROMPT)  # under its prompt
    expect(card(page, 0, "replay-")).not_to_contain_text(WAITING)
    assert_no_exception(page)
    page.snap("presenter_playback")


def test_five_minute_stakeholder_demo(demo, app_server, fresh_backend):
    home(demo, app_server.url)
    completions_n3(demo, app_server.url, fresh_backend)
    stop_mid_stream(demo, fresh_backend)
    token_alternatives(demo, fresh_backend)
    images_4_and_zip(demo)
    compare_3(demo, fresh_backend)
    presenter(demo, fresh_backend)
    assert demo.out_of_view == [], "output out of view in these screenshots"
