"""An incremental Server-Sent Events parser: bytes in, events out, no I/O.

It follows the WHATWG "event stream interpretation" rules so that a stream parses the
same whatever the network did to it: chunks may split a line, a ``\\r\\n`` pair or a
multi-byte character anywhere. Lines are split on bytes and decoded one by one, so a
``\\u2028`` inside JSON stays data (``str.splitlines`` would break the line there).
"""
from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"
# One line, or one event's data lines together, may hold this many bytes. Real chunks (a
# token with its logprobs and top alternatives) are a few kilobytes; a server that never
# ends a line would otherwise make the parser keep everything it sends.
EVENT_MAX_BYTES = 1024 * 1024


@dataclass(slots=True)
class SSEEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class EventTooLarge(ValueError):
    """A line or an event passed the size limit; ``events`` completed before it still count."""

    def __init__(self, limit: int, events: list[SSEEvent] | None = None):
        super().__init__(f"The server sent more than the {limit:,}-byte limit on one stream "
                         "line or event")
        self.events = events or []


class SSEParser:
    """Feed it byte chunks as they arrive; it returns each event as soon as it is complete.

    A line or an event growing past ``max_event_bytes`` raises EventTooLarge, so a hostile
    stream costs at most that much memory here.
    """

    def __init__(self, max_event_bytes: int = EVENT_MAX_BYTES) -> None:
        self._max = max_event_bytes
        self._pending: list[bytes] = []  # the unterminated last line, in pieces
        self._pending_size = 0
        self._data_size = 0         # bytes of the current event's data lines
        self._at_start = True       # a BOM is only stripped before the first line
        self._skip_lf = False       # the last chunk ended in \r: a leading \n belongs to it
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None   # id and retry persist across events, as in the spec
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events completed by ``chunk`` (often none, sometimes several)."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if self._at_start:
            chunk = b"".join(self._pending) + chunk
            self._pending, self._pending_size = [], 0
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._pending.append(chunk)  # could still become a BOM: wait for more
                return []
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM):]
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)  # no line ends yet; joined once one does
            self._pending_size += len(chunk)
            if self._pending_size > self._max:
                raise EventTooLarge(self._max)
            return []
        events: list[SSEEvent] = []
        try:
            self._feed_lines(self._complete_lines(chunk), events)
        except EventTooLarge as exc:
            exc.events = events
            raise
        if self._pending_size > self._max:
            raise EventTooLarge(self._max, events)
        return events

    def _feed_lines(self, lines: list[bytes], events: list[SSEEvent]) -> None:
        """Process complete lines, appending the events they finish to ``events``."""
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":  # the common line, without the general machinery
                self._count_data(len(line))
                data.append(line[6:].decode("utf-8", errors="replace"))
                continue
            event = self._process_line(line)
            data = self._data  # a blank line starts a new list, event or not
            if event is not None:
                events.append(event)

    def _count_data(self, size: int) -> None:
        self._data_size += size
        if self._data_size > self._max:
            raise EventTooLarge(self._max)

    def flush(self) -> list[SSEEvent]:
        """The stream ended: finish the last line and dispatch a pending event.

        The spec discards an event that lacks its closing blank line. We deliver it,
        because a server that closes right after ``data: [DONE]`` meant it; a truncated
        JSON payload still fails to parse downstream, so nothing broken slips through.
        """
        events: list[SSEEvent] = []
        if self._pending:
            line = b"".join(self._pending)
            self._pending, self._pending_size = [], 0
            event = self._process_line(line)
            if event is not None:
                events.append(event)
        event = self._process_line(b"")
        if event is not None:
            events.append(event)
        return events

    def _complete_lines(self, chunk: bytes) -> list[bytes]:
        """Split off every terminated line; keep the unterminated rest pending."""
        buf = b"".join(self._pending) + chunk if self._pending else chunk
        if b"\r" not in buf:  # the usual case: one C-level split
            lines = buf.split(b"\n")
            rest = lines.pop()
            self._pending = [rest] if rest else []
            self._pending_size = len(rest)
            return lines
        lines: list[bytes] = []
        start = 0
        cr, lf = buf.find(b"\r"), buf.find(b"\n")
        while cr != -1 or lf != -1:
            if lf != -1 and (cr == -1 or lf < cr):
                lines.append(buf[start:lf])
                start = lf + 1
            else:
                lines.append(buf[start:cr])
                if cr + 1 == len(buf):
                    self._skip_lf = True  # the \n of a \r\n pair may come in the next chunk
                start = cr + 2 if buf[cr + 1:cr + 2] == b"\n" else cr + 1
            # Search on only from where the next line starts: one pass over the buffer.
            if cr != -1 and cr < start:
                cr = buf.find(b"\r", start)
            if lf != -1 and lf < start:
                lf = buf.find(b"\n", start)
        self._pending = [buf[start:]] if start < len(buf) else []
        self._pending_size = len(buf) - start
        return lines

    def _process_line(self, raw: bytes) -> SSEEvent | None:
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            return None  # a comment, e.g. a keep-alive
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._count_data(len(raw))
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event = self._data, self._event
        self._data, self._event, self._data_size = [], "", 0
        if not data:
            return None
        return SSEEvent(event=event or "message", data="\n".join(data), id=self._last_id,
                        retry=self._retry)
