"""The HTTP client for Together's /v1 API and any OpenAI-compatible server.

One code path serves Together, the built-in local backend and custom servers, so the
parsing here is lenient: fields only Together sends are optional, and the shapes other
servers use (a ``{"data": [...]}`` model list, flat error bodies, echo via ``text_offset``)
are folded into the same result types.

Streams are read with ``raw.read1`` and a pure SSE parser rather than ``iter_lines``:
``iter_lines`` waits for 512 bytes on close-delimited bodies, which delays each token by
tens to hundreds of milliseconds (measured in the streamlit notes, §3b).

The API key lives only in the Authorization header of API requests. It is never sent to
image URLs, never given to hooks, and redacted from every message the server echoes back.
"""
from __future__ import annotations

import base64
import binascii
import email.utils
import ipaddress
import json
import os
import random
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urljoin, urlparse

import requests
import urllib3.exceptions

from lib.errors import (APIConnectionError, APIStatusError, APITimeoutError, ImageItemError,
                        StreamInterruptedError, TogetherError, error_class_for)
from lib.http_body import (ACCEPT_ENCODING, BODY_MAX_BYTES, BODY_MAX_WIRE_BYTES,
                           BodyLimitError, BodyReader, read_all)
from lib.images import ImageDecodeError, decode_image
from lib.quoting import clip
from lib.redact import REDACTED, redact, redact_text, remember
from lib.results import (Choice, Completion, GeneratedImage, ImageResult, ModelInfo,
                         RateLimits, StreamEvent, TokenLogprob, Usage)
from lib.sse import EVENT_MAX_BYTES, EventTooLarge, SSEEvent, SSEParser
from lib.untrusted import integer as _integer, number as _number, text as _text

DEFAULT_BASE_URL = "https://api.together.xyz/v1"
USER_AGENT = "together-playground/0.1"
HOOK_NAMES = ("request", "response", "retry")
IMAGE_MAX_BYTES = 32 * 1024 * 1024
IMAGE_MAX_REDIRECTS = 5
_READ_SIZE = 65536
_RETRY_AFTER_MAX = 60.0
# The setting that raises the read timeout: lib.connection.TIMEOUT_ENV, which cannot be
# imported here because lib.connection imports this module.
_TIMEOUT_SETTING = "PLAYGROUND_TIMEOUT"
_CLOSED_EARLY = "The connection closed before the stream finished"
# The setting (and sidebar field) for Client(deadline=...): lib.connection.DEADLINE_ENV.
_DEADLINE_SETTING = "PLAYGROUND_DEADLINE"


@dataclass(frozen=True)
class Limits:
    """What one answer may cost, with defaults no real answer meets; tests pass small ones.

    ``body_bytes``/``wire_bytes``: a JSON body inflated / as sent. ``event_bytes``: one
    stream line or event. ``idle_s``: seconds a stream may go without an event, however
    many keep-alive comments come (None: the read timeout).
    """

    body_bytes: int = BODY_MAX_BYTES
    wire_bytes: int = BODY_MAX_WIRE_BYTES
    event_bytes: int = EVENT_MAX_BYTES
    idle_s: float | None = None


