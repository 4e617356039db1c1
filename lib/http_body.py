"""Read a streamed HTTP body in big pieces: everything that has arrived, in one call.

``urllib3``'s ``read1`` hands a chunked body over one HTTP chunk at a time, and servers
send one chunk per SSE event, so a fast stream costs a trip through urllib3 and
http.client for every token (measured: a third of the client's time per event). Here the
socket's buffered reader is read directly and the chunk framing and gzip are undone in
place, so one call returns every event that has arrived.

Only the framings and encodings handled below are taken over; anything else (brotli,
zstd, a body with a Content-Length) is read through urllib3 as before.
"""
from __future__ import annotations

import zlib
from typing import Any, Callable

_DECODERS: dict[str, Callable[[], Any] | None] = {
    "": None, "identity": None,
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "deflate": lambda: zlib.decompressobj(),
}


class ChunkedDecoder:
    """Undo ``Transfer-Encoding: chunked`` incrementally; framing may split anywhere."""

    def __init__(self) -> None:
        self._buf = b""
        self._left = 0          # data bytes still due in the current chunk
        self._crlf_due = False  # a chunk's data ended; its CRLF has not been skipped yet
        self.done = False       # the zero-size last chunk arrived

    def feed(self, data: bytes) -> bytes:
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos, end = 0, len(buf)
        while pos < end and not self.done:
            if self._left:
                piece = buf[pos:pos + self._left]
                out.append(piece)
                self._left -= len(piece)
                pos += len(piece)
                self._crlf_due = not self._left
            elif self._crlf_due:
                if end - pos < 2:
                    break
                pos += 2
                self._crlf_due = False
            else:
                line_end = buf.find(b"\r\n", pos)
                if line_end == -1:
                    break
                size_text = buf[pos:line_end].split(b";", 1)[0].strip()
                try:
                    self._left = int(size_text, 16)
                except ValueError:
                    raise ValueError(f"bad chunk size {size_text[:20]!r}") from None
                pos = line_end + 2
                self.done = self._left == 0  # trailers after the last chunk are ignored
        self._buf = buf[pos:] if not self.done else b""
        return b"".join(out)


class BodyReader:
    """``read()`` returns the body bytes that have arrived (waiting for at least one).

    Returns ``b""`` at the end of the body. Falls back to urllib3's ``read1`` when the
    response is not one this reader understands.
    """

    def __init__(self, raw: Any, headers: Any, size: int = 65536):
        self._raw = raw
        self._size = size
        fp = getattr(raw, "_fp", None)  # the http.client response under urllib3's
        self._source = getattr(fp, "fp", None)
        encoding = (headers.get("content-encoding") or "").strip().lower()
        usable = (self._source is not None and hasattr(self._source, "read1")
                  and getattr(fp, "length", None) is None
                  and getattr(fp, "chunk_left", None) is None
                  and encoding in _DECODERS)
        self._direct = usable
        self._chunks = ChunkedDecoder() if usable and getattr(fp, "chunked", False) else None
        factory = _DECODERS.get(encoding) if usable else None
        self._inflate = factory() if factory else None

    def read(self) -> bytes:
        if not self._direct:
            return self._raw.read1(self._size, decode_content=True)
        while True:
            if self._chunks is not None and self._chunks.done:
                return self._finish()
            data = self._source.read1(self._size)
            if not data:
                return self._finish()
            if self._chunks is not None:
                data = self._chunks.feed(data)
            if self._inflate is not None:
                data = self._inflate.decompress(data)
            if data:
                return data

    def _finish(self) -> bytes:
        if self._inflate is None:
            return b""
        tail, self._inflate = self._inflate.flush(), None
        return tail
