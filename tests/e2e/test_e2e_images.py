"""The Images page in Chromium against the local backend: a batch fills the grid, downloads
carry settings and never the key, a 2x2 sweep is a labelled plot, a failed request keeps
the other images."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from lib.images import read_png_settings
from tests.support.browser import (assert_no_exception, open_app, pick,
                           small_image_batch, wait_for_app)
from tests.support.browser import use_custom_provider as shared_use_custom_provider

pytestmark = pytest.mark.e2e

KEY = "sk-e2e-RECOGNISABLE-key-0451"
PROMPT = "a lighthouse on a cliff at dusk"


def settle(page: Page) -> None:
    wait_for_app(page)


def use_custom_provider(page: Page, base_url: str) -> None:
    """Custom provider at the backend, with a key we can look for in every file."""
    shared_use_custom_provider(page, base_url, KEY)


def generate(page: Page) -> None:
    page.get_by_role("button", name=re.compile("Generate images")).click()
    settle(page)


def tiles(page: Page):
    return page.get_by_test_id("stImage").filter(has_text=re.compile(r"seed \d+"))


def download(page: Page, button) -> bytes:
    with page.expect_download() as info:
        button.click()
    return open(info.value.path(), "rb").read()


def test_four_images_show_with_seeds_and_download_with_settings(app_server, fresh_backend,
                                                                 page, screenshot_dir):
    open_app(page, app_server.url, "Images")
    use_custom_provider(page, fresh_backend.base_url)
    small_image_batch(page, PROMPT, 4)
    generate(page)
    expect(page.get_by_text("4 of 4 images")).to_be_visible()
    expect(tiles(page)).to_have_count(4)
    captions = tiles(page).all_inner_texts()
    seeds = [int(re.search(r"seed (\d+)", c).group(1)) for c in captions]
    assert seeds == list(range(seeds[0], seeds[0] + 4))
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "images_batch.png"), full_page=True)

    sent = [r for r in fresh_backend.requests_seen if r["path"].endswith("/images/generations")]
    assert sent[-1]["has_auth"] and sent[-1]["body"]["n"] == 4

    png = download(page, page.get_by_test_id("stDownloadButton")
                   .filter(has_text=re.compile(r"PNG$")).nth(1))
    assert KEY.encode() not in png
    settings = read_png_settings(png).values
    assert settings["prompt"] == PROMPT and settings["seed"] == seeds[1]
    assert (settings["width"], settings["height"]) == (256, 256)
    assert settings["steps"] == sent[-1]["body"]["steps"] == 4
    assert "parameters" in Image.open(io.BytesIO(png)).info

    data = download(page, page.get_by_test_id("stDownloadButton")
                    .filter(has_text="Download all (ZIP)"))
    assert KEY.encode() not in data
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names == [f"image_{i + 1:04d}_seed{s}.png" for i, s in enumerate(seeds)] + [
        "grid.png", "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["requests"] == [sent[-1]["body"]]
    assert manifest["provider"] == "Custom" and manifest["base_url"] == fresh_backend.base_url
    assert [i["seed"] for i in manifest["images"]] == seeds
    for name in names:
        assert KEY.encode() not in archive.read(name)
    assert Image.open(io.BytesIO(archive.read("grid.png"))).size == (512, 512)
    assert read_png_settings(archive.read(names[3])).values["seed"] == seeds[3]


def test_a_2x2_sweep_shows_a_labelled_plot(app_server, fresh_backend, page, screenshot_dir):
    open_app(page, app_server.url, "Images")
    small_image_batch(page, PROMPT, 1)
    page.get_by_text("Sweep (X/Y plot)").click()
    x_values = page.get_by_role("textbox", name="X axis values")
    x_values.fill("11, 12")
    x_values.press("Control+Enter")
    settle(page)
    pick(page, "Y axis", "Guidance scale")
    expect(page.get_by_role("textbox", name="Y axis values")).to_be_visible()
    settle(page)
    y_values = page.get_by_role("textbox", name="Y axis values")
    y_values.fill("1, 9")
    y_values.press("Control+Enter")
    settle(page)
    expect(page.get_by_text("2 × 2 = 4 requests")).to_be_visible()
    page.get_by_role("button", name=re.compile("Run sweep")).click()
    settle(page)
    expect(page.get_by_text("4 of 4 images")).to_be_visible()
    plot = page.get_by_test_id("stImage").filter(has_text="X/Y plot: Seed × Guidance scale")
    expect(plot).to_be_visible()
    assert plot.locator("img").evaluate(
        "img => img.decode().then(() => img.naturalWidth)") > 256
    expect(tiles(page)).to_have_count(4)
    assert_no_exception(page)
    plot.evaluate("el => el.scrollIntoView({block: 'center'})")  # clear of the app header
    page.screenshot(path=str(screenshot_dir / "images_sweep.png"))


def test_a_failed_request_keeps_the_others_with_a_clear_message(app_server, fresh_backend,
                                                                page, screenshot_dir):
    open_app(page, app_server.url, "Images")
    small_image_batch(page, PROMPT, 8)
    expect(page.get_by_text("in 2 requests")).to_be_visible()
    fresh_backend.add_fault({"kind": "status", "status": 400, "path": "images"})
    generate(page)
    expect(tiles(page)).to_have_count(4)
    expect(page.get_by_text("4 of 8 images")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Images \d, \d, \d, \d: Invalid request \(HTTP 400\)"))
           ).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Image \d failed\.$"))).to_have_count(4)
    assert_no_exception(page)
    assert "Traceback" not in page.content()
    page.screenshot(path=str(screenshot_dir / "images_failure.png"), full_page=True)
