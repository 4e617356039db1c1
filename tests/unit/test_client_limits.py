"""Everything the client reads from a server is bounded, in bytes and in time.

Hostile servers on loopback send each shape: a gzip bomb as a JSON body (and as an error
body), a gzip stream with one endless ``data:`` line, a chunk for choice 5,000,000,
keep-alive comments with no event, an endless slow stream. For the memory cases the
client runs in a child process, which prints its own peak RSS: the test asserts the
memory stayed far below what the bomb needs, not only that an error was raised. Each
limit's message names the limit, and what arrived before it is kept.

Also: a reply that is not the API is described (status, content type, size), never echoed.
"""
from __future__ import annotations

import functools
import json
import socket
import subprocess
import sys
import threading
import time
import zlib
from typing import Callable, Iterator

import pytest

from lib import connection
from lib.api import Client, Limits
from lib.api.errors import APIStatusError, StreamInterruptedError, TogetherError
from tests.support.app_server import ROOT
from tests.support.canned_server import json_route

BOMB_BYTES = 400 * 1024 * 1024   # what the bomb inflates to
PEAK_MB = 300                    # well below the bomb, well above the limits' worth
SECRET = "INTERNAL-ADMIN-TOKEN-4242"


def chunk(index: int, text: str) -> bytes:
    return b"data: " + json.dumps({"id": "c", "choices": [{"index": index, "text": text}]}
                                  ).encode() + b"\n\n"


GOOD = chunk(0, "one") + chunk(0, " two") + chunk(0, " three")


@functools.lru_cache(maxsize=None)
def gzip_bomb(prefix: bytes, suffix: bytes) -> bytes:
    """``prefix``, BOMB_BYTES of "x" and ``suffix``, gzipped: well under 1 MB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"x" * (1024 * 1024)
    parts = [packer.compress(prefix)]
    parts += [packer.compress(block) for _ in range(BOMB_BYTES // len(block))]
    return b"".join(parts) + packer.compress(suffix) + packer.flush()


def gzip_route(status: int, body: bytes, content_type: str, framing: str):
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    if framing == "close":
        headers["Connection"] = "close"
    return lambda request: (status, headers, body)


# ------------------------------------------------------------ the reading process

CHILD = """
import json, sys
from lib.api.client import Client
from lib.text.stream_run import StreamRun

