"""A widget touch is a rerun of the page and nothing more (issue 14): it neither lists the
models again nor trains (or loads) the local models."""
import pytest

from lib.local_backend import model_cache
from tests.support.pages import open_page

PAGE_FILE = "pages/1_Completions.py"


def _model_lists(backend) -> int:
    return sum(r["path"].rstrip("/").endswith("/models") for r in backend.requests_seen)


@pytest.fixture
def trainings(monkeypatch):
    """How many times the local models were trained or loaded from the cache."""
    calls = []
    real = model_cache.load_or_train
    monkeypatch.setattr(model_cache, "load_or_train", lambda: calls.append(1) or real())
    return calls


def test_a_slider_touch_on_completions_neither_lists_models_nor_trains(local, trainings):
    at = open_page(PAGE_FILE)
    listed = _model_lists(local)
    for value in (0.3, 1.1, 0.5):
        at.slider(key="w:completions.temperature.0").set_value(value).run()
        assert not at.exception
    assert _model_lists(local) == listed
    assert trainings == []