class Client:
    """A session with one server: retries, error mapping and key hygiene in one place.

    ``hooks`` lets callers watch without flags: ``{"request": [fn(method, url, body)],
    "response": [fn(status, headers, elapsed_s)], "retry": [fn(attempt, delay_s, error)]}``.
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 timeout: float | tuple[float, float] = (10.0, 60.0), max_retries: int = 2,
                 hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
                 deadline: float | None = None, limits: Limits = Limits()):
        # ``deadline``: seconds one call may take from sending its request to the end of
        # its answer (a stream's last event), however steadily the server keeps sending.
        key = os.environ.get("TOGETHER_API_KEY", "") if api_key is None else api_key
        self._api_key = key.strip()
        if not all(" " < ch < "\x7f" for ch in self._api_key):
            # requests would echo the whole header value, key included, in its error.
            raise ValueError("The API key contains spaces or characters that cannot be sent")
        remember(self._api_key)  # so what is written far from here (a PNG) drops it too
        self.base_url = (base_url or os.environ.get("TOGETHER_BASE_URL")
                         or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.limits = limits
        unknown = set(hooks or ()) - set(HOOK_NAMES)
        if unknown:
            raise ValueError(f"unknown hook names {sorted(unknown)}; allowed: {HOOK_NAMES}")
        self._hooks = {name: list((hooks or {}).get(name, ())) for name in HOOK_NAMES}
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers["Accept-Encoding"] = ACCEPT_ENCODING

    def __repr__(self) -> str:
        key = REDACTED if self._api_key else None
        return f"Client(base_url={self.base_url!r}, api_key={key!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ endpoints

    def complete(self, params: Mapping[str, Any]) -> Completion:
        """One whole completion; ``params`` is the body from ``catalogue.build_request``."""
        response = self._request("POST", "/completions", {**params, "stream": False})
        data = self._answer_json(response)
        return _within_n(_parsed(parse_completion, data, response.headers), params)

    def stream(self, params: Mapping[str, Any]) -> "CompletionStream":
        """Send the request now (retrying as needed) and return the open event stream."""
        response = self._request("POST", "/completions", {**params, "stream": True},
                                 accept="text/event-stream")
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            response.close()
            raise TogetherError(f"Expected an event stream, but the server answered with "
                                f"{_media_type(content_type)}",
                                request_id=_request_id(response.headers))
        return CompletionStream(response, self._redact, n=_requested_n(params),
                                limits=self.limits, times=_TimeLimits(response, self.deadline))

    def generate_images(self, params: Mapping[str, Any]) -> ImageResult:
        """Generate, decode and (for URL items) fetch images; a bad item never loses the rest."""
        response = self._request("POST", "/images/generations", dict(params))
        data = self._answer_json(response)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise TogetherError("The image response has no data list")
        seed = params.get("seed")
        images: list[GeneratedImage] = []
        errors: list[tuple[int, TogetherError]] = []
        for position, item in enumerate(items):
            index = _integer(item.get("index")) if isinstance(item, dict) else None
            index = position if index is None else index
            try:
                images.append(self._image_item(item, index, seed))
            except TogetherError as exc:
                # The caller knows where the image sits in its grid: no index in the words.
                errors.append((index, ImageItemError(exc.message, status=exc.status,
                                                     request_id=exc.request_id)))
        images.sort(key=lambda image: image.index)
        return ImageResult(id=str(data.get("id") or ""), model=str(data.get("model") or ""),
                           images=images, rate_limits=RateLimits.from_headers(response.headers),
                           request_id=_request_id(response.headers),
                           raw={k: v for k, v in data.items() if k != "data"}, errors=errors)

    def list_models(self, type: str | tuple[str, ...] | None = None) -> list[ModelInfo]:
        """The server's models, optionally only those of the given type(s).

        OpenAI-compatible servers do not say a model's type; such models pass every
        filter, since hiding them all would leave the picker empty.
        """
        response = self._request("GET", "/models")
        data = self._answer_json(response)
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise TogetherError("The model list is neither a JSON array nor {\"data\": [...]}")
        models = [_parsed(parse_model, item) for item in items
                  if isinstance(item, dict) and item.get("id")]
        if type is None:
            return models
        wanted = (type,) if isinstance(type, str) else tuple(type)
        return [m for m in models if m.type in wanted or not m.type]

    def tokenize(self, model: str, text: str) -> list[TokenLogprob]:
        """The prompt's tokens and ids, from a one-token completion that echoes the prompt."""
        completion = self.complete({"model": model, "prompt": text, "max_tokens": 1,
                                    "echo": True, "logprobs": 1})
        if completion.prompt_tokens is not None:
            return completion.prompt_tokens
        return echoed_prompt_tokens(completion, len(text))

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, path: str, body: dict | None = None, *,
                 accept: str = "application/json") -> requests.Response:
        """Send, resending only what ``may_resend`` allows; return a 2xx response whose
        body has not been read yet.

        Once a 2xx answer arrived nothing is retried, so a stream that has delivered text
        is never silently restarted.
        """
        url = self.base_url + path
        headers = {"Accept": accept}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        attempt = 0
        while True:
            self._run_hooks("request", method, url, body)
            try:
                response = self._session.request(method, url, json=body, headers=headers,
                                                 timeout=self.timeout, stream=True)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error: TogetherError = self._transport_error(exc)
                resend = may_resend(method, sent=not _never_sent(exc))
            except requests.RequestException as exc:
                raise self._transport_error(exc) from None
            else:
                elapsed_s = response.elapsed.total_seconds()
                self._run_hooks("response", response.status_code, response.headers, elapsed_s)
                if response.ok:
                    return response
                error = self._status_error(response)
                resend = may_resend(method, status=response.status_code, elapsed_s=elapsed_s,
                                    retry_after=_retry_after(error.headers) is not None)
            if not resend or attempt >= self.max_retries:
                raise error
            delay = retry_delay(error.headers, attempt)
            attempt += 1
            self._run_hooks("retry", attempt, delay, error)
            time.sleep(delay)

    def _run_hooks(self, name: str, *args: Any) -> None:
        for hook in self._hooks[name]:
            hook(*args)

    def _read_json(self, response: requests.Response) -> Any:
        """The answer's JSON; an answer that is not JSON is described, never quoted."""
        content = self._read_body(response)
        try:
            return json.loads(content)
        except ValueError:
            raise TogetherError(_not_the_api(content, response.headers.get("content-type", ""),
                                             response.status_code),
                                request_id=_request_id(response.headers)) from None

    def _read_body(self, response: requests.Response) -> bytes:
        """The whole body within the size limits and the deadline, whatever the server sends."""
        times = _TimeLimits(response, self.deadline)
        try:
            with response:
                return read_all(BodyReader(response.raw, response.headers, _READ_SIZE),
                                times.before_read, self.limits.body_bytes,
                                self.limits.wire_bytes)
        except BodyLimitError as exc:
            raise TogetherError(str(exc), request_id=_request_id(response.headers)) from None
        except Exception as exc:  # urllib3, http.client, socket and zlib errors alike
            limit = times.reason(exc)
            if limit:
                raise APITimeoutError(limit) from None
            raise self._transport_error(exc) from None

    def _status_error(self, response: requests.Response) -> APIStatusError:
        """The exception for an error status, with the server's own words (key redacted)."""
        try:
            details = error_details(self._read_body(response),
                                    response.headers.get("content-type", ""))
        except APIConnectionError:  # cut off while reading: the status says enough
            details = {}
        except TogetherError as exc:  # a body over the size limits
            details = {"message": exc.message}
        status = response.status_code
        details = _redacted(details, self._redact)
        # The reason phrase and the headers are the server's words too: a careless one
        # quotes the Authorization header back in them.
        message = details.get("message") or self._redact(
            f"HTTP {status} {_snippet(response.reason or '')}".strip())
        headers = redact({k.lower(): v for k, v in response.headers.items()}, self._api_key)
        return error_class_for(status)(
            message, status=status, type=details.get("type"), code=details.get("code"),
            param=details.get("param"),
            request_id=_request_id(headers) or details.get("id"), headers=headers)

    def _answer_json(self, response: requests.Response) -> Any:
        """The JSON of a 2xx answer, raised as an error when it is ``{"error": ...}``.

        Some servers report a failure with status 200; read as a result it would be an
        empty completion or model list, and the server's reason would be lost.
        """
        data = self._read_json(response)
        if not (isinstance(data, dict) and data.get("error")):
            return data
        details = _redacted(_error_fields(data), self._redact)
        status = _status_named_in(details)
        request_id = _request_id(response.headers)
        raise (error_class_for(status) if status else APIStatusError)(
            details.get("message") or "The server answered with an error and no message",
            type=details.get("type"), code=details.get("code"), param=details.get("param"),
            request_id=self._redact(request_id) if request_id else None)

    def _transport_error(self, exc: Exception) -> APIConnectionError:
        """The error for a request that got no answer, saying how long it waited."""
        if not _is_timeout(exc):
            return APIConnectionError(self._redact(f"Connection failed: {_reason(exc)}"))
        connect, read = (self.timeout if isinstance(self.timeout, tuple)
                         else (self.timeout, self.timeout))
        if _never_sent(exc):
            return APITimeoutError(self._redact(
                f"No connection within {connect:g} s (connect timeout): {_reason(exc)}"))
        return APITimeoutError(f"No answer within {read:g} s (read timeout). "
                               f"Raise {_TIMEOUT_SETTING} to wait longer.")

    def _redact(self, text: str) -> str:
        """``text`` without this client's key or anything shaped like a key."""
        return redact_text(text, self._api_key)

    # ------------------------------------------------------------------ images

    def _image_item(self, item: Any, index: int, request_seed: int | None) -> GeneratedImage:
        if not isinstance(item, dict):
            raise TogetherError("the response item is not an object")
        url = item.get("url")
        if item.get("b64_json"):
            try:
                data = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise TogetherError("its base64 data is corrupt") from None
        elif url:
            data = self._fetch_image(str(url))
        else:
            raise TogetherError("the response item has neither b64_json nor url")
        try:
            image = decode_image(data)
        except ImageDecodeError as exc:
            raise TogetherError(f"{_short_url(str(url))}: {exc}" if url else str(exc)) from None
        seed = _integer(item.get("seed"))
        if seed is None and request_seed is not None:
            seed = request_seed + index
        return GeneratedImage(index=index, image=image, data=data,
                              format=(image.format or "").lower(), seed=seed, url=url,
                              raw={k: v for k, v in item.items() if k != "b64_json"})

    def _fetch_image(self, url: str) -> bytes:
        """Download one image URL: https only (or http to this machine), capped, no key sent.

        Redirects are followed by hand so every hop passes the same URL check.
        """
        for _ in range(IMAGE_MAX_REDIRECTS + 1):
            label = _short_url(url)
            _check_image_url(url, label)
            try:
                response = self._session.get(url, headers={"Accept": "image/*"},
                                             timeout=self.timeout, stream=True,
                                             allow_redirects=False)
                with response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    return _read_image_body(response, label)
            except requests.RequestException as exc:
                error = self._transport_error(exc)
                raise type(error)(f"{label}: {error.message}") from None
        raise TogetherError(f"{_short_url(url)}: more than {IMAGE_MAX_REDIRECTS} redirects")


