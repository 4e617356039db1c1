"""The completion stream reader: SSE events read with ``raw.read1`` and parsed into
StreamEvents as they come, stoppable from another thread (see ``CompletionStream``).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable, Iterator

import requests

from lib.api.errors import StreamInterruptedError
from lib.api.http_body import BodyReader
from lib.api.reading import READ_SIZE, Limits, is_timeout, socket_of, TimeLimits
from lib.api.results import RateLimits, StreamEvent, Usage, one_by_one_note
from lib.api.sse import EventTooLarge, SSEEvent, SSEParser
from lib.api.wire import beyond_n, error_fields, parse_or_explain, redacted_fields, request_id_of, decode_chunk

_CLOSED_EARLY = "The connection closed before the stream finished"



class CompletionStream:
    """An open completion stream: iterate for StreamEvents, close() to stop it at once.

    ``close()`` may be called from another thread while this one is blocked in a read: it
    shuts the socket down, the read returns, and iteration ends quietly.

    Every limit (``limits``, the deadline and idle limit in ``times``, a choice index beyond
    the ``n`` requested) ends iteration with a StreamInterruptedError naming it, after the
    events that came before it.
    """

    def __init__(self, response: requests.Response, redact: Callable[[str], str], *,
                 n: int, limits: Limits, times: "TimeLimits"):
        self._response = response
        self._socket = socket_of(response.raw)
        self._body = BodyReader(response.raw, response.headers, READ_SIZE)
        self._redact = redact
        self._n = n
        self._max_event_bytes = limits.event_bytes
        self._times = times
        times.watch_idle(limits.idle_s)
        self._lock = threading.Lock()
        self.rate_limits = RateLimits.from_headers(response.headers)
        self.request_id = request_id_of(response.headers)
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
                if is_timeout(exc) else _CLOSED_EARLY)
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
            details = redacted_fields(error_fields(payload), self._redact)
            raise StreamInterruptedError(
                details.get("message") or "The server reported an error",
                type=details.get("type"), code=details.get("code"),
                param=details.get("param"), request_id=self.request_id)
        events, usage = parse_or_explain(decode_chunk, payload)
        for stream_event in events:
            if not 0 <= stream_event.index < self._n:
                raise StreamInterruptedError(
                    "The server sent a chunk for " + beyond_n(stream_event.index, self._n),
                    request_id=self.request_id)
        if events:
            self._times.last_event_at = time.monotonic()
        if usage is not None:
            self.usage = usage
        return events


class OneByOneStream:
    """All n choices as one stream from a server that answers one choice per request
    (llama.cpp and Ollama drop ``n``); iterate and close it as a CompletionStream.

    ``first`` is the stream of the request as sent, passed through as it comes. When it
    ends with a single choice, ``on_short()`` is told and only the missing
    choices are requested, one request each (``open_choice(index)``), one after another:
    llama-cpp-python's server serves one request at a time and by default ends the stream
    it is sending, without a finish reason, as soon as another request waits, so choices
    requested at once cut each other short. Their events come in this stream under their
    own indexes. ``first=None``: the server is
    known to drop ``n``, so every choice is requested on its own from the start.
    A choice's seed, when the server names none, is the one its request asked for.
    A failed choice ends the stream with its error once the others have finished.
    """

    def __init__(self, first: CompletionStream | None, open_choice: Callable[[int], Any], *,
                 n: int, seed: int | None, on_short: Callable[[], None] = lambda: None):
        self._first = first
        self._open_choice = open_choice
        self._n = n
        self._seed = seed
        self._on_short = on_short
        self._lock = threading.Lock()
        self._streams: list[Any] = [first] if first is not None else []
        self.closed = False
        self.note: str | None = None
        self.request_id = first.request_id if first is not None else None
        self.rate_limits = first.rate_limits if first is not None else RateLimits()
        self.usage: Usage | None = None
        self._events = self._iterate()

    def __iter__(self) -> Iterator[StreamEvent]:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def __enter__(self) -> "OneByOneStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    def _iterate(self) -> Iterator[StreamEvent]:
        missing = list(range(self._n))
        if self._first is not None:
            seen, seeded = set(), set()
            for event in self._first:
                seen.add(event.index)
                if event.seed is not None:
                    seeded.add(event.index)
                yield event
            self.usage = self._first.usage
            if self.closed or len(seen) != 1:  # one choice for n > 1: the server dropped n
                return
            self._on_short()
            missing = [i for i in missing if i not in seen]
            if 0 in seen - seeded and self._seed is not None:
                yield StreamEvent(0, "", seed=self._seed)  # the request's seed made choice 0
        self.note = one_by_one_note(self._n)
        yield from self._merged(missing)

    def _merged(self, indexes: list[int]) -> Iterator[StreamEvent]:
        """The events of one request per index, one request after another; a failed
        choice does not stop the others, and its error is raised once they have ended."""
        error = None
        for index in indexes:
            if self.closed:
                return
            try:
                yield from self._choice(index)
            except Exception as exc:  # raised after the others, which keep their text
                error = error or exc
        if error is not None and not self.closed:
            raise error
        if self.usage is not None:
            yield StreamEvent(0, "", usage=self.usage)  # the whole run's, every request's sum

    def _choice(self, index: int) -> Iterator[StreamEvent]:
        """Request choice ``index`` and pass its events on under that index."""
        stream = self._open_choice(index)
        with self._lock:
            self._streams.append(stream)
            closed = self.closed
            if self.request_id is None:
                self.request_id, self.rate_limits = stream.request_id, stream.rate_limits
        if closed:
            stream.close()
            return
        for event in stream:
            event.index = index
            if event.finish_reason is not None and event.seed is None and \
                    self._seed is not None:
                event.seed = self._seed + index
            yield event
        if stream.usage is not None:
            self.usage = stream.usage if self.usage is None else self.usage + stream.usage
