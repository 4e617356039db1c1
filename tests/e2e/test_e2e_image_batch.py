"""An image batch runs in the background like a stream: a click elsewhere on the page while
it is being drawn reruns the page, which follows the batch again instead of stopping it;
Stop still ends it and keeps what arrived."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import assert_no_exception, open_app, small_image_batch, wait_for_app

pytestmark = pytest.mark.e2e

SLOW_S = 6  # the backend holds each image request this long before answering


def _sent(backend) -> list[dict]:
    return [r for r in backend.requests_seen if r["path"].endswith("/images/generations")]


def _stop(page: Page):
    """The page's Stop (Streamlit's own header has one while a script runs)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop")


def _generate_slowly(page: Page, backend) -> None:
    backend.clear_requests()
    backend.add_fault({"kind": "slow_first_byte", "seconds": SLOW_S, "path": "images"})
    page.get_by_role("button", name=re.compile("Generate images")).click()
    expect(page.get_by_text(re.compile(r"0 of 4 images · "))).to_be_visible(timeout=20_000)
    expect(_stop(page)).to_be_visible()


def test_a_click_mid_batch_does_not_stop_it_and_stop_still_does(app_server, fresh_backend,
                                                                   page):
    open_app(page, app_server.url, "Images")
    small_image_batch(page, "a lighthouse in the fog", 4)

    _generate_slowly(page, fresh_backend)
    page.get_by_role("button", name="Swap").click()   # another widget: the page reruns
    # The page follows the same batch again: its clock keeps counting, Stop is still there.
    expect(page.get_by_text(re.compile(r"0 of 4 images · [1-9]"))).to_be_visible(
        timeout=SLOW_S * 1000)
    expect(_stop(page)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^4 of 4 images in "))).to_be_visible(timeout=60_000)
    wait_for_app(page)
    tiles = page.get_by_test_id("stImage").filter(has_text=re.compile(r"seed \d+"))
    expect(tiles).to_have_count(4)
    expect(page.get_by_text("Stopped:")).to_have_count(0)
    assert len(_sent(fresh_backend)) == 1   # finished by the first request, never re-sent
    assert_no_exception(page)

    _generate_slowly(page, fresh_backend)
    _stop(page).click()
    expect(page.get_by_text(re.compile(r"Stopped: kept the 0 of 4 images"))).to_be_visible(
        timeout=10_000)
    expect(_stop(page)).to_have_count(0)
    assert_no_exception(page)