class CompletionStream:
    """An open completion stream: iterate for StreamEvents, close() to stop it at once.

    ``close()`` may be called from another thread while this one is blocked in a read: it
    shuts the socket down, the read returns, and iteration ends quietly.

    Every limit (``limits``, the deadline and idle limit in ``times``, a choice index beyond
    the ``n`` requested) ends iteration with a StreamInterruptedError naming it, after the
    events that came before it.
    """

    def __init__(self, response: requests.Response, redact: Callable[[str], str], *,
                 n: int, limits: Limits, times: "_TimeLimits"):
        self._response = response
        self._socket = _socket_of(response.raw)
        self._body = BodyReader(response.raw, response.headers, _READ_SIZE)
        self._redact = redact
        self._n = n
        self._max_event_bytes = limits.event_bytes
        self._times = times
        times.watch_idle(limits.idle_s)
        self._lock = threading.Lock()
        self.rate_limits = RateLimits.from_headers(response.headers)
        self.request_id = _request_id(response.headers)
        self.usage: Usage | None = None
        self.closed = False
        self._events = self._iterate()

    def __iter__(self) -> Iterator[StreamEvent]:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def __enter__(self) -> "CompletionStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the server
        self._response.close()

    def _iterate(self) -> Iterator[StreamEvent]:
        parser = SSEParser(self._max_event_bytes)
        try:
            while True:
                chunk = self._read()
                if self.closed:
                    return
                try:
                    sses = parser.feed(chunk) if chunk else parser.flush()
                except EventTooLarge as exc:
                    if (yield from self._deliver(exc.events)):
                        return
                    raise StreamInterruptedError(str(exc), request_id=self.request_id) from None
                finished = yield from self._deliver(sses)
                if finished:
                    return
                if not chunk:
                    raise StreamInterruptedError(_CLOSED_EARLY, request_id=self.request_id)
        finally:
            self.close()

    def _deliver(self, sses: list[SSEEvent]) -> Iterator[StreamEvent]:
        """Yield the events of one read, in order; return True at ``[DONE]``."""
        batch: list[str] = []
        for sse in sses:
            if sse.event == "message" and sse.data != "[DONE]":
                batch.append(sse.data)
                continue
            yield from self._decode_batch(batch)
            batch = []
            if sse.data == "[DONE]":
                return True
            yield from self._decode(sse.event, sse.data)
        yield from self._decode_batch(batch)
        return False

    def _decode_batch(self, datas: list[str]) -> Iterator[StreamEvent]:
        """Parse a read's chunks as one JSON array: one C call instead of one per token.

        Only when every chunk looks like one JSON object and the array has exactly as many
        items; anything else, a malformed chunk included, goes event by event, so the
        events before a bad chunk are still delivered before the error.
        """
        payloads = None
        if len(datas) > 1 and all(d[:1] == "{" and d[-1:] == "}" for d in datas):
            try:
                payloads = json.loads("[" + ",".join(datas) + "]")
            except ValueError:
                payloads = None
        if payloads is not None and len(payloads) == len(datas):
            for payload, data in zip(payloads, datas):
                yield from self._payload_events("message", payload, data)
        else:
            for data in datas:
                yield from self._decode("message", data)

    def _read(self) -> bytes:
        # Returns as soon as any bytes arrive, whatever the framing or encoding.
        try:
            self._times.before_read()
            data = self._body.read()
            self._times.last_data_at = time.monotonic()
            return data
        except Exception as exc:  # urllib3, http.client and socket errors alike
            if self.closed:
                return b""
            message = self._times.reason(exc) or (
                "The stream stalled: no data within the read timeout"
                if _is_timeout(exc) else _CLOSED_EARLY)
            raise StreamInterruptedError(message, request_id=self.request_id) from exc

    def _decode(self, event: str, data: str) -> list[StreamEvent]:
        if event not in ("message", "error"):
            return []  # named events are not completion chunks (the SDKs skip them too)
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        return self._payload_events(event, payload, data)

    def _payload_events(self, event: str, payload: Any, data: str) -> list[StreamEvent]:
        if not isinstance(payload, dict):
            raise StreamInterruptedError(
                f"The server sent a malformed chunk ({len(data.encode()):,} bytes, not the "
                "API's JSON)", request_id=self.request_id)
        if event == "error" or payload.get("error"):
            details = _redacted(_error_fields(payload), self._redact)
            raise StreamInterruptedError(
                details.get("message") or "The server reported an error",
                type=details.get("type"), code=details.get("code"),
                param=details.get("param"), request_id=self.request_id)
        events, usage = _parsed(decode_chunk, payload)
        for stream_event in events:
            if not 0 <= stream_event.index < self._n:
                raise StreamInterruptedError(
                    "The server sent a chunk for " + _beyond_n(stream_event.index, self._n),
                    request_id=self.request_id)
        if events:
            self._times.last_event_at = time.monotonic()
        if usage is not None:
            self.usage = usage
        return events


