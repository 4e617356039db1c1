"""The Compare page under AppTest on the local backend."""
import pytest

from lib.saved import History
from tests.support.pages import open_page
from tests.support.shown import shown


@pytest.fixture
def at(local):
    return open_page("pages/3_Compare.py")


def _texts(at):
    return [h.proto.body for h in at.get("html") if h.proto.body.startswith('<div class="ct">')]


def test_three_columns_each_stream_their_own_model_and_are_recorded(at, fresh_backend):
    assert [shown(m) for m in at.markdown if m.value.startswith("**")][:3] == [
        f"**{i} · local/ngram-docs**" for i in (1, 2, 3)]
    at.text_area(key="w:compare.prompt.0").set_value("The playground")
    at.selectbox(key="w:compare-col1.model.pick").set_value("local/ngram-code")
    at.slider(key="w:compare-col2.temperature.1").set_value(0.0)
    fresh_backend.clear_requests()
    at.run()
    at.button(key="compare-go").click().run()
    assert not at.exception
    sent = [r["body"] for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]
    assert sorted(b["model"] for b in sent) == ["local/ngram-code", "local/ngram-docs",
                                                "local/ngram-docs"]
    assert all(b["prompt"] == "The playground" and b["stream"] for b in sent)
    assert any(b.get("temperature") == 0.0 for b in sent)
    texts = _texts(at)
    assert len(texts) == 3 and all(len(t) > len('<div class="ct"></div>') for t in texts)
    assert sum("tok/s" in shown(c) and "tokens" in shown(c) for c in at.caption) == 3
    # Each record is completed on its run's thread, just after the run ends.
    assert all(run.join(10) for run in at.session_state["compare:runs"])
    runs = History().list(page="compare")
    assert len(runs) == 3 and all(r.status == "ok" and r.outputs[0]["text"] for r in runs)


def test_an_invalid_column_sends_nothing(at, fresh_backend):
    fresh_backend.clear_requests()
    at.button(key="compare-go").click().run()
    assert any(shown(e).startswith("Nothing was sent. Column 1:") for e in at.error)
    assert not [r for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]


def test_columns_set_up_from_completions_bring_its_prompt(local):
    """The caption says the columns are copied from Completions: its prompt comes too."""
    from streamlit.testing.v1 import AppTest
    from lib.catalogue import COMPLETIONS
    from tests.support.pages import ROOT
    app = AppTest.from_file(str(ROOT / "pages/3_Compare.py"), default_timeout=30)
    app.session_state["completions.values"] = {
        **COMPLETIONS.defaults(), "prompt": "Once upon a time", "temperature": 0.3}
    app.run()
    assert not app.exception
    assert app.text_area(key="w:compare.prompt.0").value == "Once upon a time"
    assert app.session_state["compare-col0.values"]["temperature"] == 0.3
    copy = app.button(key="compare-copy")
    assert copy.label == "Copy from Completions"   # whole at 1280×720