url, mode = sys.argv[1], sys.argv[2]
params = {"model": "m", "prompt": "x", "n": 1}
texts, error = [], None
make = lambda **kw: Client(api_key="", base_url=url, max_retries=0, **kw)
try:
    if mode == "complete":
        texts = [c.text for c in make().complete(params).choices]
    elif mode == "stream":
        for event in make().stream(params):
            texts.append(event.text)
    else:
        run = StreamRun(make, {**params, "stream": True}).start()
        assert run.join(60)
        view = run.snapshot(with_tokens=False)
        texts = [c.text for c in view.choices]
        error = view.error and f"{type(view.error).__name__}: {view.error.message}"
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
# VmHWM is this program's own peak: ru_maxrss would also count the memory of the pytest
# process this child was forked from, which survives the exec.
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
peak_mb = peak_kb / 1024
print(json.dumps({"texts": texts, "error": error, "peak_mb": peak_mb}))
"""


def read_in_child(url: str, mode: str) -> dict:
    """Run the client against ``url`` in a fresh process; its result and its peak RSS."""
    done = subprocess.run([sys.executable, "-c", CHILD, url, mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


# ------------------------------------------------------------ sizes

@pytest.mark.parametrize("framing", ["length", "close"])
def test_a_gzip_bomb_json_body_stops_at_the_size_limit_with_little_memory(canned, framing):
    bomb = gzip_bomb(b'{"id": "', b'", "choices": []}')
    server = canned({"/v1/completions": gzip_route(200, bomb, "application/json", framing)})
    result = read_in_child(server.url + "/v1", "complete")
    assert result["error"].startswith("TogetherError: ")
    assert "67,108,864-byte limit" in result["error"], result["error"]
    assert result["peak_mb"] < PEAK_MB, result


def test_a_gzip_bomb_error_body_is_not_read_past_the_limit(canned):
    bomb = gzip_bomb(b'{"error": {"message": "', b'"}}')
    server = canned({"/v1/completions": gzip_route(500, bomb, "application/json", "length")})
    result = read_in_child(server.url + "/v1", "complete")
    assert result["error"].startswith("ServerError: "), result["error"][:300]
    assert "67,108,864-byte limit" in result["error"] and "xxxx" not in result["error"]
    assert result["peak_mb"] < PEAK_MB, result


@pytest.mark.parametrize("framing", ["length", "close"])
def test_a_gzip_stream_with_one_endless_data_line_keeps_the_events_before_it(canned, framing):
    bomb = gzip_bomb(GOOD + b"data: ", b"\n\n")
    server = canned({"/v1/completions": gzip_route(200, bomb, "text/event-stream", framing)})
    result = read_in_child(server.url + "/v1", "stream")
    assert result["texts"] == ["one", " two", " three"]
    assert result["error"].startswith("StreamInterruptedError: ")
    assert "1,048,576-byte limit on one stream line or event" in result["error"]
    assert result["peak_mb"] < PEAK_MB, result


def test_the_compressed_size_has_its_own_limit(canned):
    body = json.dumps({"id": "c", "choices": [{"index": 0, "text": "t" * 5000}]}).encode()
    server = canned({"/v1/completions": json_route(200, body)})
    c = Client(api_key="", base_url=server.url + "/v1", limits=Limits(wire_bytes=1000))
    with pytest.raises(TogetherError, match="1,000-byte limit on the answer as sent"):
        c.complete({"model": "m", "prompt": "x"})
    assert Client(api_key="", base_url=server.url + "/v1").complete(
        {"model": "m", "prompt": "x"}).choices[0].text == "t" * 5000


# ------------------------------------------------------------ choice indexes

def test_a_chunk_for_choice_5000000_ends_the_run_and_keeps_the_text(canned):
    body = GOOD + chunk(5_000_000, "boom") + b"data: [DONE]\n\n"
    server = canned({"/v1/completions": json_route(200, body, "text/event-stream")})
    started = time.monotonic()
    result = read_in_child(server.url + "/v1", "run")
    assert result["texts"] == ["one two three"]
    assert result["error"] == ("StreamInterruptedError: The server sent a chunk for choice "
                               "index 5000000, but the request asked for n=1 (indexes 0 to 0)")
    assert result["peak_mb"] < PEAK_MB and time.monotonic() - started < 20, result


def test_a_whole_completion_with_a_choice_beyond_n_is_an_error(canned):
    body = {"id": "c", "choices": [{"index": 0, "text": "a"}, {"index": 3, "text": "b"}]}
    server = canned({"/v1/completions": json_route(200, json.dumps(body).encode())})
    c = Client(api_key="", base_url=server.url + "/v1")
    with pytest.raises(TogetherError, match=r"choice index 3, but the request asked for n=2 "
                                            r"\(indexes 0 to 1\)"):
        c.complete({"model": "m", "prompt": "x", "n": 2})
    assert len(c.complete({"model": "m", "prompt": "x", "n": 4}).choices) == 2


# ------------------------------------------------------------ time

class PacedServer:
    """Answers every request with an event stream written piece by piece as ``pieces()``
    yields them, until they run out or the client hangs up."""

    def __init__(self, pieces: Callable[[], Iterator[bytes]],
                 content_type: str = "text/event-stream"):
        self._pieces, self._type = pieces, content_type
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self.hung_up = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + self._type.encode()
                             + b"\r\nConnection: close\r\n\r\n")
                for piece in self._pieces():
                    conn.sendall(piece)
            except OSError:
                self.hung_up.set()

    def stop(self) -> None:
        self._listener.close()


@pytest.fixture
def paced():
    servers = []

    def start(pieces, content_type="text/event-stream"):
        server = PacedServer(pieces, content_type)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def every(seconds: float, piece: bytes, first: bytes = b"", limit: float = 10.0):
    """Pieces for a PacedServer: ``first``, then ``piece`` every ``seconds`` for ``limit`` s."""
    def pieces() -> Iterator[bytes]:
        yield first
        end = time.monotonic() + limit
        while time.monotonic() < end:
            time.sleep(seconds)
            yield piece
    return pieces


def consume(stream) -> tuple[list[str], Exception | None]:
    texts: list[str] = []
    try:
        for event in stream:
            texts.append(event.text)
    except TogetherError as exc:
        return texts, exc
    return texts, None


def test_keep_alive_comments_do_not_extend_the_idle_limit(paced):
    server = paced(every(0.05, b": keep-alive\n\n", first=chunk(0, "first")))
    c = Client(api_key="", base_url=server.url, timeout=(5.0, 0.6))
    started = time.monotonic()
    texts, error = consume(c.stream({"model": "m", "prompt": "x"}))
    assert texts == ["first"]
    assert isinstance(error, StreamInterruptedError)
    assert error.message.startswith("No tokens for 0.6 s"), error.message
    assert time.monotonic() - started < 5
    assert server.hung_up.wait(5)  # the client closed the connection


def test_an_idle_limit_shorter_than_the_read_timeout_cuts_a_silent_stream(paced):
    server = paced(every(5.0, b"", first=chunk(0, "first")))
    c = Client(api_key="", base_url=server.url, timeout=(5.0, 30.0), limits=Limits(idle_s=0.5))
    started = time.monotonic()
    texts, error = consume(c.stream({"model": "m", "prompt": "x"}))
    assert texts == ["first"] and error.message.startswith("No tokens for 0.5 s")
    assert time.monotonic() - started < 4


def test_the_deadline_ends_an_endless_stream_and_keeps_its_events(paced):
    server = paced(every(0.05, chunk(0, "t")))
    c = Client(api_key="", base_url=server.url, deadline=1.0)
    started = time.monotonic()
    texts, error = consume(c.stream({"model": "m", "prompt": "x"}))
    elapsed = time.monotonic() - started
    assert isinstance(error, StreamInterruptedError)
    assert "longer than its time limit of 1 s" in error.message
    assert "Time limit per run" in error.message and "PLAYGROUND_DEADLINE" in error.message
    assert 5 < len(texts) and set(texts) == {"t"}
    assert 0.9 < elapsed < 4


def test_the_deadline_ends_a_whole_request_whose_body_trickles(paced):
    server = paced(every(0.05, b" ", first=b'{"choices": ['), "application/json")
    c = Client(api_key="", base_url=server.url, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(TogetherError, match="longer than its time limit of 1 s"):
        c.complete({"model": "m", "prompt": "x"})
    assert time.monotonic() - started < 4


def test_the_deadline_setting_reaches_the_client(monkeypatch):
    assert connection.client_deadline({}) == connection.DEFAULT_DEADLINE == 600.0
    assert connection.client_deadline({"PLAYGROUND_DEADLINE": " 90 "}) == 90.0
    for text in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ValueError, match="PLAYGROUND_DEADLINE must be a positive number"):
            connection.client_deadline({"PLAYGROUND_DEADLINE": text})
    monkeypatch.setenv("PLAYGROUND_DEADLINE", "45")
    conn = connection.Connection(connection.CUSTOM, "http://127.0.0.1:9/v1")
    assert conn.client().deadline == 45.0
    assert connection.Connection(connection.CUSTOM, "http://127.0.0.1:9/v1",
                                 deadline=12.0).client().deadline == 12.0


def test_the_sidebar_time_limit_reaches_the_client(local):
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st
        from lib.ui.sidebar import connection_sidebar
        st.write(f"deadline={connection_sidebar().client().deadline}")

    app = AppTest.from_function(page, default_timeout=30).run()
    assert not app.exception and app.markdown[-1].value == "deadline=600.0"
    (box,) = [n for n in app.sidebar.number_input if n.label == "Time limit per run (s)"]
    box.set_value(30.0).run()
    assert app.markdown[-1].value == "deadline=30.0"


# ------------------------------------------------------------ replies that are not the API

@pytest.mark.parametrize("status, content_type, body", [
    (200, "text/plain", f"token={SECRET}\n".encode()),
    (200, "text/html", f"<html><title>{SECRET}</title><body>{SECRET}</body></html>".encode()),
    (403, "text/html", f"<html><title>{SECRET}</title></html>".encode()),
    (502, "text/plain", SECRET.encode()),
])
def test_a_reply_that_is_not_the_api_is_described_never_echoed(canned, status, content_type,
                                                                body):
    server = canned({"/admin/token": json_route(status, body, content_type)})
    c = Client(api_key="", base_url=server.url + "/admin/token#", max_retries=0)
    with pytest.raises(TogetherError) as info:
        c.list_models()
    message = info.value.describe()
    assert SECRET not in message
    assert f"HTTP {status}" in message and content_type in message
    assert f"{len(body)} bytes" in message, message


def test_an_api_errors_own_message_is_shown_but_json_of_another_shape_is_not(canned):
    error = json.dumps({"error": {"message": "model m is not available"}}).encode()
    server = canned({"/v1/completions": json_route(404, error),
                     "/v1/models": json_route(500, json.dumps([SECRET]).encode())})
    c = Client(api_key="", base_url=server.url + "/v1", max_retries=0)
    with pytest.raises(APIStatusError, match="^model m is not available$"):
        c.complete({"model": "m", "prompt": "x"})
    with pytest.raises(APIStatusError) as info:
        c.list_models()
    assert info.value.message == ("The server's answer is not the API's (application/json, "
                                  "29 bytes)")


def test_a_stream_chunk_that_is_not_json_is_not_echoed(canned):
    body = GOOD + f"data: {SECRET}\n\n".encode()
    server = canned({"/v1/completions": json_route(200, body, "text/event-stream")})
    texts, error = consume(Client(api_key="", base_url=server.url + "/v1").stream(
        {"model": "m", "prompt": "x"}))
    assert texts == ["one", " two", " three"]
    assert error.message == "The server sent a malformed chunk (25 bytes, not the API's JSON)"
