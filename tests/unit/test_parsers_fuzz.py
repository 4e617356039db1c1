"""The wire parsers over odd and arbitrary JSON: well-typed results or a TogetherError.

Every parser that turns a server's JSON into results is fed arbitrary JSON plus the
shapes servers really get wrong: NaN and Infinity (Python's json reads both), ints too big
for a float or a 64-bit column, numbers as strings, lists where objects go, lone
surrogates. Each is called through ``parse_or_explain``, as the client calls it. Whatever comes
back must be usable by a page: numbers finite or None, seeds and ids whole numbers or
None, text that encodes as UTF-8. The examples after the property tests are the
regressions each of those shapes once caused, the last ones over real HTTP.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.api import Client, TogetherError, wire
from lib.api.results import Choice, Completion, ModelInfo, StreamEvent, TokenLogprob, Usage
from lib.api.wire import (parse_or_explain, decode_chunk, parse_choice, parse_completion, parse_model,
                          token_logprobs)
from tests.support.canned_server import json_route

INT64 = range(-2**63, 2**63)

# ------------------------------------------------------------------ strategies

odd_leaf = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 10**30, -2**70, 2**63, 10**400,
                     "12345", "abc", "-1.5", "NaN", "", "\ud800", "a\udfffb", True, None]),
    st.floats(), st.integers(), st.text(max_size=8),
    st.text(alphabet=st.characters(categories=["Cs", "Lu", "Nd"]), max_size=6))
json_value = st.recursive(odd_leaf, lambda kids: st.lists(kids, max_size=4)
                          | st.dictionaries(st.text(max_size=6) | odd_leaf.filter(
                              lambda v: isinstance(v, str)), kids, max_size=4),
                          max_leaves=20)


def _field(*names: str) -> st.SearchStrategy:
    """An object with some of these fields, each odd or arbitrary JSON."""
    return st.fixed_dictionaries({}, optional={name: json_value for name in names})


logprobs_obj = st.fixed_dictionaries({}, optional={
    "tokens": st.lists(odd_leaf, max_size=5) | json_value,
    "token_logprobs": st.lists(odd_leaf, max_size=5) | json_value,
    "token_ids": st.lists(odd_leaf, max_size=5) | json_value,
    "top_logprobs": st.lists(st.dictionaries(st.text(max_size=4) | st.just("\ud800"),
                                             odd_leaf, max_size=4) | odd_leaf, max_size=5)
    | st.dictionaries(st.text(max_size=4), odd_leaf, max_size=4) | json_value})
choice = _field("index", "text", "finish_reason", "seed", "delta").flatmap(
    lambda c: st.fixed_dictionaries({}, optional={"logprobs": logprobs_obj | odd_leaf}).map(
        lambda extra: {**c, **extra}))
usage = _field("prompt_tokens", "completion_tokens", "total_tokens") | json_value
completion = st.fixed_dictionaries({}, optional={
    "id": json_value, "model": json_value, "created": odd_leaf, "usage": usage,
    "choices": st.lists(choice | json_value, max_size=3) | json_value,
    "prompt": st.lists(st.fixed_dictionaries({}, optional={"text": json_value,
                                                           "logprobs": logprobs_obj}),
                       max_size=2) | json_value,
    "token": _field("id", "text"), "finish_reason": json_value})
model = st.fixed_dictionaries({"id": odd_leaf.filter(bool)}, optional={
    "type": json_value, "display_name": json_value, "organization": json_value,
    "owned_by": json_value, "context_length": odd_leaf, "max_model_len": odd_leaf,
    "pricing": _field("input", "output") | json_value})

# ------------------------------------------------------------------ what a page can use


def _text_ok(value: object) -> bool:
    if not isinstance(value, str):
        return False
    value.encode("utf-8")  # raises on a lone surrogate
    return True


def _number_ok(value: object) -> bool:
    return value is None or (type(value) is float and math.isfinite(value))


def _int_ok(value: object, optional: bool = True) -> bool:
    return (optional and value is None) or (type(value) is int and value in INT64)


def _check_tokens(tokens: list[TokenLogprob] | None) -> None:
    if tokens is None:
        return
    assert len(tokens) <= wire.MAX_LOGPROB_TOKENS
    for tok in tokens:
        assert _text_ok(tok.token) and _number_ok(tok.logprob) and _int_ok(tok.token_id)
        if tok.top is not None:
            assert len(tok.top) <= wire.MAX_TOP_LOGPROBS
            assert all(_text_ok(k) and _number_ok(v) for k, v in tok.top.items())


def _check_usage(usage: Usage | None) -> None:
    if usage is not None:
        assert all(_int_ok(n, optional=False) for n in
                   (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens))


def _check_choice(c: Choice) -> None:
    assert _int_ok(c.index, optional=False) and _text_ok(c.text) and _int_ok(c.seed)
    assert c.finish_reason is None or _text_ok(c.finish_reason)
    _check_tokens(c.tokens)


def _check_completion(c: Completion) -> None:
    assert _text_ok(c.id) and _text_ok(c.model) and _int_ok(c.created, optional=False)
    assert c.prompt_text is None or _text_ok(c.prompt_text)
    for item in c.choices:
        _check_choice(item)
    _check_tokens(c.prompt_tokens)
    _check_usage(c.usage)


def _check_event(e: StreamEvent) -> None:
    assert _int_ok(e.index, optional=False) and _text_ok(e.text)
    assert _number_ok(e.logprob) and _int_ok(e.token_id) and _int_ok(e.seed)
    assert e.finish_reason is None or _text_ok(e.finish_reason)
    _check_usage(e.usage)


def _check_model(m: ModelInfo) -> None:
    assert all(_text_ok(v) for v in (m.id, m.type, m.display_name, m.organization))
    assert _int_ok(m.context_length)
    assert _number_ok(m.input_price) and _number_ok(m.output_price)
    cost = m.cost(1000, 1000)
    assert _number_ok(cost)


def _check_chunk(result: tuple[list[StreamEvent], Usage | None]) -> None:
    events, chunk_usage = result
    _check_usage(chunk_usage)
    for event in events:
        _check_event(event)


# ------------------------------------------------------------------ properties

# (parser, what it is fed, what its result must satisfy)
PARSERS = {
    "parse_completion": (lambda data: parse_completion(data, {}), completion | json_value,
                         _check_completion),
    "parse_choice": (parse_choice, choice | json_value, _check_choice),
    "decode_chunk": (decode_chunk, completion | json_value, _check_chunk),
    "token_logprobs": (token_logprobs, logprobs_obj | json_value, _check_tokens),
    "parse_model": (parse_model, model | json_value, _check_model),
    "Usage.from_json": (Usage.from_json, usage, _check_usage)}


@pytest.mark.parametrize("name", PARSERS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_each_parser_gives_usable_values_or_a_together_error(name, data):
    parse, strategy, check = PARSERS[name]
    try:
        result = parse_or_explain(parse, data.draw(strategy))
    except TogetherError:
        return
    check(result)


# ------------------------------------------------------------------ the shapes, one by one

def test_infinity_and_nan_in_a_model_listing_become_unknown():
    m = parse_model({"id": "m", "context_length": math.inf, "pricing": {
        "input": math.nan, "output": 10**400}})
    assert (m.context_length, m.input_price, m.output_price) == (None, None, None)
    assert parse_model({"id": "m", "max_model_len": "32768"}).context_length == 32768


def test_non_finite_usage_counts_as_zero():
    assert Usage.from_json({"prompt_tokens": math.inf, "completion_tokens": math.nan,
                            "total_tokens": 7}) == Usage(0, 0, 7)


def test_a_seed_sent_as_a_string_is_read_as_a_number_or_dropped():
    assert parse_choice({"text": "a", "seed": "12345"}).seed == 12345
    assert parse_choice({"text": "a", "seed": "abc"}).seed is None
    assert parse_choice({"text": "a", "seed": 2**70}).seed is None
    (event,), _ = decode_chunk({"choices": [{"index": 0, "text": "a", "seed": "42"}]})
    assert event.seed == 42


def test_a_lone_surrogate_in_model_text_becomes_a_replacement_character():
    (event,), _ = decode_chunk({"choices": [{"index": 0, "text": "a\ud800b"}]})
    assert event.text == "a\ufffdb"
    c = parse_completion({"choices": [{"text": "x\udfff", "logprobs": {
        "tokens": ["x", "\udfff"], "top_logprobs": [{"\ud800": -1.0}, None]}}]}, {})
    assert c.choices[0].text == "x\ufffd"
    assert [t.token for t in c.choices[0].tokens] == ["x", "\ufffd"]
    assert c.choices[0].tokens[0].top == {"\ufffd": -1.0}


def test_nan_and_infinite_logprobs_become_unknown():
    (event,), _ = decode_chunk({"choices": [{"index": 0, "text": "a", "logprobs": math.nan}]})
    assert event.logprob is None
    (tok,) = token_logprobs({"tokens": ["a"], "token_logprobs": [math.inf],
                             "top_logprobs": [{"a": math.nan, "b": -1.0, "c": "x"}]})
    assert tok.logprob is None and tok.top == {"a": None, "b": -1.0, "c": None}


def test_more_logprob_tokens_than_the_limit_is_an_error_naming_it():
    with pytest.raises(TogetherError, match=f"{wire.MAX_LOGPROB_TOKENS:,}"):
        token_logprobs({"tokens": ["a"] * (wire.MAX_LOGPROB_TOKENS + 1)})


def test_more_alternatives_than_the_limit_is_an_error_naming_it():
    top = {f"t{i}": -1.0 for i in range(wire.MAX_TOP_LOGPROBS + 1)}
    with pytest.raises(TogetherError, match=f"at most {wire.MAX_TOP_LOGPROBS}"):
        token_logprobs({"tokens": ["a", "b"], "top_logprobs": [{"a": -1.0}, top]})
    with pytest.raises(TogetherError, match=f"at most {wire.MAX_TOP_LOGPROBS}"):
        token_logprobs({"tokens": ["a"], "top_logprobs": top})


def test_a_server_sending_too_many_logprob_tokens_gets_a_clear_error_over_http(canned):
    """A body of a million tokens: refused by count before one TokenLogprob is made."""
    count = 1_000_000
    body = ('{"id": "c", "choices": [{"index": 0, "text": "x", "logprobs": {"tokens": ['
            + ",".join(['"a"'] * count) + "]}}]}").encode()
    server = canned({"/v1/completions": json_route(200, body)})
    with Client(api_key="", base_url=server.url + "/v1", max_retries=0) as client:
        with pytest.raises(TogetherError) as info:
            client.complete({"model": "m", "prompt": "p", "logprobs": 1})
    assert f"{count:,}" in info.value.message and f"{wire.MAX_LOGPROB_TOKENS:,}" in info.value.message


def test_models_with_infinity_nan_and_huge_numbers_are_listed_over_http(canned):
    body = (b'[{"id": "a", "context_length": Infinity, "pricing": {"input": NaN}},'
            b' {"id": "b", "context_length": 1e400, "pricing": {"output": ' + b"9" * 400
            + b'}}, {"id": "c\\ud800", "context_length": "8192"}]')
    server = canned({"/v1/models": json_route(200, body)})
    with Client(api_key="", base_url=server.url + "/v1") as client:
        models = client.list_models()
    assert [m.id for m in models] == ["a", "b", "c\ufffd"]
    assert [m.context_length for m in models] == [None, None, 8192]
    assert all(m.input_price is None and m.output_price is None for m in models)
