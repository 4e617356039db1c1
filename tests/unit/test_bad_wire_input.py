"""Bad input to the engine: a bad read-timeout setting is named, and whatever bytes a broken
server sends on a stream end it or raise only the client's own errors (the pages' side of
bad input is in app/test_bad_input.py).
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.api import Client, TogetherError
from lib.connection import client_timeout

# ---------------------------------------------------------------- the read timeout setting

@pytest.mark.parametrize("text, expected", [("", (10.0, 60.0)), ("2", (2.0, 2.0)),
                                            ("120", (10.0, 120.0))])
def test_the_timeout_setting(text, expected):
    assert client_timeout({"PLAYGROUND_TIMEOUT": text}) == expected


@pytest.mark.parametrize("text", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_timeout_setting_names_the_variable(text):
    with pytest.raises(ValueError, match="PLAYGROUND_TIMEOUT must be a positive number"):
        client_timeout({"PLAYGROUND_TIMEOUT": text})


# ---------------------------------------------------------------- arbitrary bytes on the wire

_CHUNKS = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"data: [DONE]\n\n", b"\n\n", b"data: {}\n\n", b"data: null\n\n",
                     b'data: {"choices": [{"index": 0, "text": "hi"}]}\n\n',
                     b'data: {"choices": [{"index": "x", "text": 5, "logprobs": []}]}\n\n',
                     b'data: {"choices": "nope", "usage": 7}\n\n',
                     b'data: {"error": {"message": 1}}\n\n', b"event: error\ndata: x\n\n",
                     b'data: {"choices": [{"index": 99999999999999999999}]}\n\n',
                     b"data: " + b"9" * 5000 + b"\n\n", b"\xef\xbb\xbf", b"\r", b":\n"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_CHUNKS, max_size=8))
def test_any_bytes_on_a_stream_end_it_or_raise_only_together_errors(byte_server, chunks):
    byte_server.body = b"".join(chunks)
    with Client(api_key="", base_url=byte_server.url, max_retries=0,
                timeout=(5, 5)) as client:
        try:
            for event in client.stream({"model": "m", "prompt": "p"}):
                assert isinstance(event.text, str)
                assert isinstance(event.index, int) and not math.isnan(event.index)
        except TogetherError:
            pass
