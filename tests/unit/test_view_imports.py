"""Page views (``lib/ui/<page key>_view.py``) do not import each other for shared helpers
(issue 12 item 2): what two pages share lives below them (the catalogue, the registry, a
small module such as ``sweep_axes``). Shared pieces like ``stream_view`` are not page views."""
from __future__ import annotations

import ast
from pathlib import Path

from lib.page_registry import PAGES

ROOT = Path(__file__).resolve().parents[2]
PAGE_VIEWS = {f"{p.key}_view" for p in PAGES}


def _views_imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module.rsplit(".", 1)[-1]} | {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.rsplit(".", 1)[-1] for a in node.names}
    return names & PAGE_VIEWS


def test_no_view_imports_another_view():
    pairs = {(view, other) for view in PAGE_VIEWS if (ROOT / "lib/ui" / f"{view}.py").exists()
             for other in _views_imported(ROOT / "lib/ui" / f"{view}.py") if other != view}
    assert pairs == set()


def test_a_page_imports_no_view_but_its_own():
    assert _views_imported(ROOT / "pages" / "4_Sweep.py") == {"sweep_view"}
    assert _views_imported(ROOT / "pages" / "5_History.py") == {"history_view"}
