"""Writing a response body the way the settings say: chunked or close-delimited, maybe gzip.

Streams hand over events in batches; each event becomes its own HTTP chunk (unless gzip
merges a batch into one compressed piece), and a batch goes out in one socket write, which
is what lets the as-fast-as-possible mode reach tens of thousands of events per second.
"""
from __future__ import annotations

import socket
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Mapping


class BodyWriter:
    def __init__(self, handler: BaseHTTPRequestHandler, framing: str, use_gzip: bool):
        self.handler = handler
        self.chunked = framing == "chunked"
        self.compressor = (zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                           if use_gzip else None)

    def start(self, status: int, headers: Mapping[str, str]) -> None:
        handler = self.handler
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if self.compressor:
            handler.send_header("Content-Encoding", "gzip")
        if self.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()

    def write_events(self, events: list[bytes]) -> None:
        if not events:
            return
        if self.compressor:
            data = (self.compressor.compress(b"".join(events))
                    + self.compressor.flush(zlib.Z_SYNC_FLUSH))
            self._send([data])
        else:
            self._send(events)

    def _send(self, pieces: list[bytes]) -> None:
        if self.chunked:
            pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p]
        self.handler.wfile.write(b"".join(pieces))

    def finish(self) -> None:
        """End the body properly (last gzip block, zero-length chunk)."""
        tail = self.compressor.flush() if self.compressor else b""
        out = b"%x\r\n%s\r\n" % (len(tail), tail) if self.chunked and tail else tail
        if self.chunked:
            out += b"0\r\n\r\n"
        if out:
            self.handler.wfile.write(out)

    def abort(self) -> None:
        """Cut the connection mid-body: no terminator, so the client sees a broken stream."""
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def send_whole(handler: BaseHTTPRequestHandler, status: int, body: bytes,
               headers: Mapping[str, str], framing: str, use_gzip: bool) -> None:
    """A complete (non-streamed) body: Content-Length, or close-delimited in "close" framing."""
    if use_gzip:
        body = zlib.compress(body, 6, wbits=16 + zlib.MAX_WBITS)
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    if use_gzip:
        handler.send_header("Content-Encoding", "gzip")
    if framing == "close":
        handler.send_header("Connection", "close")
        handler.close_connection = True
    else:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