class _LimitPassed(TimeoutError):
    """A time limit ran out before a read; the message names it."""


class _TimeLimits:
    """The time limits on reading one answer: the client's deadline, counted from when
    the request that got this answer was sent, and for a stream the idle limit between
    events. Before each read the socket may wait only until the nearer one, so a silent
    server is cut off on time; ``reason()`` names the limit that ended a read."""

    def __init__(self, response: requests.Response, deadline: float | None):
        self._socket = _socket_of(response.raw)
        # urllib3 set the read timeout on the socket before reading the status line.
        self._read_timeout = None if self._socket is None else self._socket.gettimeout()
        now = time.monotonic()
        self._deadline = deadline
        self._deadline_at = (None if deadline is None
                             else now - response.elapsed.total_seconds() + deadline)
        self._idle: float | None = None
        self.last_event_at = self.last_data_at = now

    def watch_idle(self, seconds: float | None) -> None:
        """Also end the read after ``seconds`` without an event (None: the read timeout)."""
        self._idle = self._read_timeout if seconds is None else seconds

    def passed(self) -> str | None:
        now = time.monotonic()
        if self._deadline_at is not None and now >= self._deadline_at:
            return (f"The run took longer than its time limit of {self._deadline:g} s; raise "
                    f"'Time limit per run' in the sidebar or {_DEADLINE_SETTING}")
        if self._idle is not None and now - self.last_event_at >= self._idle and (
                self._idle != self._read_timeout or self.last_data_at > self.last_event_at):
            # An idle limit equal to the read timeout, with nothing at all since the last
            # event, is a plain stall: the caller's message for that fits better.
            return (f"No tokens for {self._idle:g} s, though the connection stayed open; "
                    f"raise {_TIMEOUT_SETTING} to wait longer")
        return None

    def before_read(self) -> None:
        """Raise once a limit passed; else let the next read wait only until the nearest."""
        passed = self.passed()
        if passed:
            raise _LimitPassed(passed)
        if self._socket is None:
            return
        now = time.monotonic()
        waits = [wait for wait in (
            self._read_timeout,
            None if self._deadline_at is None else self._deadline_at - now,
            None if self._idle is None else self.last_event_at + self._idle - now)
            if wait is not None]
        if waits:
            self._socket.settimeout(max(min(waits), 0.001))

    def reason(self, exc: BaseException) -> str | None:
        """The limit that ended a read which raised ``exc``; None if it was none of ours."""
        if isinstance(exc, _LimitPassed):
            return str(exc)
        return self.passed() if _is_timeout(exc) else None


