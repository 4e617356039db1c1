"""The loopback HTTP server: routing, auth, headers, faults, pacing; and ``LocalBackend``.

Routes (a doubled ``/v1/v1/`` and paths without ``/v1`` are accepted, as SDK base URLs vary):
  GET  /v1/models               POST /v1/completions (JSON or SSE)
  POST /v1/images/generations   GET  /images/<id>.<ext> (URL-mode images)
  GET|POST /_local/config   POST|DELETE /_local/faults   GET /_local/requests

The ``/_local/`` control endpoints show every session's prompts and can lock everyone out,
so they exist only on a backend started with ``control=True`` (tests, benchmarks), and
answer only requests that carry its per-process credential (``control_headers()``). The
app's shared backend serves none. Every request must name this server in ``Host`` (a web
page reaching loopback through DNS rebinding names its own), a control POST must be JSON
(a cross-site form cannot send that), a body's length is checked before it is read, and a
connection that stalls while sending its request is dropped after ``header_timeout``.
"""
from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from lib.api.quoting import short_repr

from .faults import FaultQueue
from .framing import BodyWriter, send_whole
from .demo_models import CARDS
from .settings import Settings
from .wire import ApiError, dumps

if TYPE_CHECKING:  # numpy and Pillow come in with a first completion or image request
    from . import completions, images_api

REQUEST_LIMIT = 100      # advertised requests per second
TOKEN_LIMIT = 100_000    # advertised tokens per second
MAX_BODY = 64 * 1024 * 1024
HEADER_TIMEOUT = 10.0    # seconds a client may stall while sending its request
CONTROL_HEADER = "X-Local-Control"
CONTROL_TOKEN_ENV = "LOCAL_BACKEND_CONTROL_TOKEN"  # how a parent hands a child its credential
BATCH_BYTES = 64 * 1024  # unpaced streams write once this much is queued
MAX_SEEN = 10_000        # requests_seen keeps the most recent ones
KEEP_ALIVE = b": keep-alive\n\n"


class _Window:
    """Requests and tokens in the current one-second window, for the rate-limit headers."""

    def __init__(self):
        self.second = 0
        self.requests = 0
        self.tokens = 0
        self.lock = threading.Lock()

    def hit(self, tokens: int = 0) -> tuple[int, int]:
        with self.lock:
            now = int(time.time())
            if now != self.second:
                self.second, self.requests, self.tokens = now, 0, 0
            self.requests += 1
            self.tokens += tokens
            return (max(0, REQUEST_LIMIT - self.requests), max(0, TOKEN_LIMIT - self.tokens))


