"""History, presets, share links and presenter mode under AppTest on the local backend."""
import json

import requests

from lib.saved import History, PresetStore, Run, sharelink
from lib.ui import presets_panel
from lib.saved.history import OK
from tests.support.pages import open_page
from tests.support.shown import shown


def _app(path):
    return open_page(f"pages/{path}")


def _seeded_completion(seed=11):
    at = _app("1_Completions.py")
    at.text_area(key="w:completions.prompt.0").set_value("The playground")
    at.session_state["completions.seed.mode"] = "fixed"
    at.session_state["completions.seed.text"] = str(seed)
    at.slider(key="w:completions.temperature.0").set_value(1.3)
    at.run()
    at.button(key="generate").click().run()
    assert not at.exception
    return at


def test_replay_of_a_seeded_local_run_is_identical_and_restore_brings_settings_back(local):
    _seeded_completion()
    (run,) = History().list(page="completions")
    at = _app("5_History.py")
    assert "The playground" in at.selectbox(key="history:open").format_func(run.id)
    at.button(key="history:replay").click().run()
    assert not at.exception
    assert any(shown(s).startswith("Replay with seed 11: identical") for s in at.success)
    at.button(key="history:restore").click().run()
    values = at.session_state["completions.values"]
    assert values["seed"] == 11 and values["temperature"] == 1.3
    assert values["prompt"] == "The playground"


def test_replay_of_an_unseeded_n2_run_reruns_each_choice_with_its_own_seed(local):
    request = {"model": "local/ngram-docs", "prompt": "The playground", "n": 2,
               "max_tokens": 15, "temperature": 1.0, "logit_bias": {"0": -100}}
    choices = requests.post(f"{local.base_url}/completions", json=request,
                            timeout=30).json()["choices"]
    History().record(Run(page="completions", model=request["model"], request=request,
                         status=OK, outputs=choices, title="The playground"))
    at = _app("5_History.py")
    at.button(key="history:replay").click().run()
    assert not at.exception and not at.warning
    seeds = ", ".join(str(c["seed"]) for c in choices)
    assert [shown(s) for s in at.success] == [
        f"Replay with each choice's own seed ({seeds}): identical: 2 of 2 choices match"]


def test_a_corrupt_history_file_is_reported_and_left_alone(local, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    (tmp_path / "history.db").write_bytes(b"not a database at all" * 100)
    at = _app("5_History.py")
    assert any("not a readable history database" in shown(e) for e in at.error)
    assert (tmp_path / "history.db").read_bytes() == b"not a database at all" * 100


def test_delete_all_asks_first(local):
    _seeded_completion()
    at = _app("5_History.py")
    at.button(key="history:delete_all").click().run()
    assert History().count() == 1
    at.button(key="history:delete_all_yes").click().run()
    assert History().count() == 0


def test_a_preset_round_trips_through_save_export_import_and_load(local):
    at = _app("1_Completions.py")
    at.slider(key="w:completions.temperature.0").set_value(1.55)
    at.session_state[presets_panel.open_key("completions")] = True
    at.run()
    at.text_input(key="completions:preset_name").set_value("Hot")
    at.button(key="completions:preset_save").click().run()
    assert any(shown(s) == "Saved 'Hot'." for s in at.success)
    exported = PresetStore().export_json(page="completions")
    PresetStore().delete("completions", "Hot")
    PresetStore().import_json(exported)
    at.slider(key="w:completions.temperature.0").set_value(0.1)
    at.run()
    at.selectbox(key="completions:preset_pick").set_value("Hot")
    at.button(key="completions:preset_load").click().run()
    assert at.session_state["completions.values"]["temperature"] == 1.55
    assert json.loads(exported)["presets"][0]["values"]["temperature"] == 1.55


def test_a_share_link_restores_the_page_and_a_tampered_one_says_so(local):
    params = sharelink.encode_state({"page": "completions", "values": {
        "prompt": "From a link", "temperature": 0.25, "model": "local/ngram-code"}})
    at = open_page("pages/1_Completions.py", params)
    values = at.session_state["completions.values"]
    assert (values["prompt"], values["temperature"], values["model"]) == (
        "From a link", 0.25, "local/ngram-code")
    bad = open_page("pages/1_Completions.py", {"s": params["s"][:-9], "v": "1"})
    assert any(shown(e).startswith("This link could not be opened") for e in bad.error)


def test_presenter_mode_steps_through_scenes_and_generates(local):
    at = _app("6_Presenter.py")
    assert not at.sidebar.text_input  # no key field at all
    assert any("Scene 1 of" in m.value and "Deterministic" in m.value for m in at.markdown)
    assert at.session_state["presenter.values"]["seed"] == 42
    at.button(key="presenter-next").click().run()
    assert any("Scene 2 of" in m.value and "Creative" in m.value for m in at.markdown)
    assert at.session_state["presenter.values"]["temperature"] == 1.1
    next(t for t in at.text_area if t.label == "Prompt").set_value("The playground")
    at.run()
    at.button(key="presenter-generate").click().run()
    assert not at.exception
    assert [h for h in at.get("html") if h.proto.body.startswith('<div class="ct">')]