# ---------------------------------------------------------------------- wire parsing

# Logprob arrays longer than a real answer holds are refused before one TokenLogprob is
# built: max_tokens goes up to 131,072 and an echoed prompt adds its own tokens; the
# catalogue asks for at most 20 alternatives, and some servers add the sampled token.
MAX_LOGPROB_TOKENS = 262_144
MAX_TOP_LOGPROBS = 32


def parse_completion(data: dict, headers: Mapping[str, str]) -> Completion:
    choices = [parse_choice(c) for c in data.get("choices") or [] if isinstance(c, dict)]
    prompt_text = prompt_tokens = None
    prompt = data.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
        echoed = prompt[0].get("text")
        prompt_text = _text(echoed) if isinstance(echoed, str) else None
        prompt_tokens = token_logprobs(prompt[0].get("logprobs"))
    return Completion(id=_text(data.get("id") or ""), model=_text(data.get("model") or ""),
                      created=_integer(data.get("created")) or 0,
                      choices=sorted(choices, key=lambda c: c.index),
                      usage=_usage(data.get("usage")), prompt_tokens=prompt_tokens,
                      prompt_text=prompt_text, rate_limits=RateLimits.from_headers(headers),
                      request_id=_request_id(headers), raw=data)


def parse_choice(data: dict) -> Choice:
    return Choice(index=_integer(data.get("index")) or 0, text=_text(data.get("text") or ""),
                  finish_reason=_word(data.get("finish_reason")),
                  seed=_integer(data.get("seed")), tokens=token_logprobs(data.get("logprobs")))


