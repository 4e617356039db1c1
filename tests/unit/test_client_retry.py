"""A generation is never sent twice: which failures Client resends, over real loopback HTTP.

Each test counts the requests a canned server received. A POST is resent only when the
server cannot have started the work (no connection, 429, 503 with Retry-After, a 5xx that
came back at once); a read timeout or a slow 5xx ends the run after the one POST, because
the server may still be generating and billing it. GET /models bills nothing and keeps
the old, generous retries.
"""
from __future__ import annotations

import json
import threading

import pytest

from lib import connection
from lib.api.client import QUICK_FAILURE_S, Client, may_resend
from lib.api.errors import (APIConnectionError, APITimeoutError, BadRequestError, RateLimitError,
                            ServerError)
from tests.support.app_server import free_port
from tests.support.canned_server import CannedServer

READ_TIMEOUT_S = 0.3
COMPLETION = json.dumps({"choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]})
MODELS = json.dumps([{"id": "m", "type": "language"}])
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def release():
    """Set at teardown, so handlers still holding an answer let go of their threads."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def serve(release):
    servers = []

    def start(path: str, answers: list[tuple[float, int, dict, str]]) -> CannedServer:
        """A server whose n-th request on ``path`` waits answers[n][0] s (or until the
        test ends), then answers status, headers, body; the last answer repeats."""
        def route(request):
            index = min(len(server.requests), len(answers)) - 1
            wait_s, status, headers, body = answers[index]
            release.wait(wait_s)
            return status, headers, body.encode()
        server = CannedServer({path: route})
        servers.append(server)
        return server
    yield start
    release.set()
    for server in servers:
        server.stop()


def client(server: CannedServer, retries: list | None = None, read_s: float = 5.0,
           max_retries: int = 2) -> Client:
    hooks = {"retry": [lambda attempt, delay, error: retries.append(error)]} if retries \
        is not None else None
    return Client(api_key="tgp_v1_retry-test-key-0123456789", base_url=server.url + "/v1",
                  timeout=(5.0, read_s), max_retries=max_retries, hooks=hooks)


def posts(server: CannedServer) -> int:
    return sum(1 for r in server.requests if r.method == "POST")


SLOW_FIRST_BYTE = (30.0, 200, JSON, COMPLETION)


def _complete(c: Client) -> None:
    c.complete({"model": "m", "prompt": "x"})


def _stream(c: Client) -> None:
    c.stream({"model": "m", "prompt": "x"})


def _images(c: Client) -> None:
    c.generate_images({"model": "m", "prompt": "x"})


@pytest.mark.parametrize("path, call", [("/v1/completions", _complete),
                                        ("/v1/completions", _stream),
                                        ("/v1/images/generations", _images)],
                         ids=["complete", "stream", "generate_images"])
def test_a_read_timeout_is_not_resent_and_says_how_long_and_what_to_raise(serve, path, call):
    server = serve(path, [SLOW_FIRST_BYTE])
    retries: list = []
    with pytest.raises(APITimeoutError) as info:
        call(client(server, retries, read_s=READ_TIMEOUT_S))
    assert posts(server) == 1 and retries == []
    message = info.value.message
    assert f"No answer within {READ_TIMEOUT_S:g} s (read timeout)" in message, message
    assert f"Raise {connection.TIMEOUT_ENV} to wait longer" in message, message
    assert message in info.value.describe()


def test_listing_models_is_retried_after_a_read_timeout_since_it_bills_nothing(serve):
    server = serve("/v1/models", [(30.0, 200, JSON, MODELS), (0.0, 200, JSON, MODELS)])
    retries: list = []
    models = client(server, retries, read_s=READ_TIMEOUT_S).list_models()
    assert [m.id for m in models] == ["m"]
    assert len(server.requests) == 2 and [type(e) for e in retries] == [APITimeoutError]


def test_a_slow_500_is_not_resent(serve):
    server = serve("/v1/completions", [(QUICK_FAILURE_S + 0.3, 500, JSON, "{}")])
    retries: list = []
    with pytest.raises(ServerError):
        _complete(client(server, retries))
    assert posts(server) == 1 and retries == []


def test_a_500_at_once_is_resent(serve):
    server = serve("/v1/completions", [(0.0, 500, JSON, "{}"), (0.0, 200, JSON, COMPLETION)])
    retries: list = []
    _complete(client(server, retries))
    assert posts(server) == 2 and [type(e) for e in retries] == [ServerError]


def test_a_slow_503_with_retry_after_is_resent(serve):
    server = serve("/v1/completions", [(QUICK_FAILURE_S + 0.3, 503,
                                        {**JSON, "Retry-After": "0.1"}, "{}"),
                                       (0.0, 200, JSON, COMPLETION)])
    retries: list = []
    _complete(client(server, retries))
    assert posts(server) == 2 and [type(e) for e in retries] == [ServerError]


def test_429_is_resent(serve):
    server = serve("/v1/images/generations",
                   [(0.0, 429, {**JSON, "Retry-After": "0.1"}, "{}"), (0.0, 400, JSON, "{}")])
    retries: list = []
    with pytest.raises(BadRequestError):  # the answer to the one resend
        _images(client(server, retries))
    assert posts(server) == 2 and [type(e) for e in retries] == [RateLimitError]


def test_a_refused_connection_is_resent():
    port = free_port()  # nothing listens on it
    attempts = []
    c = Client(api_key="", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2,
               hooks={"retry": [lambda attempt, delay, error: attempts.append(attempt)]})
    with pytest.raises(APIConnectionError, match="Connection refused") as info:
        _complete(c)
    assert not isinstance(info.value, APITimeoutError) and attempts == [1, 2]


@pytest.mark.parametrize("method, facts, expected", [
    ("POST", {"sent": False}, True),                       # refused, DNS, connect timeout
    ("POST", {}, False),                                   # read timeout or reset after sending
    ("POST", {"status": 429, "elapsed_s": 30.0}, True),
    ("POST", {"status": 503, "elapsed_s": 30.0, "retry_after": True}, True),
    ("POST", {"status": 503, "elapsed_s": 30.0}, False),
    ("POST", {"status": 500, "elapsed_s": 30.0}, False),
    ("POST", {"status": 502, "elapsed_s": 0.05}, True),
    ("POST", {"status": 500, "elapsed_s": QUICK_FAILURE_S}, False),
    ("POST", {"status": 408, "elapsed_s": 0.05}, False),
    ("POST", {"status": 409, "elapsed_s": 0.05}, False),
    ("POST", {"status": 400, "elapsed_s": 0.05}, False),
    ("GET", {}, True),
    ("GET", {"status": 500, "elapsed_s": 30.0}, True),
    ("GET", {"status": 408}, True),
    ("GET", {"status": 404}, False),
])
def test_may_resend(method, facts, expected):
    assert may_resend(method, **facts) is expected
