"""What reading one answer needs, below both the client and the stream reader: the bounds
on its size (``Limits``) and time (``TimeLimits``), the socket under a response, and how
to tell a timeout from another failure in requests' nested exceptions.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any, Iterator

import requests
import urllib3.exceptions

from lib.api.http_body import BODY_MAX_BYTES, BODY_MAX_WIRE_BYTES
from lib.api.sse import EVENT_MAX_BYTES

READ_SIZE = 65536
# The settings that raise the read timeout and the deadline (Client(deadline=...), also
# the sidebar's field). Named here, where the messages quote them; lib.connection reads
# them from the environment.
TIMEOUT_ENV = "PLAYGROUND_TIMEOUT"
DEADLINE_ENV = "PLAYGROUND_DEADLINE"


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


class _LimitPassed(TimeoutError):
    """A time limit ran out before a read; the message names it."""


class TimeLimits:
    """The time limits on reading one answer: the client's deadline, counted from when
    the request that got this answer was sent, and for a stream the idle limit between
    events. Before each read the socket may wait only until the nearer one, so a silent
    server is cut off on time; ``reason()`` names the limit that ended a read."""

    def __init__(self, response: requests.Response, deadline: float | None):
        self._socket = socket_of(response.raw)
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
                    f"'Time limit per run' in the sidebar or {DEADLINE_ENV}")
        if self._idle is not None and now - self.last_event_at >= self._idle and (
                self._idle != self._read_timeout or self.last_data_at > self.last_event_at):
            # An idle limit equal to the read timeout, with nothing at all since the last
            # event, is a plain stall: the caller's message for that fits better.
            return (f"No tokens for {self._idle:g} s, though the connection stayed open; "
                    f"raise {TIMEOUT_ENV} to wait longer")
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
        return self.passed() if is_timeout(exc) else None


def causes(exc: BaseException) -> Iterator[BaseException]:
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


def is_timeout(exc: BaseException) -> bool:
    # urllib3 makes a refused connection a subclass of ConnectTimeoutError; it is not one.
    return any(isinstance(e, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
               and not isinstance(e, urllib3.exceptions.NewConnectionError)
               for e in causes(exc))


def socket_of(raw: Any) -> socket.socket | None:
    """The socket under a urllib3 response, so close() can unblock a read in another thread.

    http.client drops ``connection.sock`` for close-delimited bodies (the response owns
    the socket then), so the reader's own socket is the reliable handle.
    """
    reader = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
    sock = getattr(reader, "_sock", None)
    if sock is None:
        sock = getattr(getattr(raw, "connection", None), "sock", None)
    return sock if isinstance(sock, socket.socket) else None
