"""Full results from an OpenAI-compatible server that does less than Together (issue 13
item 2): a loopback server that answers like llama-cpp-python's drops ``n``, sends no
usage and no seed in streams, streams ``top_logprobs`` per token, and echoes prompt
tokens with offsets that count the SentencePiece leading space.
"""
from __future__ import annotations

import json

import pytest

from lib.api.client import Client
from lib.api.errors import TogetherError
from lib.api.results import completion_tokens_text
from lib.text import token_table
from lib.text.stream_run import StreamRun
from tests.support.canned_server import json_route
from tests.support.llamalike_server import MODEL, LlamaLikeServer, generate

NOTE = "This server returned one choice per request; the 3 choices were fetched one by one."
PARAMS = {"model": MODEL, "prompt": "Hi", "max_tokens": 4, "n": 3, "seed": 7}


@pytest.fixture
def llama():
    """A fresh server on a fresh port: the client's memory of servers starts empty for it."""
    server = LlamaLikeServer(token_delay_s=0.02)
    yield server
    server.stop()


def _client(server: LlamaLikeServer) -> Client:
    return Client(api_key="", base_url=server.base_url)


def _sent(server: LlamaLikeServer) -> list[tuple[int | None, int | None]]:
    return sorted((body.get("n"), body.get("seed")) for body in server.requests)


def _expected(index: int) -> str:
    return "".join(generate("Hi", 4, 7 + index))


# ---------------------------------------------------------------- 1. n > 1


def test_complete_fetches_the_missing_choices_once_each_with_their_seeds(llama):
    with _client(llama) as client:
        completion = client.complete(PARAMS)
    assert [(c.index, c.text, c.finish_reason, c.seed) for c in completion.choices] == [
        (i, _expected(i), "length", 7 + i) for i in range(3)]
    # The original request is never sent again: only choices 1 and 2 go out, one each.
    assert _sent(llama) == [(1, 8), (1, 9), (3, 7)]
    assert completion.note == NOTE
    assert completion.usage.completion_tokens == 12


def test_a_server_that_dropped_n_is_asked_one_choice_at_a_time_next_time(llama):
    with _client(llama) as client:
        client.complete(PARAMS)
    llama.requests.clear()
    with _client(llama) as client:
        completion = client.complete(PARAMS)
    assert _sent(llama) == [(1, 7), (1, 8), (1, 9)]
    assert [c.text for c in completion.choices] == [_expected(i) for i in range(3)]
    assert completion.note == NOTE


def _run(server: LlamaLikeServer, params: dict):
    run = StreamRun(lambda **kw: Client(api_key="", base_url=server.base_url, **kw),
                    {**params, "stream": True}).start()
    assert run.join(30)
    return run.snapshot()


def test_stream_delivers_every_choice_with_its_finish_reason_and_seed(llama):
    view = _run(llama, PARAMS)
    assert view.error is None
    assert [(c.index, c.text, c.finish_reason, c.seed) for c in view.choices] == [
        (i, _expected(i), "length", 7 + i) for i in range(3)]
    assert _sent(llama) == [(1, 8), (1, 9), (3, 7)]


def test_stream_from_a_known_server_requests_the_choices_one_after_another(llama):
    with _client(llama) as client:
        list(client.stream({**PARAMS, "stream": True}))
        llama.requests.clear()
        llama.most_at_once = 0
        stream = client.stream({**PARAMS, "stream": True})
        events = list(stream)
    assert _sent(llama) == [(1, 7), (1, 8), (1, 9)]
    assert llama.most_at_once == 1  # llama-cpp-python cuts a stream short when another waits
    texts = {i: "".join(e.text for e in events if e.index == i) for i in range(3)}
    assert texts == {i: _expected(i) for i in range(3)}
    assert stream.note == NOTE


def test_stopping_a_one_by_one_stream_sends_nothing_more(llama):
    with _client(llama) as client:
        client.complete(PARAMS)
        llama.requests.clear()
        stream = client.stream({**PARAMS, "stream": True, "max_tokens": 50})
        next(stream)
        stream.close()
        assert list(stream) == []
    assert len(llama.requests) == 1  # choice 0's; the others were never asked for


# ---------------------------------------------------------------- 2. token counting


def test_tokenize_counts_prompt_tokens_from_the_answer_not_the_offsets(llama):
    with _client(llama) as client:
        tokens = client.tokenize(MODEL, "Hi")
    # The leading space is a token of its own; the offsets would drop the final "i".
    assert [t.token for t in tokens] == [" ", "H", "i"]


def test_an_echo_inside_the_choice_is_taken_out_as_the_prompt(llama):
    """llama.cpp echoes the prompt inside the choice; the pages read it where Together
    puts it, so the completion's text and tokens are the completion's alone."""
    with _client(llama) as client:
        whole = client.complete({**PARAMS, "n": 1, "echo": True, "logprobs": 1})
    (choice,) = whole.choices
    assert whole.prompt_text == "Hi"
    assert [t.token for t in whole.prompt_tokens] == [" ", "H", "i"]
    assert not choice.text.startswith("Hi") and choice.text == _expected(0)
    assert "".join(t.token for t in choice.tokens) == choice.text


def test_tokenize_refuses_an_echo_whose_usage_and_offsets_disagree(canned):
    body = {"choices": [{"index": 0, "text": "abcdx", "logprobs": {
        "tokens": ["a", "b", "c", "d", "x"], "text_offset": [0, 1, 2, 3, 4],
        "token_logprobs": [None, -1, -1, -1, -1]}}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}}
    server = canned({"/v1/completions": json_route(200, json.dumps(body).encode())})
    with Client(api_key="", base_url=server.url + "/v1") as client:
        with pytest.raises(TogetherError, match="2 prompt tokens by its usage, 4 by its"):
            client.tokenize("m", "abcd")


# ---------------------------------------------------------------- 3. streamed alternatives


def test_streamed_top_logprobs_reach_the_token_view(llama):
    view = _run(llama, {**PARAMS, "n": 1, "logprobs": 3})
    tokens = view.choices[0].tokens
    assert len(tokens) == 4 and all(t.top for t in tokens)
    assert token_table.any_alternatives(tokens)
    assert token_table.rows(tokens)[0].alternatives != token_table.NO_ALTERNATIVES


# ---------------------------------------------------------------- 4. usage


def test_a_stream_without_usage_shows_its_tokens_as_counted(llama):
    view = _run(llama, {**PARAMS, "n": 1})
    assert view.usage is None
    assert completion_tokens_text(view.usage, view.token_count) == "~4 tokens (counted)"


def test_reported_usage_is_shown_as_reported(llama):
    with _client(llama) as client:
        completion = client.complete({**PARAMS, "n": 1})
    assert completion_tokens_text(completion.usage, 99) == "4"
