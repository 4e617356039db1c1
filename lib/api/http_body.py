"""Read a streamed HTTP body in big pieces: everything that has arrived, in one call.

``urllib3``'s ``read1`` hands a chunked body over one HTTP chunk at a time, and servers
send one chunk per SSE event, so a fast stream costs a trip through urllib3 and
http.client for every token (measured: a third of the client's time per event). Here the
socket's buffered reader is read directly and the chunk framing and gzip are undone in
place, so one call returns every event that has arrived.

A body with a Content-Length is read through http.client's ``read1``, which keeps its
length. Either way gzip and deflate are undone here, a bounded amount per read, so a small
compressed body cannot inflate to gigabytes in one call; other encodings (not asked for)
are passed through as they came.

Whole bodies are read with ``read_all``, which stops at a size limit, counted both as
sent and as inflated.
"""
from __future__ import annotations

import zlib
from typing import Any, Callable

# A JSON answer may be this large, inflated and as sent. The largest real ones (a model
# list, an echoed prompt with logprobs) are a few megabytes.
BODY_MAX_BYTES = 64 * 1024 * 1024
BODY_MAX_WIRE_BYTES = 64 * 1024 * 1024
_INFLATE_MAX = 1024 * 1024  # inflated bytes one read may return

_DECODERS: dict[str, Callable[[], Any] | None] = {
    "": None, "identity": None,
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "deflate": lambda: zlib.decompressobj(),
}
# What the client asks servers for: exactly what ``BodyReader`` can undo. requests would
# also offer br and zstd whenever their packages happen to be installed.
ACCEPT_ENCODING = "gzip, deflate"


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


class BodyLimitError(ValueError):
    """A body passed a size limit; the message names it."""


class BodyReader:
    """``read()`` returns the body bytes that have arrived (waiting for at least one).

    Returns ``b""`` at the end of the body. ``wire_bytes`` counts the bytes as sent.
    """

    def __init__(self, raw: Any, headers: Any, size: int = 65536):
        self._size = size
        fp = raw._fp  # the http.client response under urllib3's
        source = getattr(fp, "fp", None)
        direct = (source is not None and hasattr(source, "read1") and fp.length is None
                  and fp.chunk_left is None)
        self._source = source if direct else fp
        self._chunks = ChunkedDecoder() if direct and fp.chunked else None
        factory = _DECODERS.get((headers.get("content-encoding") or "").strip().lower())
        self._inflate = factory() if factory else None
        self.wire_bytes = 0

    def read(self) -> bytes:
        while True:
            if self._inflate is not None and self._inflate.unconsumed_tail:
                data = self._inflate.decompress(self._inflate.unconsumed_tail, _INFLATE_MAX)
            elif self._chunks is not None and self._chunks.done:
                return self._finish()
            else:
                data = self._source.read1(self._size)
                if not data:
                    return self._finish()
                self.wire_bytes += len(data)
                if self._chunks is not None:
                    data = self._chunks.feed(data)
                if self._inflate is not None:
                    data = self._inflate.decompress(data, _INFLATE_MAX)
            if data:
                return data

    def _finish(self) -> bytes:
        """The end of the body: what the decompressor still holds (the tail was drained)."""
        if self._inflate is None:
            return b""
        tail, self._inflate = self._inflate.flush(), None
        return tail


def read_all(reader: BodyReader, before_read: Callable[[], None],
             max_bytes: int = BODY_MAX_BYTES, max_wire_bytes: int = BODY_MAX_WIRE_BYTES) -> bytes:
    """The whole body, raising BodyLimitError once it passes either limit.

    ``before_read`` runs before every read, so the caller can bound the time too.
    """
    parts, size = [], 0
    while True:
        before_read()
        part = reader.read()
        if not part:
            return b"".join(parts)
        size += len(part)
        if reader.wire_bytes > max_wire_bytes:
            raise BodyLimitError(f"The answer is larger than the {max_wire_bytes:,}-byte limit "
                                 "on the answer as sent")
        if size > max_bytes:
            raise BodyLimitError(f"The answer is larger than the {max_bytes:,}-byte limit on "
                                 "the answer as read (inflated)")
        parts.append(part)
