"""Presenter mode in headless Chromium on the local backend: a speaker is never stranded.

Stop is there while a scene streams (button and Esc), a clicker's PageDown/PageUp step
through the scenes, a recorded run plays back under its own prompt, and leaving stays in
the same tab.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (assert_no_exception, button, card, card_text, open_app,
                                   wait_for_app)

pytestmark = pytest.mark.e2e
SCENE_1_PROMPT = "The function returns"  # the built-in "Deterministic" scene's


@pytest.fixture
def presenter(app_server, page, fresh_backend):
    open_app(page, app_server.url, "Presenter")
    expect(page.get_by_text(re.compile("Scene 1 of"))).to_be_visible()
    return page


def _prompt(page):
    return page.get_by_label("Prompt", exact=True)


def _streaming(page, backend):
    """Scene 1 slowed to 1 token/s: its dozen tokens take seconds, long enough to stop."""
    backend.configure(tokens_per_second=1)
    button(page, "Generate").click()
    expect(card(page).locator(".ct:not(.ct-wait)").first).not_to_have_text("", timeout=20_000)
    expect(button(page, "Generate")).to_have_count(0)  # one button: Stop, no faded Generate


def stop_button(page):
    """Stop: its accessible name also holds the key it answers to ("Stop Esc")."""
    return page.get_by_role("button", name=re.compile(r"^Stop\b"))


def _stopped(page):
    expect(button(page, "Generate")).to_be_visible()
    expect(stop_button(page)).to_have_count(0)
    wait_for_app(page)  # the streaming card is gone, the finished one drawn
    expect(card(page)).to_contain_text("stopped")
    assert card_text(page).strip()
    assert_no_exception(page)


def test_stop_by_mouse_mid_stream_keeps_the_text(presenter, fresh_backend):
    _streaming(presenter, fresh_backend)
    stop_button(presenter).click()
    _stopped(presenter)


def test_esc_stops_a_streaming_scene(presenter, fresh_backend):
    _streaming(presenter, fresh_backend)
    expect(stop_button(presenter)).to_be_visible()
    presenter.keyboard.press("Escape")
    _stopped(presenter)


def test_clicker_keys_step_through_the_scenes(presenter):
    presenter.keyboard.press("PageDown")
    expect(presenter.get_by_text(re.compile("Scene 2 of .*Creative"))).to_be_visible()
    wait_for_app(presenter)  # the prompt box is redrawn with the scene's prompt
    expect(_prompt(presenter)).not_to_have_value(SCENE_1_PROMPT)
    presenter.keyboard.press("PageUp")
    expect(presenter.get_by_text(re.compile("Scene 1 of .*Deterministic"))).to_be_visible()
    wait_for_app(presenter)
    expect(_prompt(presenter)).to_have_value(SCENE_1_PROMPT)


def test_a_recorded_run_plays_back_under_its_own_prompt(presenter, fresh_backend):
    button(presenter, "Generate").click()
    expect(card(presenter)).to_contain_text(re.compile(r"· (length|eos|stop) ·"))
    recorded = card_text(presenter)
    assert recorded.strip()
    box = _prompt(presenter)
    box.fill("A prompt typed since")
    box.press("Tab")
    presenter.get_by_text("Play back a recorded run").click()
    button(presenter, "Play back at recorded pace").click()
    expect(presenter.get_by_text(re.compile("Replay of recorded run #"))).to_be_visible()
    expect(card(presenter, prefix="replay-")).to_contain_text("replay")
    wait_for_app(presenter)  # played to the end, nothing of the live run's card left
    assert card_text(presenter, prefix="replay-") == recorded
    expect(_prompt(presenter)).to_have_value(SCENE_1_PROMPT)
    assert_no_exception(presenter)


def test_leaving_returns_to_completions_in_the_same_tab(presenter):
    presenter.get_by_role("link", name="Leave presenter mode").click()
    expect(presenter.get_by_role("heading", name="Completions").first).to_be_visible()
    assert len(presenter.context.pages) == 1


def _y(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def test_stop_takes_generates_place_and_generate_comes_back_there(presenter, fresh_backend):
    """What starting a scene draws (the model list's loading slot, for the price) must not
    push the button down under the speaker's pointer."""
    idle_y = _y(button(presenter, "Generate"))
    _streaming(presenter, fresh_backend)
    assert _y(stop_button(presenter)) == idle_y
    stop_button(presenter).click()
    _stopped(presenter)
    assert _y(button(presenter, "Generate")) == idle_y
