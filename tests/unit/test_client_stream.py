"""Client.stream over real HTTP: framings, gzip, n>1, faults mid-stream, close() from a thread.

Plus the chunk decoder on the shapes other servers send, which the local backend does not.
"""
from __future__ import annotations

import threading
from collections import defaultdict

import pytest

from lib.api import Client
from lib.api.errors import APITimeoutError, RateLimitError, StreamInterruptedError
from lib.api.results import Usage
from lib.api.wire import decode_chunk

TEXT = "local/ngram-docs"
PARAMS = {"model": TEXT, "prompt": "The file", "max_tokens": 24, "seed": 5,
          "temperature": 1.0}
# A pace so slow that the second token is never due during a test: whatever a test sees
# after the first token, it got before the server had anything more to send.
GLACIAL = 0.02  # tokens per second: 50 s between tokens
WAIT = 15.0     # generous bound for things that should take milliseconds



def client(backend, **kwargs) -> Client:
    return Client(api_key="", base_url=backend.base_url, **kwargs)


def texts_by_index(events) -> dict[int, str]:
    texts: dict[int, str] = defaultdict(str)
    for event in events:
        texts[event.index] += event.text
    return dict(texts)


def completion_requests(backend) -> int:
    return sum(r["path"] == "/v1/completions" for r in backend.requests_seen)


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("gzip", [False, True])
def test_streamed_text_equals_the_whole_completion(local, framing, gzip):
    local.configure(framing=framing, gzip=gzip)
    c = client(local)
    expected = c.complete(PARAMS).choices[0]
    with c.stream(PARAMS) as stream:
        events = list(stream)
    assert "".join(e.text for e in events) == expected.text
    assert len(events) == 24 and all(e.token_id is not None for e in events)
    assert [e.finish_reason for e in events[:-1]] == [None] * 23
    last = events[-1]
    assert (last.finish_reason, last.seed) == (expected.finish_reason, 5)
    assert last.usage == stream.usage == Usage(2, 24, 26)
    assert stream.closed and stream.request_id and stream.rate_limits.limit == "100"


@pytest.mark.parametrize("framing", ["chunked", "close"])
@pytest.mark.parametrize("gzip", [False, True])
def test_each_event_arrives_at_once_and_close_from_another_thread_unblocks_the_read(
        local, framing, gzip):
    local.configure(framing=framing, gzip=gzip, tokens_per_second=GLACIAL)
    stream = client(local).stream({**PARAMS, "max_tokens": 5})
    first, outcome = threading.Event(), []

    def consume():
        try:
            for _ in stream:
                first.set()  # then blocks reading a token that is 50 s away
            outcome.append("ended")
        except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped
            outcome.append(exc)

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    assert first.wait(WAIT), "the first event was held back"
    stream.close()
    reader.join(WAIT)
    assert not reader.is_alive(), "close() did not unblock the read"
    assert outcome == ["ended"] and stream.closed


def test_n_choices_interleave_and_group_by_index(local):
    c = client(local)
    # End-of-text banned: every choice runs to max_tokens, whichever Python's stdlib the
    # local model was trained on (its text differs between Python builds).
    params = {**PARAMS, "n": 3, "max_tokens": 8, "logit_bias": {"0": -100}}
    expected = [choice.text for choice in c.complete(params).choices]
    events = list(c.stream(params))
    assert texts_by_index(events) == dict(enumerate(expected))
    for index in range(3):
        own = [e for e in events if e.index == index]
        assert [e.finish_reason is not None for e in own] == [False] * 7 + [True]
    assert events[-1].usage is not None and [e for e in events if e.usage] == [events[-1]]


def test_an_error_chunk_comes_after_every_earlier_event(local):
    local.add_fault({"kind": "error_chunk", "after": 3, "message": "boom"})
    received = []
    with pytest.raises(StreamInterruptedError, match="^boom$") as info:
        for event in client(local).stream(PARAMS):
            received.append(event)
    assert len(received) == 3 and info.value.type == "server_error"
    assert info.value.request_id


