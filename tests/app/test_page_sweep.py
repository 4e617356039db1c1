"""The Sweep page under AppTest on the local backend."""
import pytest

from lib.saved import History
from tests.support.pages import open_page
from tests.support.shown import shown


@pytest.fixture
def at(local):
    return open_page("pages/4_Sweep.py")


def test_a_2_by_3_sweep_fills_six_labelled_cells_and_is_recorded(at, fresh_backend):
    at.text_area(key="w:sweep.prompt.0").set_value("The playground")
    at.selectbox(key="w:sweep:x_name").set_value("top_k")
    at.text_input(key="w:sweep:x_text").set_value("1, 5, 40")
    at.selectbox(key="w:sweep:y_name").set_value("temperature")
    at.run()
    at.text_input(key="w:sweep:y_text").set_value("0, 1")
    at.run()
    assert any("2 × 3 = 6 requests" in m.value and "at most $0 " in m.value + " "
               for m in at.markdown)
    fresh_backend.clear_requests()
    at.button(key="sweep-run").click().run()
    assert not at.exception
    sent = [r["body"] for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]
    assert len(sent) == 6 and all(b["logprobs"] == 1 and b["stream"] is False for b in sent)
    assert len({b["seed"] for b in sent}) == 1
    headers = [m.value for m in at.markdown]
    for label in ("**Top k = 1**", "**Top k = 5**", "**Top k = 40**",
                  "**Temperature = 0**", "**Temperature = 1**"):
        assert label in headers
    cells = [c.value for c in at.caption if "· mean logprob" in c.value]
    assert len(cells) == 6 and all("tokens" in c and " ms" in c for c in cells)
    assert [b.label for b in at.get("download_button")][-2:] == ["Export CSV", "Export JSON"]
    (run,) = History().list(page="sweep")
    assert run.status == "ok" and len(run.outputs) == 6
    assert run.metrics["x"] == {"name": "top_k", "values": [1, 5, 40]}


def test_a_big_sweep_asks_for_confirmation_before_sending(at, fresh_backend):
    at.text_area(key="w:sweep.prompt.0").set_value("Hi")
    at.selectbox(key="w:sweep:x_name").set_value("seed")
    at.text_input(key="w:sweep:x_text").set_value("1 to 12")
    at.selectbox(key="w:sweep:y_name").set_value("top_k")
    at.run()
    at.text_input(key="w:sweep:y_text").set_value("1, 2")
    at.run()
    fresh_backend.clear_requests()
    at.button(key="sweep-run").click().run()
    assert any("tick the box" in w.value for w in at.warning)
    assert not [r for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]


def test_bad_axis_values_say_what_to_fix(at):
    at.text_area(key="w:sweep.prompt.0").set_value("Hi")
    at.text_input(key="w:sweep:x_text").set_value("0.5, 7")
    at.run()
    assert any(shown(c).startswith("Not ready to run: Temperature:") for c in at.caption)
    assert at.button(key="sweep-run").disabled