def normalise(path: str) -> str:
    """``/v1/v1/x`` and ``/x`` become ``/v1/x``; control and image-file paths stay as they are."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    while path.startswith("/v1/v1/") or path == "/v1/v1":
        path = path[3:]
    if path.startswith("/_local/"):
        return path
    if path.startswith("/images/") and path != "/images/generations":
        return path
    if path != "/v1" and not path.startswith("/v1/"):
        path = "/v1" + path
    return path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalTogetherBackend/1.0"
    backend: "LocalBackend"  # set on the subclass made per backend

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the app must not fill stderr (and nothing here may log keys)."""

    def setup(self) -> None:
        """Reads time out, so a client that never finishes its request is dropped
        (``handle_one_request`` closes on the timeout); writes are unbounded (_dispatch)."""
        self.timeout = self.backend.header_timeout
        super().setup()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ------------------------------------------------------------------ plumbing

    def send_response(self, code: int, message: str | None = None) -> None:
        self.responded = True
        super().send_response(code, message)

    def _dispatch(self, method: str) -> None:
        self.request_id = secrets.token_hex(8)
        self.responded = False
        path = normalise(self.path)
        try:
            body = self._admit(method, path)
            # Answering may mean writing a long stream to a slow reader: no timeout then.
            self.connection.settimeout(None)
            if path.startswith("/_local/"):
                self._control(method, path, body)
                return
            self.backend._record(path, method, body, self._has_auth())
            if not path.startswith("/images/"):
                self._check_auth()
            self._api(method, path, body)
        except ApiError as exc:
            self._send_json(exc.status, exc.body(), exc.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug here must still answer in the API's error shape
            self.close_connection = True
            if not self.responded:
                error = ApiError(500, f"Internal error in the local backend: {exc!r}",
                                 type="server_error")
                self._send_json(500, error.body())
        finally:
            self.connection.settimeout(self.timeout)  # for the next request's headers

    def _admit(self, method: str, path: str) -> Any:
        """The request's body, once Host, credential and length allow reading it.

        A refusal leaves the body unread, so the connection closes after the answer (its
        bytes must never be parsed as the next request).
        """
        try:
            self._check_host()
            if path.startswith("/_local/"):
                self._check_control(method, path)
            return self._read_body(self._content_length(method))
        except ApiError as exc:
            exc.headers["Connection"] = "close"
            raise

    def _check_host(self) -> None:
        hosts = self.headers.get_all("Host") or []
        allowed = self.backend.allowed_hosts
        if len(hosts) != 1 or hosts[0].strip().lower() not in allowed:
            shown = short_repr(hosts[0]) if len(hosts) == 1 else f"{len(hosts)} Host headers"
            raise ApiError(421, f"Host {shown} is not this server: it answers only to one "
                                f"Host header of {', '.join(allowed)}", code="misdirected_request")

    def _check_control(self, method: str, path: str) -> None:
        """404 unless control is on; then the credential, and JSON for a POST."""
        token = self.backend.control_token
        if token is None:
            raise ApiError(404, f"Unknown endpoint {method} {path}", code="not_found")
        given = self.headers.get(CONTROL_HEADER)
        if given is None:
            raise ApiError(401, f"Control endpoints need the {CONTROL_HEADER} header of the "
                                "process that started this backend", code="control_credential")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(403, f"The {CONTROL_HEADER} header is not this backend's credential",
                           code="control_credential")
        if method == "POST" and self.headers.get_content_type() != "application/json":
            raise ApiError(415, f"A control POST must be application/json, not "
                                f"{short_repr(self.headers.get('Content-Type', '(none)'))}",
                           code="unsupported_media_type")

    def _content_length(self, method: str) -> int:
        """The body's length, checked before a byte of it is read."""
        values = [v.strip() for v in self.headers.get_all("Content-Length") or []]
        if "Transfer-Encoding" in self.headers or (not values and method == "POST"):
            raise ApiError(411, "A POST needs one Content-Length header (0 to "
                                f"{MAX_BODY} bytes); chunked request bodies are not accepted",
                           code="length_required")
        if not values:
            return 0
        text = values[0]
        if len(set(values)) > 1 or not (text.isascii() and text.isdigit()):
            raise ApiError(411, f"Content-Length {short_repr(', '.join(values))} is not one "
                                f"whole number of bytes from 0 to {MAX_BODY}",
                           code="length_required")
        digits = text.lstrip("0") or "0"  # int() refuses thousands of digits: count first
        if len(digits) > len(str(MAX_BODY)) or int(digits) > MAX_BODY:
            raise ApiError(413, f"The request body of {short_repr(text)} bytes is over this "
                                f"server's limit of {MAX_BODY} bytes", code="request_too_large")
        return int(digits)

    def _read_body(self, length: int) -> Any:
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"The request body is not valid JSON: {exc}") from None

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def _has_auth(self) -> bool:
        return self._bearer() is not None

    def _check_auth(self) -> None:
        required = self.backend.settings.require_key
        if required is None:
            return
        given = self._bearer() or ""
        if not hmac.compare_digest(given.encode(), required.encode()):
            raise ApiError(401, "Invalid API key provided. You can find your API key at "
                                "https://api.together.xyz/settings/api-keys.",
                           code="invalid_api_key")

    def _headers(self, tokens: int = 0) -> dict[str, str]:
        remaining, token_remaining = self.backend._window.hit(tokens)
        return {"x-request-id": self.request_id, "cf-ray": f"{self.request_id}-LCL",
                "x-ratelimit-limit": str(REQUEST_LIMIT),
                "x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": "1",
                "x-tokenlimit-limit": str(TOKEN_LIMIT),
                "x-tokenlimit-remaining": str(token_remaining)}

    def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None,
                   tokens: int = 0) -> None:
        headers = self._headers(tokens)
        headers["Content-Type"] = "application/json"
        headers.update(extra or {})
        self._send(status, dumps(obj), headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        settings = self.backend.settings
        send_whole(self, status, body, headers, settings.framing, settings.gzip)

    # ------------------------------------------------------------------ routes

    def _api(self, method: str, path: str, body: Any) -> None:
        if path.startswith("/images/") and method == "GET":
            self._image_file(path[len("/images/"):])
        elif path == "/v1/models" and method == "GET":
            self._apply_fault(self.backend.faults.take("models"))
            self._send_json(200, [card.listing() for card in CARDS])
        elif path == "/v1/completions" and method == "POST":
            from . import completions
            streaming = isinstance(body, dict) and body.get("stream") is True
            fault = self._apply_fault(self.backend.faults.take("completions", streaming))
            job = completions.parse(body)
            if job.stream:
                self._stream(job, fault)
            else:
                result = completions.response_body(job)
                self._pace_whole(result)
                self._send_json(200, result, tokens=result["usage"]["total_tokens"])
        elif path == "/v1/images/generations" and method == "POST":
            from . import images_api
            self._apply_fault(self.backend.faults.take("images"))
            self._send_json(200, images_api.generate(body, self.backend.images,
                                                     self.backend.root_url))
        else:
            raise ApiError(404, f"Unknown endpoint {method} {path}", code="not_found")

    def _pace_whole(self, result: dict) -> None:
        """A whole (non-streamed) answer takes as long as its choices would take to stream:
        a real server generates it before replying, so a paced backend waits as long."""
        rate = self.backend.settings.tokens_per_second
        if rate > 0:
            choices = max(1, len(result.get("choices") or []))
            time.sleep(result["usage"]["completion_tokens"] / choices / rate)

    def _apply_fault(self, fault: dict | None, image_file: bool = False) -> dict | None:
        """Status faults answer now; a slow first byte waits; others are returned for later."""
        if fault is None:
            return None
        if fault["kind"] == "status":
            status = fault["status"]
            headers = {}
            if fault.get("retry_after") is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            code = "not_found" if image_file and status == 404 else _ERROR_CODES.get(status)
            raise ApiError(status, fault.get("message") or f"Injected fault: HTTP {status}",
                           type=_ERROR_TYPES.get(status, "server_error"), code=code,
                           headers=headers)
        if fault["kind"] == "slow_first_byte":
            time.sleep(fault["seconds"])
            return None
        return fault

    def _image_file(self, name: str) -> None:
        fault = self._apply_fault(self.backend.faults.take("image_file"), image_file=True)
        if fault and fault["kind"] == "not_image":
            headers = self._headers()
            headers["Content-Type"] = "text/html; charset=utf-8"
            self._send(200, b"<!doctype html><title>Not an image</title><p>Sign in first.",
                       headers)
            return
        if fault and fault["kind"] == "bomb":
            from .procedural import bomb_png
            data, content_type = bomb_png(), "image/png"
        else:
            item = self.backend.images.get(name)
            if item is None:
                raise ApiError(404, f"No image {name!r} (images are kept for a limited time)",
                               code="not_found")
            data, content_type = item
        headers = self._headers()
        headers["Content-Type"] = content_type
        self._send(200, data, headers)

    def _stream(self, job: completions.CompletionJob, fault: dict | None) -> None:
        from . import completions
        settings = self.backend.settings
        steps = completions.stream_steps(job)
        if settings.pregenerate:
            steps = iter(list(steps))
        headers = self._headers(len(job.prompt_ids))
        headers.update({"Content-Type": "text/event-stream; charset=utf-8",
                        "Cache-Control": "no-cache"})
        writer = BodyWriter(self, settings.framing, settings.gzip)
        writer.start(200, headers)
        paced = settings.tokens_per_second > 0
        interval = 1.0 / settings.tokens_per_second if paced else 0.0
        limit = _fault_limit(fault)
        sent = 0
        batch = [KEEP_ALIVE]
        queued = len(KEEP_ALIVE)
        began = time.monotonic()
        for number, events in enumerate(steps):
            if paced and number:
                delay = began + number * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            for event in events:
                done = event == completions.DONE
                if limit is not None and (done or sent >= limit):
                    if self._inject(fault, writer, batch):
                        return
                    limit = None
                batch.append(event)
                queued += len(event)
                sent += not done
            if paced or queued >= BATCH_BYTES:
                writer.write_events(batch)
                batch, queued = [], 0
        writer.write_events(batch)
        writer.finish()

    def _inject(self, fault: dict, writer: BodyWriter, batch: list[bytes]) -> bool:
        """Apply a stream fault at its point; True when the stream is over."""
        kind = fault["kind"]
        if kind == "malformed_chunk":
            batch.append(b"data: {not json\n\n")
            return False
        if kind == "error_chunk":
            error = {"error": {"message": fault.get("message") or "Injected stream error",
                               "type": "server_error", "param": None, "code": None}}
            batch.append(b"data: " + dumps(error) + b"\n\n")
            writer.write_events(batch)
            writer.finish()
            self.close_connection = True
            return True
        writer.write_events(batch)  # drop_after: what was promised, then the cut
        writer.abort()
        return True

    # ------------------------------------------------------------------ control

    def _control(self, method: str, path: str, body: Any) -> None:
        backend = self.backend
        try:
            if path == "/_local/config" and method == "GET":
                self._send_json(200, backend.settings.public())
            elif path == "/_local/config" and method == "POST":
                backend.configure(**(body or {}))
                self._send_json(200, backend.settings.public())
            elif path == "/_local/faults" and method == "POST":
                faults = (body or {}).get("faults") if isinstance(body, dict) else None
                if not isinstance(faults, list):
                    raise ValueError('send {"faults": [fault, ...]}')
                backend.faults.add(faults)
                self._send_json(200, {"pending": backend.faults.pending()})
            elif path == "/_local/faults" and method == "DELETE":
                backend.clear_faults()
                self._send_json(200, {"pending": []})
            elif path == "/_local/faults" and method == "GET":
                self._send_json(200, {"pending": backend.faults.pending()})
            elif path == "/_local/requests" and method == "GET":
                self._send_json(200, backend.requests_seen)
            else:
                raise ApiError(404, f"Unknown control endpoint {method} {path}",
                               code="not_found")
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc), code="invalid_value") from None