def test_a_malformed_chunk_interrupts_but_keeps_what_came_before(local):
    local.add_fault({"kind": "malformed_chunk", "after": 3})
    received = []
    with pytest.raises(StreamInterruptedError, match=r"^The server sent a malformed chunk "
                                                     r"\(\d+ bytes, not the API's JSON\)$"):
        for event in client(local).stream(PARAMS):
            received.append(event)
    assert len(received) == 3


def test_a_dropped_connection_interrupts_and_is_never_retried(local):
    local.add_fault({"kind": "drop_after", "tokens": 5})
    received = []
    c = client(local, max_retries=2, hooks={"retry": [pytest.fail]})
    with pytest.raises(StreamInterruptedError, match="closed before the stream finished"):
        for event in c.stream(PARAMS):
            received.append(event)
    assert len(received) == 5 and completion_requests(local) == 1


def test_a_rate_limit_before_the_stream_starts_is_retried(local):
    local.add_fault({"kind": "status", "status": 429, "retry_after": 0.05})
    errors = []
    c = client(local, hooks={"retry": [lambda attempt, delay, error: errors.append(error)]})
    assert len(list(c.stream(PARAMS))) == 24
    assert [type(e) for e in errors] == [RateLimitError] and completion_requests(local) == 2


def test_a_slow_first_byte_on_a_stream_is_a_timeout(local):
    local.add_fault({"kind": "slow_first_byte", "seconds": 2})
    with pytest.raises(APITimeoutError):
        client(local, timeout=(5, 0.3), max_retries=0).stream(PARAMS)


def test_a_stall_mid_stream_interrupts_it(local):
    local.configure(tokens_per_second=GLACIAL)
    stream = client(local, timeout=(5, 0.5)).stream(PARAMS)
    next(stream)  # the first token comes at once, the second is 50 s away
    with pytest.raises(StreamInterruptedError, match="stalled: no data within the read timeout"):
        next(stream)
    assert stream.closed


def test_leaving_the_with_block_early_closes_the_stream(local):
    local.configure(tokens_per_second=GLACIAL)
    with client(local).stream(PARAMS) as stream:
        assert next(stream).text
    assert stream.closed
    assert list(stream) == []


# ------------------------------------------------------------------ chunk shapes

def test_a_chunk_with_several_choices_gives_one_event_each_usage_on_the_last():
    events, usage = decode_chunk({
        "choices": [{"index": 1, "text": "b", "logprobs": None, "finish_reason": "stop",
                     "seed": 9},
                    {"index": 0, "delta": {"content": "a", "token_id": 4}, "logprobs": -0.5}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})
    assert [(e.index, e.text, e.logprob, e.token_id, e.finish_reason, e.seed)
            for e in events] == [(1, "b", None, None, "stop", 9), (0, "a", -0.5, 4, None, None)]
    assert usage == events[1].usage == Usage(1, 2, 3) and events[0].usage is None


def test_the_2024_chunk_shape_with_a_top_level_token_and_finish_reason():
    events, _ = decode_chunk({"choices": [{"index": 0, "delta": {"content": " A"}}],
                              "token": {"id": 330, "text": " A", "logprob": -1.0},
                              "finish_reason": "eos"})
    assert [(e.text, e.token_id, e.finish_reason) for e in events] == [(" A", 330, "eos")]


def test_openai_style_chunks_with_logprob_objects_and_a_usage_only_chunk():
    events, _ = decode_chunk({"object": "text_completion", "choices": [
        {"index": 0, "text": "x", "finish_reason": None,
         "logprobs": {"tokens": ["x"], "token_logprobs": [-0.25], "top_logprobs": None}}]})
    assert [(e.text, e.logprob) for e in events] == [("x", -0.25)]
    events, usage = decode_chunk({"choices": [], "usage": {"prompt_tokens": 1,
                                                           "completion_tokens": 1,
                                                           "total_tokens": 2}})
    assert events == [] and usage == Usage(1, 1, 2)
