"""Waiting on a Streamlit page the way Streamlit's own e2e suite does."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def wait_for_app(page: Page, timeout: float = 30_000) -> None:
    """Connected, script finished, no skeleton left."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']",
                           timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def open_app(page: Page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    wait_for_app(page)


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