def token_logprobs(data: Any) -> list[TokenLogprob] | None:
    """Fold a ``logprobs`` object into TokenLogprobs, whatever shape ``top_logprobs`` has.

    On the wire ``top_logprobs`` is one map per position; the spec describes a single map,
    which can only be placed when there is a single token.
    """
    if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
        return None
    tokens = data["tokens"]
    if len(tokens) > MAX_LOGPROB_TOKENS:
        raise TogetherError(f"The server sent logprobs for {len(tokens):,} tokens; the "
                            f"playground reads at most {MAX_LOGPROB_TOKENS:,} in one answer.")
    logprobs, ids, top = (data.get("token_logprobs") or [], data.get("token_ids") or [],
                          data.get("top_logprobs"))
    out = []
    for i, token in enumerate(tokens):
        if isinstance(top, list):
            alternatives = _at(top, i)
        else:
            alternatives = top if len(tokens) == 1 else None
        out.append(TokenLogprob(token=_text(token or ""), logprob=_number(_at(logprobs, i)),
                                token_id=_integer(_at(ids, i)), top=_top(alternatives)))
    return out


def _top(alternatives: Any) -> dict[str, float | None] | None:
    """One position's ``top_logprobs`` map, bounded, as text keys and finite numbers."""
    if not isinstance(alternatives, dict):
        return None
    if len(alternatives) > MAX_TOP_LOGPROBS:
        raise TogetherError(f"The server sent {len(alternatives):,} alternatives for one "
                            f"token; the playground reads at most {MAX_TOP_LOGPROBS}.")
    return {_text(token): _number(logprob) for token, logprob in alternatives.items()}


def echoed_prompt_tokens(completion: Completion, prompt_length: int) -> list[TokenLogprob]:
    """The prompt's tokens on OpenAI-style servers, which echo them inside the choice.

    Those put prompt and generated tokens in one list with ``text_offset``s; the prompt's
    are the ones that start before the prompt's end.
    """
    if completion.choices and completion.choices[0].tokens is not None:
        raw = next((c for c in completion.raw.get("choices", []) if isinstance(c, dict)), {})
        offsets = (raw.get("logprobs") or {}).get("text_offset")
        if isinstance(offsets, list):
            return [token for token, offset in zip(completion.choices[0].tokens, offsets)
                    if isinstance(offset, int) and offset < prompt_length]
    raise TogetherError("The server did not return the prompt's tokens; it may not support "
                        "echo with logprobs")


def decode_chunk(payload: dict) -> tuple[list[StreamEvent], Usage | None]:
    """One stream chunk's events (one per choice it carries) and its usage, if any.

    Chunks carry the token twice (``text`` and ``delta.content``) plus ``delta.token_id``;
    older ones a top-level ``token`` and ``finish_reason``, used when only one choice came.
    This runs once per token, so it reads each field once and skips needless copies.
    """
    usage = _usage(payload.get("usage"))
    choices = payload.get("choices")
    if not isinstance(choices, list):
        choices = ()
    single = len(choices) == 1
    events = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = _NO_DELTA
        text = choice.get("text")
        if text is None:
            text = delta.get("content")
        token_id = delta.get("token_id")
        if token_id is None and single:
            token = payload.get("token")
            token_id = token.get("id") if isinstance(token, dict) else None
        finish = choice.get("finish_reason") or (payload.get("finish_reason") if single else None)
        events.append(StreamEvent(_integer(choice.get("index")) or 0, _text(text or ""),
                                  _chunk_logprob(choice.get("logprobs")), _integer(token_id),
                                  _word(finish), _integer(choice.get("seed")), None, payload))
    if usage is not None and events:
        events[-1].usage = usage
    return events, usage


_NO_DELTA: dict = {}


def parse_model(item: dict) -> ModelInfo:
    pricing = item.get("pricing") if isinstance(item.get("pricing"), dict) else {}
    return ModelInfo(id=_text(item["id"]), type=_text(item.get("type") or ""),
                     display_name=_text(item.get("display_name") or ""),
                     organization=_text(item.get("organization") or item.get("owned_by") or ""),
                     context_length=_integer(item.get("context_length")
                                             or item.get("max_model_len")),
                     input_price=_number(pricing.get("input")),
                     output_price=_number(pricing.get("output")), raw=item)


def error_details(content: bytes, content_type: str) -> dict[str, Any]:
    """message/type/code/param/id from an API error body of any common shape.

    Together and OpenAI nest them under ``error``; vLLM and others send them flat; FastAPI
    servers use ``detail``. Any other body (a proxy's HTML page, an internal service's
    answer to a Custom base URL) is not the API's: the message says so, with its content
    type and size, and never quotes it. An empty body gives no message.
    """
    if not content.strip():
        return {}
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    details = _error_fields(data) if isinstance(data, dict) else {}
    if not any(value is not None for value in details.values()):
        return {"message": _not_the_api(content, content_type)}
    if "id" in data:
        details["id"] = str(data["id"])
    return details


