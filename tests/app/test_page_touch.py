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



def _set_by_code(at) -> list[str]:
    """Widgets whose value the page wrote from code in the last run: the browser re-applies
    each of those on every rerun."""
    widgets = [*at.slider, *at.number_input, *at.text_area, *at.text_input, *at.toggle,
               *at.selectbox, *at.multiselect, *at.radio]
    return [w.key for w in widgets if getattr(w.proto, "set_value", False)]


def test_a_slider_touch_writes_no_widget_value_from_code(local):
    at = open_page(PAGE_FILE)
    at.slider(key="w:completions.temperature.0").set_value(0.3).run()
    assert _set_by_code(at) == []
    assert at.slider(key="w:completions.temperature.0").value == 0.3


def test_reset_still_puts_every_value_back_on_screen(local):
    at = open_page(PAGE_FILE)
    at.slider(key="w:completions.temperature.0").set_value(0.3).run()
    at.button(key="reset").click().run()
    assert at.slider(key="w:completions.temperature.1").value == 0.7
    assert _set_by_code(at) != []   # the restored values are sent to the browser
