"""The local backend's guard over real sockets: control endpoints, Host, bodies, slow clients.

The control endpoints (``/_local/...``) show every session's prompts and can lock everyone
out, so only a backend started with control enabled serves them, and only to the holder
of its per-process credential. A web page must not reach the backend at all: a foreign
``Host`` (DNS rebinding) is refused, and a control POST must be JSON, which a plain
cross-site form cannot send. A request's ``Content-Length`` is checked before any body is
read, and a client that never finishes its headers is dropped.
"""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from lib.local_backend import LocalBackend
from lib.local_backend.server import MAX_BODY

QUICK = 5.0          # seconds: every refusal here is answered well within this
SHORT_TIMEOUT = 0.5  # the header timeout of the slow-client backend
CONTROL_HEADER = "X-Local-Control"  # the credential's header, as a client writes it


@pytest.fixture(scope="module")
def uncontrolled():
    """A backend as the app starts it: no control endpoints."""
    b = LocalBackend(port=0, tokens_per_second=0).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def impatient():
    """A backend that gives a connection SHORT_TIMEOUT seconds between reads."""
    b = LocalBackend(port=0, tokens_per_second=0, header_timeout=SHORT_TIMEOUT).start()
    yield b
    b.stop()


def raw_exchange(backend, request: bytes, timeout: float = QUICK) -> bytes:
    """Send raw bytes and read the answer until the server closes or ``timeout`` passes."""
    with socket.create_connection((backend.host, backend.port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                return received
            received += piece


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def error_of(answer: bytes) -> str:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["message"]


@pytest.mark.parametrize("method, path", [("GET", "/_local/requests"),
                                          ("GET", "/_local/config"),
                                          ("POST", "/_local/config"),
                                          ("POST", "/_local/faults")])
def test_a_backend_without_control_serves_no_control_endpoint(uncontrolled, method, path):
    response = requests.request(method, uncontrolled.root_url + path, timeout=QUICK,
                                json={"require_key": "locked-out"} if method == "POST" else None)
    assert response.status_code == 404, response.text
    assert uncontrolled.settings.require_key is None
    assert "locked-out" not in response.text


def test_the_shared_backend_of_the_app_serves_no_control_endpoint():
    from lib.local_backend import get_shared_backend
    shared = get_shared_backend()
    assert requests.get(f"{shared.root_url}/_local/requests", timeout=QUICK).status_code == 404


def test_control_needs_the_backends_own_credential(fresh_backend):
    url = f"{fresh_backend.root_url}/_local/config"
    missing = requests.post(url, json={"require_key": "locked-out"}, timeout=QUICK)
    wrong = requests.post(url, json={"require_key": "locked-out"}, timeout=QUICK,
                          headers={CONTROL_HEADER: "guessed"})
    seen = requests.get(f"{fresh_backend.root_url}/_local/requests", timeout=QUICK)
    assert (missing.status_code, wrong.status_code, seen.status_code) == (401, 403, 401)
    assert CONTROL_HEADER in missing.json()["error"]["message"]
    assert fresh_backend.settings.require_key is None
    right = requests.post(url, json={"tokens_per_second": 7}, timeout=QUICK,
                          headers=fresh_backend.control_headers())
    assert right.status_code == 200 and fresh_backend.settings.tokens_per_second == 7


def test_two_backends_have_different_credentials(fresh_backend, impatient):
    assert impatient.control_token is None
    other = LocalBackend(port=0, control=True)
    assert other.control_token and other.control_token != fresh_backend.control_token
    assert len(fresh_backend.control_token) >= 32


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "localhost.evil.example:{port}", "", None])
def test_a_foreign_or_missing_host_is_refused_on_every_path(fresh_backend, host):
    line = "" if host is None else f"Host: {host.format(port=fresh_backend.port)}\r\n"
    for path in ("/v1/models", "/_local/requests"):
        answer = raw_exchange(fresh_backend, (
            f"GET {path} HTTP/1.1\r\n{line}\r\n").encode())
        assert status_of(answer) == 421, answer[:200]
        assert "Host" in error_of(answer) and f"127.0.0.1:{fresh_backend.port}" in error_of(answer)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}",
                                  "LOCALHOST:{port}"])
def test_loopback_hosts_with_the_port_are_served(fresh_backend, host):
    response = requests.get(f"{fresh_backend.base_url}/models", timeout=QUICK,
                            headers={"Host": host.format(port=fresh_backend.port)})
    assert response.status_code == 200, response.text


def test_a_control_post_must_be_json(fresh_backend):
    """A cross-site form can send text/plain without a preflight; it must not change anything."""
    response = requests.post(f"{fresh_backend.root_url}/_local/config", timeout=QUICK,
                             data='{"require_key": "locked-out"}',
                             headers={**fresh_backend.control_headers(),
                                      "Content-Type": "text/plain"})
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["error"]["message"]
    assert fresh_backend.settings.require_key is None


@pytest.mark.parametrize("length, status, named", [
    ("-1", 411, "'-1'"),
    ("abc", 411, "'abc'"),
    (None, 411, "Content-Length"),
    (str(10**12), 413, str(MAX_BODY)),
    ("9" * 5000, 413, str(MAX_BODY)),
])
def test_a_bad_content_length_is_answered_at_once(fresh_backend, length, status, named):
    header = "" if length is None else f"Content-Length: {length}\r\n"
    began = time.monotonic()
    answer = raw_exchange(fresh_backend, (
        f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:{fresh_backend.port}\r\n"
        f"Content-Type: application/json\r\n{header}\r\n" + '{"prompt": "x"}' * 4).encode())
    assert time.monotonic() - began < QUICK
    assert status_of(answer) == status, answer[:300]
    assert named in error_of(answer)
    # The body was never read, so the connection ends after the answer: a second status
    # line would mean the unread body was parsed as a request.
    assert answer.count(b"HTTP/1.1 ") == 1
    assert b"connection: close" in answer.lower()


def test_a_client_that_never_finishes_its_headers_is_dropped(impatient):
    with socket.create_connection((impatient.host, impatient.port), timeout=QUICK) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        began = time.monotonic()
        assert sock.recv(1) == b""  # the server closed: recv returns at once, empty
        assert time.monotonic() - began < QUICK


def test_a_slow_reader_still_gets_a_whole_stream(impatient):
    """The header timeout is for reading requests: writing a stream to a client that reads
    slowly (a full socket buffer for longer than the timeout) must not cut it."""
    impatient.configure(pregenerate=True)  # the whole stream is ready: writes back up at once
    body = json.dumps({"model": "local/ngram-docs", "prompt": "The function returns",
                       "max_tokens": 1500, "n": 4, "seed": 3, "logit_bias": {"0": -100},
                       "stream": True}).encode()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect((impatient.host, impatient.port))
        sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (impatient.port, len(body), body))
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200"), first[:300]
        # The slow reader: reads nothing for several header timeouts while the server's
        # writes back up. This pause is the stimulus, not a wait for something to happen.
        time.sleep(SHORT_TIMEOUT * 4)
        received = first
        while piece := sock.recv(65536):
            received += piece
    assert received.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")  # whole, to the last chunk
    assert received.count(b'"completion_tokens": 6000') == 1