def _error_fields(data: dict) -> dict[str, Any]:
    error = data.get("error")
    source = error if isinstance(error, dict) else data
    message = source.get("message")
    if isinstance(error, str):
        message = error
    elif message is None and data.get("detail") is not None:
        message = data["detail"] if isinstance(data["detail"], str) else json.dumps(data["detail"])
    fields = {"message": str(message) if message is not None else None}
    for name in ("type", "code", "param"):
        value = source.get(name)
        fields[name] = str(value) if value is not None else None
    return fields


# Words in an error body's ``type`` and the status each stands for, most specific first:
# OpenAI's "invalid_request_error", vLLM's "BadRequestError", Together's "server_error".
_STATUS_BY_ERROR_TYPE = (
    ("invalid_request", 400), ("badrequest", 400), ("validation", 400),
    ("authentication", 401), ("unauthorized", 401), ("permission", 403), ("forbidden", 403),
    ("not_found", 404), ("notfound", 404), ("rate_limit", 429), ("ratelimit", 429),
    ("overloaded", 503), ("unavailable", 503), ("server", 500), ("internal", 500))


def _status_named_in(details: Mapping[str, Any]) -> int | None:
    """The HTTP status an error body stands for: its numeric code, else its type's words."""
    code = details.get("code") or ""
    if code.isdigit() and 400 <= int(code) < 600:
        return int(code)
    kind = (details.get("type") or "").lower()
    return next((status for word, status in _STATUS_BY_ERROR_TYPE if word in kind), None)


