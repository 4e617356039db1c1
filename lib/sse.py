"""An incremental Server-Sent Events parser: bytes in, events out, no I/O.

It follows the WHATWG "event stream interpretation" rules so that a stream parses the
same whatever the network did to it: chunks may split a line, a ``\\r\\n`` pair or a
multi-byte character anywhere. Lines are split on bytes and decoded one by one, so a
``\\u2028`` inside JSON stays data (``str.splitlines`` would break the line there).
"""
from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class SSEEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Feed it byte chunks as they arrive; it returns each event as soon as it is complete."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # the unterminated last line, in pieces
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
            self._pending = []
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._pending.append(chunk)  # could still become a BOM: wait for more
                return []
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM):]
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)  # no line ends yet; joined once one does
            return []
        events: list[SSEEvent] = []
        data = self._data
        for line in self._complete_lines(chunk):
            if line[:6] == b"data: ":  # the common line, without the general machinery
                data.append(line[6:].decode("utf-8", errors="replace"))
                continue
            event = self._process_line(line)
            data = self._data  # a blank line starts a new list, event or not
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """The stream ended: finish the last line and dispatch a pending event.

        The spec discards an event that lacks its closing blank line. We deliver it,
        because a server that closes right after ``data: [DONE]`` meant it; a truncated
        JSON payload still fails to parse downstream, so nothing broken slips through.
        """
        events: list[SSEEvent] = []
        if self._pending:
            line = b"".join(self._pending)
            self._pending = []
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
        self._data, self._event = [], ""
        if not data:
            return None
        return SSEEvent(event=event or "message", data="\n".join(data), id=self._last_id,
                        retry=self._retry)
