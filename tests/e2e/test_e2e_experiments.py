"""Compare, Sweep, share links, presenter mode and History in headless Chromium."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer
from tests.support.browser import assert_no_exception, fill, open_app, wait_for_app

pytestmark = pytest.mark.e2e
KEY = "tgp_v1_RecognisableTestKey0123456789"


def test_compare_with_three_columns_streams_all_three(app_server, page, fresh_backend,
                                                      screenshot_dir):
    fresh_backend.configure(tokens_per_second=200)
    open_app(page, app_server.url, "Compare")
    fill(page, "Prompt", "The playground")
    page.get_by_role("button", name="Compare", exact=True).click()
    for i in range(3):
        expect(page.locator(f".st-key-col{i}-choice-0 .ct").first).not_to_be_empty(
            timeout=30_000)
    expect(page.get_by_role("button", name="Stop", exact=True)).to_have_count(0, timeout=30_000)
    # The per-column metrics line is drawn only once every column has finished.
    expect(page.get_by_text(re.compile(r"^TTFT \d+ ms · .* tokens · \$"))).to_have_count(
        3, timeout=30_000)
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "compare.png"), full_page=True)


def test_a_2_by_3_sweep_fills_six_labelled_cells(app_server, page, fresh_backend,
                                                 screenshot_dir):
    open_app(page, app_server.url, "Sweep")
    fill(page, "Prompt", "The playground")
    fill(page, "X values", "0, 0.7, 1.4")
    page.get_by_label("Y axis (rows)").click()
    page.get_by_role("option", name="Top k", exact=True).click()
    wait_for_app(page)
    fill(page, "Y values", "1, 40")
    expect(page.get_by_text("2 × 3 = 6 requests")).to_be_visible()
    page.get_by_role("button", name="Run sweep").click()
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible(timeout=60_000)
    for r in range(2):
        for c in range(3):
            expect(page.locator(f".st-key-sweep-cell-{r}-{c}")).to_contain_text("mean logprob")
    for label in ("Temperature = 0", "Temperature = 1.4", "Top k = 1", "Top k = 40"):
        expect(page.get_by_text(label, exact=True)).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "sweep.png"), full_page=True)


def test_a_share_link_restores_prompt_and_parameters_and_holds_no_key(
        app_server, browser, page, fresh_backend, screenshot_dir):
    open_app(page, app_server.url, "Completions")
    page.get_by_text("Custom", exact=True).click()
    wait_for_app(page)
    fill(page, "Base URL", fresh_backend.base_url)
    fill(page, "API key", KEY)
    fill(page, "Prompt", "A shared prompt about sampling")
    page.get_by_role("tab", name="Sampling").click()
    thumb = page.get_by_role("slider", name="Temperature")
    thumb.focus()
    for _ in range(4):
        thumb.press("ArrowRight")
    wait_for_app(page)
    temperature = thumb.input_value()
    assert temperature != "0.7"
    page.get_by_role("button", name="Copy link").click()
    wait_for_app(page)
    url = page.locator(".st-key-completions-share-link code").inner_text().strip()
    assert url.startswith(app_server.url) and "s=" in url
    assert KEY not in url and KEY not in page.url
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = fresh.new_page()
        other.goto(url)
        wait_for_app(other)
        expect(other.get_by_label("Prompt", exact=True)).to_have_value(
            "A shared prompt about sampling")
        other.get_by_role("tab", name="Sampling").click()
        expect(other.get_by_role("slider", name="Temperature")).to_have_value(temperature)
        assert KEY not in other.content()
        other.screenshot(path=str(screenshot_dir / "share_link_opened.png"), full_page=True)
    finally:
        fresh.close()


def test_presenter_mode_hides_the_sidebar_and_the_key(app_server, page, fresh_backend,
                                                       screenshot_dir):
    open_app(page, app_server.url, "Presenter")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_label("API key")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"Scene 1 of \d+"))).to_be_visible()
    fill(page, "Prompt", "The playground")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator(".st-key-choice-0 .ct").first).not_to_be_empty(timeout=30_000)
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "presenter.png"), full_page=True)


def test_history_survives_an_app_restart_and_restore_brings_back_every_parameter(
        backend, browser, fresh_backend, tmp_path, screenshot_dir):
    data = tmp_path / "data"
    first = AppServer(backend.base_url, data, tmp_path / "first.log")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = context.new_page()
        open_app(pg, first.url, "Completions")
        fill(pg, "Prompt", "Remember me after a restart")
        wait_for_app(pg)
        pg.get_by_role("tab", name="Output").click()
        box = pg.get_by_label("Max tokens", exact=True)
        expect(box).to_be_visible()
        box.fill("17")
        box.press("Enter")
        wait_for_app(pg)
        pg.get_by_role("button", name="Generate", exact=True).click()
        expect(pg.get_by_role("button", name="Generate", exact=True)).to_be_visible(
            timeout=30_000)
        expect(pg.locator(".st-key-choice-0")).to_contain_text("tokens", timeout=30_000)
    finally:
        context.close()
        first.stop()
    second = AppServer(backend.base_url, data, tmp_path / "second.log")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = context.new_page()
        open_app(pg, second.url, "History")
        expect(pg.get_by_role("combobox", name="Open a run")).to_have_value(
            re.compile("Remember me after a restart"))
        pg.screenshot(path=str(screenshot_dir / "history.png"), full_page=True)
        pg.get_by_role("button", name="Restore").click()
        wait_for_app(pg)
        expect(pg.get_by_role("heading", name="Completions")).to_be_visible()
        expect(pg.get_by_label("Prompt", exact=True)).to_have_value(
            "Remember me after a restart")
        pg.get_by_role("tab", name="Output").click()
        expect(pg.get_by_label("Max tokens", exact=True)).to_have_value("17")
        assert_no_exception(pg)
    finally:
        context.close()
        second.stop()
