"""Where the output lands, in Chromium at the demo sizes (issue 11 items 1, 2, 5, 6).

While a run streams its text is in view without scrolling; there is exactly one start or
Stop button and it does not move; a token click opens its alternatives; Compare's headers
name what each column runs; Sweep cells are capped with a way to see the whole text.
"""
import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from lib.saved.sharelink import encode_state
from tests.support.browser import (assert_no_exception, button, card, card_text, open_app,
                                   set_number,
                                   settled, wait_for_app)

pytestmark = pytest.mark.e2e
SIZES = [(1280, 720), (1440, 900)]
NO_EOS = {"0": -100.0}  # the local model's text may otherwise end after a token or two


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def sized(request, browser):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def _open(page, url, name, state):
    open_app(page, url, f"{name}?{urlencode(encode_state({**state, 'pinned': []}))}")


def _y(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def _in_view(page, locator) -> None:
    """The element's top part is inside the viewport, with no scrolling."""
    box = locator.bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + min(box["height"], 24) <= page.viewport_size["height"], box


def _one_button(page, start: str, running: bool, idle_y: float) -> None:
    """Stop while running, else ``start``: one of them only, where ``start`` sat idle."""
    expect(button(page, "Stop")).to_have_count(1 if running else 0)
    expect(button(page, start)).to_have_count(0 if running else 1)
    assert _y(button(page, "Stop" if running else start)) == idle_y


def _stop(page, start: str, idle_y: float) -> None:
    """Stop the run; ``start`` comes back alone, in the same place."""
    button(page, "Stop").click()
    expect(button(page, start)).to_be_visible()
    wait_for_app(page)
    _one_button(page, start, running=False, idle_y=idle_y)


def test_completions_streams_in_view_under_one_button_that_stays_put(
        sized, app_server, fresh_backend, screenshot_dir):
    page = sized
    _open(page, app_server.url, "Completions", {"page": "completions", "values": {
        "prompt": "The playground", "max_tokens": 600, "logit_bias": NO_EOS}})
    idle_y = _y(button(page, "Generate"))
    fresh_backend.configure(tokens_per_second=15)
    button(page, "Generate").click()
    text = card(page).locator(".ct:not(.ct-wait)").first
    expect(text).not_to_have_text("", timeout=20_000)
    _one_button(page, "Generate", running=True, idle_y=idle_y)
    _in_view(page, page.locator(".st-key-choice-0-text"))   # the card's text box
    size = page.viewport_size
    page.screenshot(path=str(screenshot_dir / f"layout_completions_{size['width']}.png"))
    _stop(page, "Generate", idle_y)
    assert card_text(page).strip()
    assert_no_exception(page)


def test_a_click_on_a_token_opens_its_alternatives(app_server, page, fresh_backend):
    _open(page, app_server.url, "Completions", {"page": "completions", "values": {
        "prompt": "The playground", "max_tokens": 12, "logprobs": 3, "stream": False,
        "logit_bias": NO_EOS}})
    button(page, "Generate").click()
    expect(page.get_by_role("heading", name="Token probabilities")).to_be_visible(
        timeout=30_000)
    token = page.locator(".tv-tok").first
    popover = token.locator(".tv-pop")
    expect(popover).to_be_hidden()
    token.click()
    expect(popover).to_be_visible()
    expect(popover).to_contain_text("%")
    assert popover.locator(".tv-alt").count() >= 2   # the token and its alternatives
    expect(page.get_by_text("hover a token")).to_have_count(0)
    assert_no_exception(page)


def test_compare_headers_name_the_model_and_outputs_start_level_in_view(
        sized, app_server, fresh_backend, screenshot_dir):
    page = sized
    columns = [{"values": {}}, {"values": {"temperature": 1.2}},
               {"values": {"model": "local/ngram-code"}}]
    _open(page, app_server.url, "Compare", {
        "page": "compare", "values": {"prompt": "The playground"},
        "extra": {"columns": [{**c, "pinned": []} for c in columns]}})
    expect(page.get_by_text("2 · local/ngram-docs", exact=True)).to_be_visible()
    expect(page.get_by_text("vs column 1: Temperature 1.2")).to_be_visible()
    expect(page.get_by_text("3 · local/ngram-code", exact=True)).to_be_visible()
    idle_y = _y(button(page, "Compare"))
    fresh_backend.configure(tokens_per_second=8)
    button(page, "Compare").click()
    for i in range(3):
        expect(card(page, prefix=f"col{i}-").locator(".ct").first).to_be_visible()
    _one_button(page, "Compare", running=True, idle_y=idle_y)
    tops = {_y(card(page, prefix=f"col{i}-")) for i in range(3)}
    assert len(tops) == 1, tops
    for i in range(3):
        _in_view(page, page.locator(f".st-key-col{i}-choice-0-text"))
    size = page.viewport_size
    page.screenshot(path=str(screenshot_dir / f"layout_compare_{size['width']}.png"))
    _stop(page, "Compare", idle_y)
    button(page, "Compare").click()  # a second run streams in the first one's place
    expect(card(page, prefix="col0-").filter(has_text="streaming…")).to_have_count(1)
    for i in range(3):
        expect(card(page, prefix=f"col{i}-")).to_have_count(1)
        _in_view(page, page.locator(f".st-key-col{i}-choice-0-text"))
    button(page, "Stop").click()
    expect(button(page, "Compare")).to_be_visible()
    wait_for_app(page)
    assert_no_exception(page)


def test_sweep_cells_are_capped_in_view_and_open_whole(
        sized, app_server, fresh_backend, screenshot_dir):
    page = sized
    _open(page, app_server.url, "Sweep", {
        "page": "sweep", "values": {"prompt": "The playground", "max_tokens": 250,
                                    "logit_bias": NO_EOS},
        "extra": {"x": {"name": "temperature", "text": "0, 0.7"},
                  "y": {"name": "—", "text": ""}}})
    x_axis = page.get_by_test_id("stSelectbox").filter(has_text="X axis (columns)")
    expect(x_axis.get_by_role("combobox")).to_have_value("Temperature")  # as the grid says
    fresh_backend.configure(tokens_per_second=200)
    button(page, "Run sweep").click()
    first = page.locator(".st-key-sweep-cell-0-0")
    expect(first).to_be_visible()
    _in_view(page, first)            # the grid's first row, drawn as the sweep starts
    expect(button(page, "Export CSV")).to_be_visible(timeout=60_000)
    wait_for_app(page)
    settled(page)
    text = first.locator(".ct").first
    box = text.bounding_box()
    assert box is not None and box["height"] <= 12 * 16 + 1          # capped at 12em ...
    assert text.evaluate("e => e.scrollHeight > e.clientHeight")     # ... with more inside
    first.get_by_role("button", name="Whole text").click()
    popover = page.get_by_test_id("stPopoverBody")
    expect(popover).to_be_visible()
    assert popover.locator(".ct").inner_text().strip() == text.inner_text().strip()
    size = page.viewport_size
    page.screenshot(path=str(screenshot_dir / f"layout_sweep_{size['width']}.png"))
    assert_no_exception(page)


# Counts the moments card 0 shows text under a header still saying "0 tokens".
HEADER_WATCH = """() => {
  window.__zeroTokensWithText = 0;
  new MutationObserver(() => {
    const box = document.querySelector('.st-key-choice-0');
    const text = box && box.querySelector('.ct:not(.ct-wait)');
    if (text && text.innerText.trim() && /streaming… · 0 tokens/.test(box.innerText))
      window.__zeroTokensWithText += 1;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_a_second_generate_streams_in_place_of_the_last_runs_cards(
        page, app_server, fresh_backend, screenshot_dir):
    """The new run's cards take the old ones' place at once (not below them until it ends),
    and a card's header counts the tokens its body already shows."""
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, app_server.url, "Completions", {"page": "completions", "values": {
        "prompt": "The playground", "max_tokens": 8, "n": 2, "logit_bias": NO_EOS}})
    button(page, "Generate").click()
    expect(card(page)).to_contain_text("· length ·", timeout=30_000)
    wait_for_app(page)
    set_number(page, "Max tokens", 600, tab="Output")
    fresh_backend.configure(tokens_per_second=15)
    page.evaluate(HEADER_WATCH)
    button(page, "Generate").click()
    streaming = card(page).filter(has_text="streaming…")
    expect(streaming).to_have_count(1, timeout=20_000)
    expect(card(page)).to_have_count(1)                       # no stale card above it
    expect(card(page).locator(".ct").first).not_to_have_text(re.compile("^$"))
    expect(card(page)).not_to_contain_text("· length ·")
    expect(card(page)).not_to_contain_text(re.compile(r"· [01] tokens"), timeout=5_000)
    assert page.evaluate("window.__zeroTokensWithText") == 0
    _in_view(page, page.locator(".st-key-choice-0-text"))
    # One Stop: Streamlit's header shows its own beside the running icon, unless hidden.
    expect(page.get_by_test_id("stStatusWidget")).to_be_visible()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_have_count(1)
    # Stop has no tooltip: the pointer is still on it after the click, and one popped up
    # over the prompt.
    expect(page.get_by_test_id("stTooltipHoverTarget").filter(
        has=page.get_by_role("button", name="Stop", exact=True))).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "layout_completions_second_run.png"))
    button(page, "Stop").click()
    expect(button(page, "Generate")).to_be_visible()
    wait_for_app(page)
    assert_no_exception(page)
