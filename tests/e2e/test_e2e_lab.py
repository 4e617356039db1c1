"""The Prompt lab in headless Chromium against the local backend: upload, run, grade, stop,
restore."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import assert_no_exception, button, open_app, wait_for_app

pytestmark = pytest.mark.e2e
CSV = b"topic,expected\nparsing,x\nfiles,y\nthreads,z\n"
TOPICS = ("parsing", "files", "threads")
PROMPT = "Explain {} in one line:"


def _upload(page, data: bytes, name: str = "inputs.csv") -> None:
    page.get_by_role("tab", name="Upload CSV").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    wait_for_app(page)


def _cell(page, r: int, v: int):
    return page.locator(f".st-key-lab-cell-{r}-{v}")


def _cells_text(page, rows: int, variants: int) -> list[str]:
    return [_cell(page, r, v).inner_text() for r in range(rows) for v in range(variants)]


def _prompts(backend) -> list[str]:
    return [r["body"]["prompt"] for r in backend.requests_seen
            if r["method"] == "POST" and r["path"].endswith("/completions")]


def test_an_uploaded_csv_runs_on_two_variants_graded_and_restores_from_history(
        app_server, browser, page, fresh_backend, screenshot_dir):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_app(page, app_server.url, "Prompt_lab")
    _upload(page, CSV)
    expect(page.get_by_text("3 rows × 2 variants = 6 requests")).to_be_visible()
    fresh_backend.clear_requests()
    button(page, "Run lab").click()
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible(timeout=60_000)
    assert sorted(_prompts(fresh_backend)) == sorted(PROMPT.format(t) for t in TOPICS * 2)
    for r in range(3):
        for v in range(2):
            expect(_cell(page, r, v)).to_contain_text(re.compile(r"(pass|fail): at most 20 words"))
            expect(_cell(page, r, v)).to_contain_text(re.compile(r"\d+ ms · \d+ tokens"))
    for v in (1, 2):
        expect(page.get_by_text(re.compile(rf"pass \d/3 \(\d+%\) · \d+ ms mean"))
               .nth(v - 1)).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "lab.png"))
    grid = _cells_text(page, 3, 2)

    # Restored in a new session, from the page's "Earlier" and from History's Restore.
    for start, earlier in (("Prompt_lab", True), ("History", False)):
        later = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        try:
            open_app(later, app_server.url, start)
            fresh_backend.clear_requests()
            if earlier:
                later.get_by_role("button", name="Earlier").click()
            later.get_by_role("button", name="Restore", exact=True).click()
            expect(later.get_by_role("heading", name="Prompt lab").first).to_be_visible()
            wait_for_app(later)
            expect(later.get_by_text(re.compile(r"6 requests · restored"))).to_be_visible()
            assert _cells_text(later, 3, 2) == grid and not _prompts(fresh_backend)
            assert_no_exception(later)
        finally:
            later.context.close()


def test_stop_mid_run_keeps_the_finished_cells(app_server, page, fresh_backend):
    fresh_backend.configure(tokens_per_second=40)
    open_app(page, app_server.url, "Prompt_lab")
    # 20 cells on a pool of 4: Stop lands while most are still queued, however the
    # first ones' lengths fall.
    _upload(page, b"topic\n" + b"\n".join(f"topic {i}".encode() for i in range(10)))
    expect(page.get_by_text("10 rows × 2 variants = 20 requests")).to_be_visible()
    page.get_by_text("Yes, send 20 requests").click()
    wait_for_app(page)
    fresh_backend.clear_requests()
    button(page, "Run lab").click()
    expect(page.locator("[class*='st-key-lab-cell-']").filter(
        has_text=re.compile(r"\d+ ms · \d+ tokens")).first).to_be_visible(timeout=60_000)
    button(page, "Stop").click()
    expect(button(page, "Run lab")).to_be_visible(timeout=60_000)
    wait_for_app(page)
    cells = _cells_text(page, 10, 2)
    finished = [c for c in cells if re.search(r"\d+ ms · \d+ tokens", c)]
    skipped = [c for c in cells if "Not sent: the lab was stopped." in c]
    assert finished and skipped and len(finished) + len(skipped) == 20
    assert len(_prompts(fresh_backend)) == len(finished)  # nothing sent is thrown away
    expect(page.get_by_text(re.compile(r"20 requests in [\d.]+ s · \d+ failed · stopped"))
           ).to_be_visible()
    assert_no_exception(page)
