"""The catalogue's messages name the field, the value and what is allowed; bodies stay minimal."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import catalogue
from lib.catalogue import COMPLETIONS, IMAGES, ValidationError, build_request, validate
from tests.support.cases import COMPLETION_CASES, IMAGE_CASES

BASE = {"completions": {"model": "m", "prompt": "p"}, "images": {"model": "m", "prompt": "p"}}


def message_for(endpoint, name, value):
    with pytest.raises(ValidationError) as info:
        validate(endpoint, {"model": "m", "prompt": "p", name: value})
    return info.value.for_field(name)


def _ids(cases):
    return [f"{name}-{i}" for i, (name, _, _) in enumerate(cases)]  # values can be unprintable
@pytest.mark.parametrize("name, value, message", COMPLETION_CASES, ids=_ids(COMPLETION_CASES))
def test_completion_parameter_messages(name, value, message):
    assert message_for(COMPLETIONS, name, value) == message


@pytest.mark.parametrize("name, value, message", IMAGE_CASES, ids=_ids(IMAGE_CASES))
def test_image_parameter_messages(name, value, message):
    assert message_for(IMAGES, name, value) == message


def test_every_parameter_has_a_message_case():
    """A new parameter must get a message case: keeps the two tables above complete."""
    assert {case[0] for case in COMPLETION_CASES} == set(COMPLETIONS.names)
    assert {case[0] for case in IMAGE_CASES} == set(IMAGES.names)


def test_required_fields_are_enforced():
    with pytest.raises(ValidationError) as info:
        validate(COMPLETIONS, {"model": "  ", "max_tokens": 5})
    assert info.value.for_field("model") == "model is required and must not be empty"
    assert info.value.for_field("prompt") == "prompt is required and must not be empty"


def test_unknown_keys_are_rejected_by_name():
    with pytest.raises(ValidationError) as info:
        build_request(COMPLETIONS, {**BASE["completions"], "temprature": 0.5})
    assert info.value.for_field("temprature").startswith(
        "temprature is not a parameter of /completions; allowed: model, prompt, max_tokens")


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        validate(COMPLETIONS, {"model": "m", "prompt": "p", "n": 0, "top_p": 2})
    assert [e.field for e in info.value.errors] == ["top_p", "n"]


def test_untouched_defaults_are_left_out_and_always_send_ones_kept():
    assert build_request(COMPLETIONS, {**COMPLETIONS.defaults(), **BASE["completions"]}) == {
        "model": "m", "prompt": "p", "max_tokens": 256, "stream": True}
    assert build_request(IMAGES, {**IMAGES.defaults(), **BASE["images"]}) == {
        "model": "m", "prompt": "p", "response_format": "base64"}


def test_changed_values_are_sent_normalised():
    body = build_request(COMPLETIONS, {**BASE["completions"], "temperature": "0.2", "n": "3",
                                       "logit_bias": {" 007 ": "-5"}, "seed": " 42 ",
                                       "model": "  org/model  "})
    assert body == {"model": "org/model", "prompt": "p", "temperature": 0.2, "n": 3,
                    "logit_bias": {"7": -5.0}, "seed": 42}


def test_pinned_defaults_are_sent():
    values = {**COMPLETIONS.defaults(), **BASE["completions"]}
    body = build_request(COMPLETIONS, values, pinned=["temperature", "echo"])
    assert body["temperature"] == 0.7 and body["echo"] is False


def test_empty_collections_and_random_seed_are_never_sent_even_pinned():
    values = {**COMPLETIONS.defaults(), **BASE["completions"]}
    body = build_request(COMPLETIONS, values, pinned=["stop", "logit_bias", "seed"])
    assert not {"stop", "logit_bias", "seed"} & set(body)


# ----------------------------------------------------------------- property

def _in_range(p: catalogue.Param) -> st.SearchStrategy:
    if p.kind == catalogue.INT:
        ints = st.integers(int(p.minimum), int(p.maximum))
        return ints.map(lambda i: i - i % p.multiple_of if p.multiple_of else i).filter(
            lambda i: i >= p.minimum)
    if p.kind == catalogue.FLOAT:
        return st.floats(p.minimum, p.maximum, allow_nan=False)
    if p.kind == catalogue.SEED:
        return st.none() | st.integers(0, catalogue.SEED_MAX)
    if p.kind == catalogue.BOOL:
        return st.booleans()
    if p.kind == catalogue.CHOICE:
        return st.sampled_from(p.choices)
    if p.kind == catalogue.STRING_LIST:
        return st.lists(st.text(min_size=1, max_size=p.max_length), max_size=p.max_items)
    if p.kind == catalogue.TOKEN_BIAS:
        return st.dictionaries(st.integers(0, 200_000).map(str),
                               st.floats(p.minimum, p.maximum, allow_nan=False), max_size=20)
    if p.name == "image_url":
        return st.sampled_from(["", "https://example.com/a.png", "http://127.0.0.1:8/x"])
    if p.kind in (catalogue.URL_LIST, catalogue.LORA_LIST):
        urls = st.sampled_from(["https://example.com/a.png", "http://127.0.0.1:8/lora"])
        item = urls if p.kind == catalogue.URL_LIST else st.fixed_dictionaries(
            {"path": urls, "scale": st.floats(p.minimum, p.maximum, allow_nan=False)})
        return st.lists(item, max_size=p.max_items)
    if p.required:
        return st.text(st.characters(blacklist_characters="\x00"), max_size=40).filter(
            str.strip)
    return st.text(st.characters(blacklist_characters="\x00"), max_size=40)


@st.composite
def in_range_values(draw, endpoint):
    values = {p.name: draw(_in_range(p)) for p in endpoint.params
              if p.required or draw(st.booleans())}
    pinned = draw(st.lists(st.sampled_from(endpoint.names), max_size=4))
    return values, pinned


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([COMPLETIONS, IMAGES]).flatmap(
    lambda ep: st.tuples(st.just(ep), in_range_values(ep))))
def test_in_range_values_always_build_a_body_of_catalogue_names(case):
    endpoint, (values, pinned) = case
    body = build_request(endpoint, values, pinned)
    assert set(body) <= set(endpoint.names)
    assert {p.name for p in endpoint.params if p.required} <= set(body)
    assert all(value is not None for value in body.values())


BIAS = COMPLETIONS["logit_bias"]


@given(st.dictionaries(st.integers(0, 10**12).map(str),
                       st.floats(-100, 100, allow_nan=False).map(lambda f: round(f, 2)),
                       max_size=20))
def test_a_bias_map_comes_back_from_its_editor_text(bias):
    text = catalogue.token_bias_text(bias)
    assert catalogue.parse_token_bias_text(BIAS, text) == {k: float(v) for k, v in bias.items()}


@pytest.mark.parametrize("text, says", [
    ("50256 -100", "line 1: write one 'token id: bias' per line (e.g. 50256: -100)"),
    ("1: 2\n\nword: 5", "line 3: logit_bias keys must be token ids"),
    ("1: -101", "line 1: logit_bias for token 1 must be a number"),
    ("7: lots", "line 1: logit_bias for token 7 must be a number"),
])
def test_a_bad_bias_line_is_named_with_what_is_allowed(text, says):
    with pytest.raises(ValueError, match="^logit_bias, " + re.escape(says)):
        catalogue.parse_token_bias_text(BIAS, text)
