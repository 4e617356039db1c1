"""Presets: built-ins, the user's file, export/import, and hostile or broken input."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.catalogue import ENDPOINTS, build_request, validate
from lib.saved.presets import (BUILTINS, FORMAT, MAX_BYTES, Preset, PresetError, PresetExists,
                               PresetStore, default_path, parse_document)


@pytest.fixture
def store(tmp_path) -> PresetStore:
    return PresetStore(tmp_path / "presets.json")


def mine(name: str = "Mine", page: str = "completions", **values) -> Preset:
    return Preset(name, page, values or {"temperature": 0.3, "max_tokens": 64})


def doc(*presets: dict, **top) -> str:
    return json.dumps({"format": FORMAT, "version": 1, "presets": list(presets), **top})


def test_default_path_is_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    assert default_path() == tmp_path / "presets.json"


# ---------------------------------------------------------------- built-ins

def test_builtins_are_valid_normalised_and_described():
    names = {(p.page, p.name) for p in BUILTINS}
    assert {("completions", "Deterministic"), ("completions", "Creative"),
            ("completions", "Strict factual"), ("completions", "Sampler off (neutral)"),
            ("images", "Fast draft"), ("images", "Detailed"),
            ("images", "Portrait 3:4")} <= names
    for p in BUILTINS:
        endpoint = ENDPOINTS[p.page]
        assert validate(endpoint, p.values, require=False) == p.values, p.name
        assert set(p.pinned) <= set(endpoint.names)
        assert p.builtin and 20 < len(p.description) < 200 and "\n" not in p.description


def test_deterministic_sends_temperature_zero_and_a_seed():
    det = next(p for p in BUILTINS if p.name == "Deterministic")
    values = det.apply_to({**ENDPOINTS["completions"].defaults(), "model": "m", "prompt": "p"})
    body = build_request(ENDPOINTS["completions"], values, det.pinned)
    assert body["temperature"] == 0.0 and isinstance(body["seed"], int)


def test_neutral_sampler_sends_its_neutral_values_explicitly():
    neutral = next(p for p in BUILTINS if p.name == "Sampler off (neutral)")
    values = neutral.apply_to({**ENDPOINTS["completions"].defaults(), "model": "m",
                               "prompt": "p"})
    body = build_request(ENDPOINTS["completions"], values, neutral.pinned)
    assert (body["temperature"], body["top_p"], body["repetition_penalty"],
            body["presence_penalty"], body["frequency_penalty"], body["min_p"]) == (
        1.0, 1.0, 1.0, 0.0, 0.0, 0.0)


def test_apply_keeps_what_the_preset_leaves_out():
    creative = next(p for p in BUILTINS if p.name == "Creative")
    out = creative.apply_to({"model": "m", "prompt": "hello", "temperature": 0.7, "n": 3})
    assert (out["model"], out["n"], out["temperature"]) == ("m", 3, 1.1)


def test_every_builtin_completions_preset_is_a_scene_that_runs_as_is():
    """Presenter shows them as scenes: Generate right after opening must send something."""
    for preset in (p for p in BUILTINS if p.page == "completions"):
        values = preset.apply_to({**ENDPOINTS["completions"].defaults(), "model": "m"})
        body = build_request(ENDPOINTS["completions"], values, preset.pinned)
        assert body["prompt"].strip() and body["max_tokens"] <= 100, preset.name


def test_builtins_are_listed_first_and_cannot_be_changed(store):
    store.save(mine("Aardvark"))
    listed = [p.name for p in store.list("completions")]
    assert listed[:4] == ["Deterministic", "Creative", "Strict factual",
                          "Sampler off (neutral)"]
    assert listed[-1] == "Aardvark"
    assert [p.page for p in store.list("images")] == ["images"] * 4
    for attempt in (lambda: store.save(mine("Creative")),
                    lambda: store.save(mine("Creative"), replace=True),
                    lambda: store.delete("completions", "Creative"),
                    lambda: store.rename("completions", "Creative", "X"),
                    lambda: store.rename("completions", "Aardvark", "Deterministic")):
        with pytest.raises(PresetError, match="built-in"):
            attempt()
    assert store.load("completions", "Creative").values["temperature"] == 1.1


def test_a_builtin_name_is_free_on_the_other_page(store):
    store.save(mine("Creative", page="images", steps=30))
    assert store.load("images", "Creative").values == {"steps": 30}


# ---------------------------------------------------------------- the user's presets

def test_save_load_normalises_and_survives_a_new_store(store):
    store.save(Preset("  My   run ", "completions", {"temperature": "0.5", "top_k": 7.0,
                                                      "stop": ["\n\n"]}, ["top_k", "top_k"],
                      "mine"))
    again = PresetStore(store.path).load("completions", "My run")
    assert again.values == {"temperature": 0.5, "top_k": 7, "stop": ["\n\n"]}
    assert again.pinned == ["top_k"] and again.description == "mine" and not again.builtin


def test_save_refuses_to_overwrite_unless_asked(store):
    store.save(mine())
    with pytest.raises(PresetExists, match="already exists"):
        store.save(mine(temperature=1.0))
    store.save(mine(temperature=1.0), replace=True)
    assert store.load("completions", "Mine").values == {"temperature": 1.0}
    assert [p.name for p in store.list("completions")].count("Mine") == 1


def test_save_rejects_bad_values_naming_preset_and_field(store):
    with pytest.raises(PresetError, match=r"Preset 'Hot'.*field 'temperature'.*from 0 to 2"):
        store.save(Preset("Hot", "completions", {"temperature": 9}))
    with pytest.raises(PresetError, match=r"Preset 'Typo'.*field 'temprature'"):
        store.save(Preset("Typo", "completions", {"temprature": 1}))
    with pytest.raises(PresetError, match="page must be one of completions, images"):
        store.save(Preset("X", "chat", {}))
    with pytest.raises(PresetError, match="pinned must list parameter names"):
        store.save(Preset("X", "images", {}, ["temperature"]))
    with pytest.raises(PresetError, match="name must be non-empty"):
        store.save(Preset("   ", "images", {}))
    assert not store.path.exists()


def test_rename_and_delete(store):
    store.save(mine("A"))
    store.save(mine("B"))
    with pytest.raises(PresetExists):
        store.rename("completions", "A", "B")
    assert store.rename("completions", "A", "C").name == "C"
    assert [p.name for p in store.list("completions")][4:] == ["B", "C"]
    store.delete("completions", "B")
    with pytest.raises(PresetError, match="no completions preset named 'B'"):
        store.delete("completions", "B")
    with pytest.raises(PresetError, match="no completions preset named 'A'"):
        store.load("completions", "A")
    with pytest.raises(PresetError, match="no completions preset"):
        store.rename("completions", "A", "D")


def test_a_broken_store_file_is_reported_and_left_alone(store):
    store.path.write_text('{"format": "together-playground-presets", "version": 1, '
                          '"presets": [{"name": "x", "page": "images", '
                          '"values": {"steps": 500}}]}')
    before = store.path.read_bytes()
    with pytest.raises(PresetError, match=r"Preset 'x'.*steps must be an integer from 1 to 50"):
        store.list()
    with pytest.raises(PresetError):
        store.save(mine())
    assert store.path.read_bytes() == before


def test_writes_leave_no_temporary_files(store):
    store.save(mine("A"))
    store.save(mine("B"))
    store.delete("completions", "A")
    assert [p.name for p in store.path.parent.iterdir()] == ["presets.json"]


# ---------------------------------------------------------------- export / import

def test_export_import_round_trip_into_another_store(store, tmp_path):
    store.save(mine("A", temperature=0.1))
    store.save(mine("B", page="images", steps=9, width=512))
    text = store.export_json()
    other = PresetStore(tmp_path / "other" / "presets.json")
    imported = other.import_json(text)
    assert [(p.name, p.page, p.values) for p in imported] == [
        ("A", "completions", {"temperature": 0.1}), ("B", "images", {"steps": 9, "width": 512})]
    assert other.load("images", "B").values == {"steps": 9, "width": 512}


def test_export_can_choose_and_never_includes_builtins(store):
    store.save(mine("A"))
    store.save(mine("B"))
    store.save(mine("C", page="images", steps=3))
    names = lambda text: [p["name"] for p in json.loads(text)["presets"]]  # noqa: E731
    assert names(store.export_json()) == ["A", "B", "C"]
    assert names(store.export_json(page="images")) == ["C"]
    assert names(store.export_json(names=["B"])) == ["B"]


def test_import_is_all_or_nothing_and_asks_before_replacing(store):
    store.save(mine("A", temperature=0.1))
    good = {"name": "New", "page": "completions", "values": {"top_p": 0.5}}
    clash = {"name": "A", "page": "completions", "values": {"temperature": 2.0}}
    with pytest.raises(PresetExists, match="'A'"):
        store.import_json(doc(good, clash))
    assert [p.name for p in store.list("completions")][4:] == ["A"]
    store.import_json(doc(good, clash), replace=True)
    assert store.load("completions", "A").values == {"temperature": 2.0}
    with pytest.raises(PresetError, match="built-in"):
        store.import_json(doc({"name": "Creative", "page": "completions", "values": {}}),
                          replace=True)


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "not a playground presets file"),
    (json.dumps({"format": FORMAT, "version": 2, "presets": []}), "version 2"),
    (json.dumps({"format": FORMAT, "version": 1, "presets": {}}), '"presets" list'),
    (doc(7), "preset 1 must be an object"),
    (doc({"page": "images", "values": {}}), "name must be non-empty text"),
    (doc({"name": "N", "page": "images", "values": {}, "evil": 1}), "unknown field 'evil'"),
    (doc({"name": "N", "page": "images", "values": []}), "values must be an object"),
    (doc({"name": "N", "page": "images", "values": {"seed": True}}), "field 'seed'"),
    (doc({"name": "N", "page": "images", "values": {"width": 1e999}}), "field 'width'"),
    (doc({"name": "N", "page": "images", "values": {}, "description": 5}), "description"),
    (doc({"name": "N", "page": "images", "values": {}},
         {"name": "N", "page": "images", "values": {}}), "two images presets named 'N'"),
    ("[" * 50_000, "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
])
def test_tampered_imports_fail_with_a_plain_message(store, text, message):
    with pytest.raises(PresetError, match=message):
        store.import_json(text)
    assert not store.path.exists()


def test_imports_are_size_bounded_before_parsing(store):
    text = doc({"name": "N", "page": "completions", "values": {"prompt": "x" * MAX_BYTES}})
    with pytest.raises(PresetError, match="at most 1,000,000 bytes"):
        store.import_json(text)


def test_error_messages_stay_short_for_huge_keys(store):
    with pytest.raises(PresetError) as info:
        store.import_json(doc({"name": "N", "page": "images", "values": {"k" * 500_000: 1}}))
    assert len(str(info.value)) < 600


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "page", "values", "pinned", "description", "temperature",
                         "steps", "seed", "stop", "logit_bias", "x"]), kids, max_size=5),
    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.text(max_size=300), st.binary(max_size=300),
    json_values.map(doc),
    json_values.map(lambda v: doc({"name": "n", "page": "completions", "values": v})),
    st.fixed_dictionaries({"name": st.text(max_size=5), "page": json_values,
                           "values": json_values, "pinned": json_values}).map(doc)))
def test_arbitrary_input_only_ever_raises_preset_error(text):
    try:
        presets = parse_document(text, source="input")
    except PresetError:
        return
    for p in presets:
        assert validate(ENDPOINTS[p.page], p.values, require=False) == p.values
