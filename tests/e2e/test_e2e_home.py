"""The app starts on the local backend and its home page renders without an exception."""
import pytest
from playwright.sync_api import expect

from tests.support.browser import assert_no_exception, open_app

pytestmark = pytest.mark.e2e


def test_home_page_renders_on_the_local_backend(app_server, page, screenshot_dir):
    open_app(page, app_server.url)
    expect(page.get_by_role("heading", name="Together Playground")).to_be_visible()
    expect(page.get_by_text("Built-in demo backend at")).to_be_visible()
    # The model table draws on a canvas; its cells exist in the DOM for accessibility only.
    expect(page.get_by_text("local/ngram-docs").first).to_be_attached()
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)
