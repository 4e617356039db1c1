"""The app starts on the local backend; its home page and the sidebar's navigation come
from the page registry (issue 11 item 7): grouped titled links, a card per page."""
import pytest
from playwright.sync_api import expect

from lib.page_registry import HOME, grouped
from lib.page_registry import page as registry_page  # ``page`` is Playwright's fixture
from tests.support.browser import assert_no_exception, go_to, open_app, wait_for_app

pytestmark = pytest.mark.e2e


def test_home_page_renders_on_the_local_backend(app_server, page, screenshot_dir):
    open_app(page, app_server.url)
    expect(page.get_by_role("heading", name="Together Playground")).to_be_visible()
    expect(page.get_by_text("Built-in demo backend at")).to_be_visible()
    expect(page.get_by_role("cell", name="local/ngram-docs", exact=True)).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)


def test_the_sidebar_lists_every_page_by_title_in_its_group(app_server, page):
    open_app(page, app_server.url)
    sidebar = page.get_by_test_id("stSidebar")
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # Streamlit's own menu
    titles = [registry_page(HOME).title, *(p.title for _, members in grouped() for p in members)]
    links = sidebar.get_by_test_id("stPageLink")
    expect(links).to_have_count(len(titles))
    for link, title in zip(links.all(), titles):
        expect(link.get_by_role("link")).to_have_accessible_name(title)
    for group, members in grouped():
        heading = sidebar.get_by_text(group, exact=True)
        first_link = sidebar.get_by_role("link", name=members[0].title, exact=True)
        expect(heading).to_be_visible()
        assert heading.bounding_box()["y"] < first_link.bounding_box()["y"]
    assert "playground" not in " ".join(links.all_inner_texts()).lower()
    go_to(page, "History")  # the same menu on every page but Presenter
    expect(page).to_have_title("History · Together Playground")
    expect(links).to_have_count(len(titles))


def test_a_home_card_opens_its_page(app_server, page, screenshot_dir):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_app(page, app_server.url)
    target = registry_page("compare")
    card = page.locator(f".st-key-home-card-{target.key}")
    expect(card).to_contain_text(target.blurb)
    expect(card).to_contain_text(target.sample)
    page.screenshot(path=str(screenshot_dir / "home-1280x720.png"))
    card.get_by_role("link", name=target.title, exact=True).click()
    expect(page.get_by_role("heading", name=target.title, exact=True)).to_be_visible()
    wait_for_app(page)
    expect(page).to_have_url(f"{app_server.url}/{target.title}")
    expect(page).to_have_title(f"{target.title} · Together Playground")
    assert_no_exception(page)
