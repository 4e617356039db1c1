"""Navigation and the home page drawn from the page registry (issue 11 item 7, issue 12
item 2): grouped titled links in the sidebar, a card per page on the home page."""
from __future__ import annotations

import pytest

from lib.page_registry import HOME, PAGES, grouped, page
from lib.saved import History, history
from tests.support.pages import open_page
from tests.support.shown import shown

ORDER = [page(HOME).title, *(p.title for _, members in grouped() for p in members)]


def _links(block) -> list[tuple[str, str]]:
    return [(link.proto.label, link.proto.icon) for link in block.get("page_link")]


def test_home_draws_the_grouped_navigation_and_a_card_per_page(local):
    at = open_page("playground.py")
    assert [t.value for t in at.title] == ["Together Playground"]
    nav = _links(at.sidebar)
    assert [label for label, _ in nav] == ORDER
    assert dict(nav) == {p.title: p.icon for p in PAGES}
    assert "playground" not in " ".join(label for label, _ in nav).lower()
    sidebar_captions = [c.value for c in at.sidebar.caption]
    assert [g for g, _ in grouped()] == [c for c in sidebar_captions if c in dict(grouped())]

    cards = _links(at.main)
    assert [label for label, _ in cards] == ORDER[1:]
    text = " ".join(shown(e) for e in [*at.main.caption, *at.main.markdown])
    for _, members in grouped():
        for p in members:
            assert p.blurb in text and p.sample in text


def test_home_says_where_it_is_connected(local):
    at = open_page("playground.py")
    status = " ".join(shown(i) for i in at.info)
    assert "Connected to **Local** · No key is sent to 127.0.0.1:" in status


@pytest.mark.parametrize("target", [p for p in PAGES if p.key not in (HOME, "presenter")],
                         ids=lambda p: p.key)
def test_every_page_has_its_registry_title_and_the_same_navigation(local, target):
    at = open_page("playground.py")
    at.switch_page(target.file).run()
    assert not at.exception, at.exception
    assert at.title[0].value == target.title
    assert [label for label, _ in _links(at.sidebar)] == ORDER


def test_presenter_draws_no_sidebar_and_no_navigation(local):
    at = open_page("playground.py")
    at.switch_page(page("presenter").file).run()
    assert not at.exception, at.exception
    assert not at.sidebar.children
    assert page(HOME).title not in [link.proto.label for link in at.get("page_link")]


def test_restore_of_a_sweep_run_opens_the_sweep_page_with_its_axes(local):
    """History's Restore goes where the registry says (``restores_into``), axes included."""
    run = History().record(history.Run(
        page="sweep", model="local/ngram-docs",
        request={"model": "local/ngram-docs", "prompt": "Sweep me", "max_tokens": 8},
        metrics={"x": {"name": "top_k", "values": [1, 5]}}))
    at = open_page("playground.py")
    at.switch_page(page("history").file).run()
    assert at.selectbox(key="history:open").value == run
    at.button(key="history:restore").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == page(page("sweep").restores_into).title
    assert at.session_state["sweep:x_name"] == "top_k"
    assert at.session_state["sweep:x_text"] == "1, 5"
    assert at.session_state["sweep.values"]["prompt"] == "Sweep me"