def _fault_limit(fault: dict | None) -> int | None:
    """After how many content chunks a stream fault strikes."""
    if fault is None:
        return None
    return fault["tokens"] if fault["kind"] == "drop_after" else fault["after"]


_ERROR_TYPES = {401: "invalid_request_error", 400: "invalid_request_error",
                403: "invalid_request_error", 404: "invalid_request_error",
                422: "invalid_request_error", 429: "credit_limit"}
_ERROR_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded",
                503: "service_unavailable"}


class LocalBackend:
    """A Together-compatible server on loopback, for the app's offline mode and for tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tokens_per_second: float = 60.0,
                 *, control: bool = False, control_token: str | None = None,
                 header_timeout: float = HEADER_TIMEOUT, preload: bool = False):
        """``control`` serves the ``/_local/`` endpoints to holders of ``control_token``
        (a fresh random one unless a parent process chose it); without it they are 404.
        ``preload`` loads the text models on a background thread at start, for a server
        that will surely generate (a test session): its first completion then does not
        wait for them."""
        self.host = host
        self.port = port
        self.control_token = (control_token or secrets.token_urlsafe(32)) if control else None
        self.header_timeout = header_timeout
        self.preload = preload
        self.settings = Settings(tokens_per_second=tokens_per_second)
        self.faults = FaultQueue()
        self._images = None  # the image store, made with the first image request
        self._seen: list[dict] = []
        self._seen_lock = threading.Lock()
        self._window = _Window()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> "LocalBackend":
        """Serve in a daemon thread (idempotent). Unless preloaded, the text models load
        (from the disk cache, else trained) with the first completion: a server that lists
        models or makes images never holds them (issue 14: 40 MB and the start-up's CPU)."""
        with self._lock:
            if self._server is not None:
                return self
            handler = type("BoundHandler", (Handler,), {"backend": self})
            server = ThreadingHTTPServer((self.host, self.port), handler)
            server.daemon_threads = True
            self.port = server.server_address[1]
            self._server = server
            threading.Thread(target=server.serve_forever, name="local-backend",
                             daemon=True).start()
            if self.preload:
                from .demo_models import text_models
                threading.Thread(target=text_models, name="local-backend-train",
                                 daemon=True).start()
        return self

    @property
    def images(self) -> images_api.ImageStore:
        """Recently generated images; the store (and its module's numpy and Pillow) comes
        with the first image request, not with a server that may only list models."""
        with self._lock:
            if self._images is None:
                from . import images_api
                self._images = images_api.ImageStore()
            return self._images

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """The ``Host`` values naming this server (lower case): loopback or the bound host."""
        names = ("127.0.0.1", "localhost", "[::1]", self.host.lower())
        return tuple(dict.fromkeys(f"{name}:{self.port}" for name in names))

    def control_headers(self) -> dict[str, str]:
        """The header that lets a request through to the control endpoints."""
        if self.control_token is None:
            raise RuntimeError("this backend was started without control endpoints")
        return control_headers(self.control_token)

    def configure(self, **changes: Any) -> Settings:
        """Same keywords as ``POST /_local/config``; unknown keys or bad values raise ValueError."""
        self.settings.update(changes)
        return self.settings

    def add_fault(self, fault: dict) -> None:
        self.faults.add([fault])

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def requests_seen(self) -> list[dict]:
        """``{path, method, body, has_auth}`` per API request; never the Authorization value."""
        with self._seen_lock:
            return [dict(r) for r in self._seen]

    def clear_requests(self) -> None:
        with self._seen_lock:
            self._seen.clear()

    def _record(self, path: str, method: str, body: Any, has_auth: bool) -> None:
        with self._seen_lock:
            self._seen.append({"path": path, "method": method, "body": body,
                               "has_auth": has_auth})
            del self._seen[:-MAX_SEEN]


def control_headers(token: str) -> dict[str, str]:
    """The control credential as a request header (also for a backend in another process)."""
    return {CONTROL_HEADER: token}


_shared: LocalBackend | None = None
_shared_lock = threading.Lock()


def get_shared_backend() -> LocalBackend:
    """The process-wide backend the app uses, started on first call."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LocalBackend().start()
        return _shared
