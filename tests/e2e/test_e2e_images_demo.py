"""The Images page as a demo shows it, at 1280x720 in Chromium against the local backend
(issues 11 and 13): a sweep's tiles name their X/Y values and the batch line above goes
away, the model box shows the telling part of a name, and a LoRA row added in the browser
changes the picture."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (assert_no_exception, button, open_app, pick, shoot,
                                   small_image_batch, wait_for_app)

pytestmark = pytest.mark.e2e

PROMPT = "a lighthouse on a cliff at dusk"
LORA = "https://huggingface.co/XLabs-AI/flux-RealismLora"


@pytest.fixture
def demo_page(page):
    page.set_viewport_size({"width": 1280, "height": 720})  # the demo's screen
    return page


def type_in(page: Page, box) -> None:
    box.press("Control+Enter")
    wait_for_app(page)


def tile_captions(page: Page) -> list[str]:
    return page.get_by_test_id("stImage").filter(
        has_text=re.compile(r"^#\d+ ·")).get_by_test_id("stImageCaption").all_inner_texts()


def test_sweep_tiles_name_their_values_and_the_batch_line_goes(app_server, fresh_backend,
                                                               demo_page, screenshot_dir):
    page = demo_page
    open_app(page, app_server.url, "Images")
    expect(page.get_by_role("combobox", name="Model")).to_have_value(
        re.compile(r"^procedural-image · Local demo procedural images"))
    small_image_batch(page, PROMPT, 1)
    batch_line = page.get_by_text("1 image of 256×256")
    expect(batch_line).to_be_visible()
    page.get_by_text("Sweep (X/Y plot)").click()
    x_values = page.get_by_role("textbox", name="X axis values")
    x_values.fill("11, 12")
    type_in(page, x_values)
    pick(page, "Y axis", "Guidance scale")
    y_values = page.get_by_role("textbox", name="Y axis values")
    y_values.fill("1, 9")
    type_in(page, y_values)
    button(page, "Run sweep").click()
    wait_for_app(page)
    expect(page.get_by_text("4 of 4 images")).to_be_visible()
    expect(page.get_by_test_id("stImageCaption").filter(has_text=re.compile(r"^#"))
           ).to_have_count(4)
    assert tile_captions(page) == [
        "#1 · Seed 11 · Guidance scale 1 · seed 11", "#2 · Seed 12 · Guidance scale 1 · seed 12",
        "#3 · Seed 11 · Guidance scale 9 · seed 11", "#4 · Seed 12 · Guidance scale 9 · seed 12"]
    expect(batch_line).to_have_count(0)
    assert_no_exception(page)
    shoot(page, screenshot_dir / "images_demo_sweep_1280.png")


def _tile(page: Page):
    return page.get_by_test_id("stImage").filter(has_text="#1 ·").locator("img")


def _tile_image(page: Page) -> bytes:
    expect(_tile(page)).to_be_visible()
    return page.request.get(_tile(page).evaluate("img => img.src")).body()


def test_a_lora_row_added_in_the_browser_changes_the_picture(app_server, fresh_backend,
                                                             demo_page, screenshot_dir):
    page = demo_page
    seen = len(fresh_backend.requests_seen)  # the backend serves the whole session
    open_app(page, app_server.url, "Images")
    small_image_batch(page, PROMPT, 1)
    page.get_by_role("radio", name="fixed").or_(
        page.get_by_test_id("stButtonGroup").get_by_text("fixed", exact=True)).first.click()
    wait_for_app(page)
    seed = page.get_by_role("textbox", name="Seed value")
    seed.fill("42")
    seed.press("Enter")
    wait_for_app(page)
    button(page, "Generate images").click()
    wait_for_app(page)
    expect(page.get_by_text("1 of 1 image")).to_be_visible()
    plain = _tile_image(page)

    button(page, "Add LoRA").click()
    wait_for_app(page)
    path = page.get_by_role("textbox", name="LoRAs 1: URL")
    path.fill(LORA)
    path.press("Enter")
    wait_for_app(page)
    scale = page.get_by_role("spinbutton", name="Scale")
    scale.fill("1.5")
    scale.press("Enter")
    wait_for_app(page)
    shoot(page, screenshot_dir / "images_demo_lora_row_1280.png")
    before = _tile(page).get_attribute("src")
    button(page, "Generate images").click()
    wait_for_app(page)
    expect(_tile(page)).not_to_have_attribute("src", before)  # the new run's image is up
    sent = [r["body"] for r in fresh_backend.requests_seen[seen:]
            if r["path"].endswith("/images/generations")]
    assert [b.get("image_loras") for b in sent] == [None, [{"path": LORA, "scale": 1.5}]]
    assert sent[0]["seed"] == sent[1]["seed"] == 42
    assert _tile_image(page) != plain
    assert_no_exception(page)
    shoot(page, screenshot_dir / "images_demo_lora_1280.png")
