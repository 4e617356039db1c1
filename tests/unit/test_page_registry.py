"""The page registry is the one place a page's identity is written (issue 12 item 2)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lib.catalogue import ENDPOINTS
from lib.page_registry import GROUPS, HOME, PAGES, find, grouped, page
from lib.saved import history, sharelink
from lib.saved.sharelink import ShareLinkError, check_state

ROOT = Path(__file__).resolve().parents[2]


def _shell_keys(path: Path) -> list[object]:
    """The first argument of every ``page_shell(...)`` call in a page file."""
    return [node.args[0].value if node.args and isinstance(node.args[0], ast.Constant)
            else ast.dump(node)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "page_shell"]


def _run(page_key: str) -> history.Run:
    return history.Run(page=page_key, model="m/x", request={"model": "m/x", "prompt": "hi"})


@pytest.mark.parametrize("entry", PAGES, ids=lambda p: p.key)
def test_every_page_file_exists_and_opens_with_its_own_shell(entry):
    path = ROOT / entry.file
    assert path.is_file(), entry.file
    assert _shell_keys(path) == [entry.key]


def test_every_file_in_pages_is_registered():
    registered = {p.file for p in PAGES}
    on_disk = {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py")} | {"playground.py"}
    assert on_disk == registered


def test_keys_and_titles_are_unique_and_home_is_called_home():
    assert len({p.key for p in PAGES}) == len({p.title for p in PAGES}) == len(PAGES)
    assert page(HOME).title == "Home" and page(HOME).file == "playground.py"
    assert all("playground" not in p.title.lower() for p in PAGES)


def test_every_page_but_home_is_in_a_group_with_a_blurb_a_sample_and_an_icon():
    assert [p for _, members in grouped() for p in members] == [p for p in PAGES
                                                                if p.key != HOME]
    assert [g for g, members in grouped() if members] == list(GROUPS)
    for p in PAGES:
        assert p.icon.startswith(":material/") and p.blurb
        assert p.key == HOME or (p.group in GROUPS and p.sample)


def test_references_point_at_real_pages_and_endpoints():
    for p in PAGES:
        assert p.endpoint is None or p.endpoint in ENDPOINTS
        assert not p.shareable or p.endpoint is not None
        assert p.restores_into is None or page(p.restores_into).endpoint is not None


def test_lookup_of_a_name_that_is_not_a_page():
    assert find("nope") is None and find(None) is None and find(["home"]) is None
    with pytest.raises(KeyError, match="no page 'nope'"):
        page("nope")


def test_share_links_accept_exactly_the_shareable_pages():
    for p in PAGES:
        s = {"page": p.key, "values": {"model": "m/x"}, "pinned": [], "extra": {}}
        if p.shareable:
            assert check_state(s)["page"] == p.key
        else:
            with pytest.raises(ShareLinkError, match="unknown page"):
                check_state(s)
    assert sharelink.PAGE_ENDPOINTS == {p.key: p.endpoint for p in PAGES if p.shareable}


def test_history_restores_and_replays_from_the_registry():
    from lib.ui import history_view
    for p in PAGES:
        target = history_view.restore_target(_run(p.key))
        assert (target.key if target else None) == p.restores_into
        assert history_view.replayable(_run(p.key)) == p.replayable
    assert history_view.restore_target(_run("a page from a newer version")) is None
    assert not history_view.replayable(_run("a page from a newer version"))


def test_the_old_identity_tables_are_gone():
    from lib.text import record
    from lib.ui import compare_view, history_view, presenter_view, share
    assert not hasattr(share, "NAMES")
    assert not hasattr(history_view, "TARGETS") and not hasattr(history_view, "REPLAYABLE")
    assert record.PAGE == compare_view.SOURCE_PAGE == presenter_view.SOURCE_PAGE == page(
        "completions").key
    assert presenter_view.PAGE == page("presenter").key


def test_no_module_but_the_registry_names_a_page_file():
    """A page file's path is written once: Restore and the navigation read it from there."""
    sources = [*(ROOT / "lib").rglob("*.py"), *(ROOT / "pages").glob("*.py"),
               ROOT / "playground.py"]
    naming = {str(f.relative_to(ROOT)) for f in sources
              for node in ast.walk(ast.parse(f.read_text(encoding="utf-8")))
              if isinstance(node, ast.Constant) and isinstance(node.value, str)
              and (node.value.startswith("pages/") or node.value == "playground.py")}
    assert naming == {"lib/page_registry.py"}
