"""ParamSettings: one value for a page's settings, checked once, sent once."""
import pytest

from lib.catalogue import COMPLETIONS, IMAGES, ValidationError
from lib.param_settings import ParamSettings, describe

BASE = {"model": "m", "prompt": "p"}


def test_check_names_each_bad_field_with_what_is_allowed_and_what_came():
    problems = ParamSettings(COMPLETIONS, {"temperature": 5, "n": 0, "bogus": 1},
                             ["nope"]).check()
    by_field = {p.field: p.message for p in problems}
    assert by_field["temperature"] == "temperature must be a number from 0 to 2, got 5"
    assert by_field["n"] == "n must be an integer from 1 to 128, got 0"
    assert by_field["bogus"].startswith("bogus is not a parameter of /completions; allowed: ")
    assert by_field["pinned"].startswith("pinned must list parameter names of /completions, "
                                         "got ['nope']")
    assert {"model", "prompt"} <= set(by_field)      # required, and empty


def test_saved_settings_need_no_model_or_prompt_and_good_ones_have_no_problems():
    assert ParamSettings(COMPLETIONS, {"temperature": 0.2}).check(require=False) == []
    assert ParamSettings(COMPLETIONS, {**BASE, "temperature": 0.2}, ["seed"]).check() == []


@pytest.mark.parametrize("pinned", ["seed", [1], None, {"seed": 1}])
def test_pins_that_are_not_a_list_of_names_are_a_problem(pinned):
    with pytest.raises(ValidationError) as info:
        ParamSettings(COMPLETIONS, {}, pinned).parse()
    assert info.value.for_field("pinned").startswith("pinned must list parameter names")


def test_parse_normalises_values_and_pins():
    settings = ParamSettings(COMPLETIONS, {"temperature": "0.5", "n": "3"},
                             ["seed", "seed"]).parse()
    assert settings.values == {"temperature": 0.5, "n": 3} and settings.pinned == ("seed",)


def test_body_leaves_untouched_defaults_out_unless_pinned():
    values = {**COMPLETIONS.defaults(), **BASE, "temperature": 0.3}
    assert ParamSettings(COMPLETIONS, values).body() == {
        **BASE, "max_tokens": 256, "temperature": 0.3, "stream": True}
    assert ParamSettings(COMPLETIONS, values, ["top_k"]).body()["top_k"] == 50


def test_body_refuses_with_every_problem_and_sends_nothing():
    with pytest.raises(ValidationError) as info:
        ParamSettings(COMPLETIONS, {"prompt": "", "top_p": 2}, ["x"]).body()
    assert {e.field for e in info.value.errors} == {"model", "prompt", "top_p", "pinned"}


def test_effective_gives_the_value_with_defaults_included():
    body = ParamSettings(IMAGES, {**IMAGES.defaults(), **BASE, "width": 512}).body()
    assert "n" not in body and "height" not in body
    settings = ParamSettings(IMAGES, body)
    assert (settings.effective("n"), settings.effective("width"),
            settings.effective("height"), settings.effective("seed")) == (1, 512, 1024, None)
    assert ParamSettings(COMPLETIONS, {}).effective("stop") == []


def test_a_recorded_request_comes_back_as_every_value_and_its_pins():
    body = ParamSettings(COMPLETIONS, {**COMPLETIONS.defaults(), **BASE, "seed": 5},
                         ["top_k"]).body()
    restored = ParamSettings.from_request(COMPLETIONS, {**body, "temperature": 99, "x": 1})
    assert restored.values == {**COMPLETIONS.defaults(), **BASE, "seed": 5}
    assert restored.pinned == ("top_k",)


def test_describe_is_one_sentence_in_the_catalogue_words():
    problems = ParamSettings(COMPLETIONS, {"model": "m", "top_p": 2}).check()
    assert describe(problems) == ("top_p must be a number from 0 to 1, got 2; "
                                  "prompt is required and must not be empty.")


def test_keep_valid_restores_what_checks_out_and_names_what_it_left_out():
    settings, dropped = ParamSettings.keep_valid(IMAGES, {"width": 513, "steps": "12",
                                                          "seed": 7})
    assert settings.values == {"steps": 12, "seed": 7}
    assert [(p.field, p.message) for p in dropped] == [
        ("width", "width must be an integer from 64 to 2048 and a multiple of 8, got 513")]