def _redacted(details: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    return {name: redact(value) if isinstance(value, str) else value
            for name, value in details.items()}


def retry_delay(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds before retry number ``attempt + 1``: the server's hint, else backoff + jitter."""
    hinted = _retry_after(headers)
    if hinted is not None:
        return hinted
    return min(0.5 * 2 ** attempt, 8.0) * random.uniform(0.75, 1.0)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value: float | None = None
    try:
        value = float(headers["retry-after-ms"]) / 1000
    except (KeyError, TypeError, ValueError):
        raw = headers.get("retry-after")
        if raw:
            try:
                value = float(raw)
            except ValueError:
                try:
                    value = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
                except (TypeError, ValueError):
                    value = None
    return value if value is not None and 0 < value <= _RETRY_AFTER_MAX else None


QUICK_FAILURE_S = 1.5
"""Seconds: a POST whose 5xx came back sooner than this is resent, a slower one is not.
A gateway or load balancer that never handed the request to a model refuses in
milliseconds; an error that follows a model run (which is billed, even when it fails)
comes after the model has loaded and generated, which takes seconds. Between the two,
1.5 s resends those refusals, and not a request a model had time to work on."""

# Methods whose repetition costs nothing: GET /models lists, it never generates.
_FREE_TO_REPEAT = frozenset({"GET", "HEAD", "OPTIONS"})


def may_resend(method: str, *, status: int | None = None, elapsed_s: float = 0.0,
               retry_after: bool = False, sent: bool = True) -> bool:
    """Whether a failed request may go out again without paying for a generation twice.

    ``status`` is None when no answer came (timeout, reset); ``sent`` is False when the
    connection failed before any byte of the request went out; ``elapsed_s`` is how long
    the error status took; ``retry_after`` says the server named a time to come back.
    A POST is resent only when the server cannot have started the work: it never got the
    request, it refused it for the rate (429) or for now (503 with Retry-After), or it
    failed faster than any generation runs. After a read timeout it may still be generating.
    """
    if not sent:
        return True
    if method.upper() in _FREE_TO_REPEAT:
        return status is None or _retryable_status(status)
    if status is None:
        return False
    if status == 429 or (status == 503 and retry_after):
        return True
    return status >= 500 and elapsed_s < QUICK_FAILURE_S


def _retryable_status(status: int) -> bool:
    """Statuses worth asking again for a request that costs nothing to repeat."""
    return status in (408, 409, 429) or status >= 500


# ---------------------------------------------------------------------- small helpers

def _parsed(parse: Callable[..., Any], *args: Any) -> Any:
    """Run a wire parser; a server whose JSON has the wrong shape gets one clear error."""
    try:
        return parse(*args)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise TogetherError(f"The server's answer has an unexpected shape "
                            f"({type(exc).__name__}: {exc})") from None


def _usage(data: Any) -> Usage | None:
    return Usage.from_json(data) if isinstance(data, dict) else None


def _chunk_logprob(value: Any) -> float | None:
    """A chunk's logprob: a number on Together, a one-token logprobs object elsewhere."""
    if isinstance(value, dict):
        logprobs = value.get("token_logprobs")
        value = logprobs[0] if isinstance(logprobs, list) and len(logprobs) == 1 else None
    return _number(value)


def _at(items: Any, i: int) -> Any:
    return items[i] if isinstance(items, list) and i < len(items) else None


def _word(value: Any) -> str | None:
    """A server's one-word field (``finish_reason``): its text, or None if absent or odd."""
    return _text(value) if isinstance(value, str) and value else None


def _request_id(headers: Mapping[str, str]) -> str | None:
    """The server's id for the request, kept with the run: briefly, and never a key."""
    value = headers.get("x-request-id") or headers.get("cf-ray")
    return _snippet(redact_text(value), 200) if value else None


def _snippet(text: str, limit: int = 120) -> str:
    """A server's short words (a reason phrase, an error's text) on one line, briefly.

    Never a body: a reply that is not the API's is described by ``_not_the_api`` instead.
    """
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _not_the_api(content: bytes, content_type: str, status: int | None = None) -> str:
    """Words for a reply that is not the API's: what it is, never what it says."""
    what = f"HTTP {status}, " if status is not None else ""
    return (f"The server's answer is not the API's ({what}{_media_type(content_type)}, "
            f"{len(content):,} bytes)")


def _media_type(content_type: str) -> str:
    """A Content-Type header's media type, briefly; its parameters are left out."""
    return clip(content_type.split(";")[0].strip(), 60) or "no content type"


def _requested_n(params: Mapping[str, Any]) -> int:
    return _integer(params.get("n")) or 1


def _beyond_n(index: int, n: int) -> str:
    return f"choice index {index}, but the request asked for n={n} (indexes 0 to {n - 1})"


def _within_n(completion: Completion, params: Mapping[str, Any]) -> Completion:
    """``completion``, once each choice's index is one the request asked for."""
    n = _requested_n(params)
    for choice in completion.choices:
        if not 0 <= choice.index < n:
            raise TogetherError("The server sent " + _beyond_n(choice.index, n),
                                request_id=completion.request_id)
    return completion


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: requests and urllib3 nest the socket error deep inside."""
    seen: set[int] = set()
    current: Any = exc
    while isinstance(current, BaseException) and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = current.args[0] if current.args else None
        reason = getattr(current, "reason", None)
        current = next((e for e in (reason, inner, current.__cause__, current.__context__)
                        if isinstance(e, BaseException)), None)


def _never_sent(exc: BaseException) -> bool:
    """True when the connection failed before any byte of the request went out: refused,
    unresolvable or a connect timeout. urllib3 makes each of these a ConnectTimeoutError
    (NewConnectionError subclasses it). A reset after connecting is not one of them: the
    server may have read the request by then."""
    return any(isinstance(e, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
               for e in _chain(exc))


def _is_timeout(exc: BaseException) -> bool:
    # urllib3 makes a refused connection a subclass of ConnectTimeoutError; it is not one.
    return any(isinstance(e, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
               and not isinstance(e, urllib3.exceptions.NewConnectionError)
               for e in _chain(exc))


def _reason(exc: BaseException) -> str:
    """The innermost cause in plain words, without urllib3's ``Pool(host=...)`` prefixes."""
    innermost = list(_chain(exc))[-1]
    text = re.sub(r"^[\w.]+\(host=[^)]*\):\s*", "", str(innermost))
    return _snippet(text, 200) or type(innermost).__name__


def _socket_of(raw: Any) -> socket.socket | None:
    """The socket under a urllib3 response, so close() can unblock a read in another thread.

    http.client drops ``connection.sock`` for close-delimited bodies (the response owns
    the socket then), so the reader's own socket is the reliable handle.
    """
    reader = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
    sock = getattr(reader, "_sock", None)
    if sock is None:
        sock = getattr(getattr(raw, "connection", None), "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _check_image_url(url: str, label: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and _is_loopback(parsed.hostname or ""):
        return
    raise TogetherError(f"{label}: only https URLs (or http to this machine) are fetched")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_image_body(response: requests.Response, label: str) -> bytes:
    if not response.ok:
        raise error_class_for(response.status_code)(
            f"{label}: HTTP {response.status_code} {response.reason or ''}".strip(),
            status=response.status_code, request_id=_request_id(response.headers))
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise TogetherError(f"{label}: the URL returned {content_type or 'no content type'}, "
                            "not an image")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > IMAGE_MAX_BYTES:
        raise TogetherError(f"{label}: {int(declared):,} bytes is over the "
                            f"{IMAGE_MAX_BYTES:,}-byte limit")
    parts, size = [], 0
    for part in response.iter_content(_READ_SIZE):
        size += len(part)
        if size > IMAGE_MAX_BYTES:
            raise TogetherError(f"{label}: more than the {IMAGE_MAX_BYTES:,}-byte limit")
        parts.append(part)
    return b"".join(parts)


def _short_url(url: str) -> str:
    parsed = urlparse(url)
    text = f"{parsed.netloc}{parsed.path}"
    return text if len(text) <= 60 else text[:59] + "…"
