"""Pages under AppTest, opened the same way by every app test."""
from __future__ import annotations

from tests.support.app_server import ROOT


def open_page(page_file: str, query: dict | None = None):
    """A page under AppTest (path relative to the project root), first run done and clean."""
    from streamlit.testing.v1 import AppTest
    app = AppTest.from_file(str(ROOT / page_file), default_timeout=30)
    app.query_params.update(query or {})
    app.run()
    assert not app.exception, app.exception
    return app
