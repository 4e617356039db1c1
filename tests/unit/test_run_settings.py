"""Restore and replay settings from recorded requests."""
from lib.catalogue import COMPLETIONS, build_request
from lib.saved.run_settings import settings_from_request


def test_a_built_request_comes_back_as_every_widget_value_and_its_pins():
    values = {**COMPLETIONS.defaults(), "model": "m", "prompt": "p", "temperature": 0.3,
              "stop": ["\n"], "seed": 5}
    body = build_request(COMPLETIONS, values, pinned=["top_k"])
    restored, pinned = settings_from_request(COMPLETIONS, body)
    assert restored == values and pinned == ["top_k"]


def test_unknown_or_invalid_recorded_fields_are_dropped_not_fatal():
    restored, _ = settings_from_request(COMPLETIONS, {"model": "m", "prompt": "p",
                                                      "temperature": 99, "bogus": 1})
    assert restored["temperature"] == COMPLETIONS["temperature"].default
    assert "bogus" not in restored
