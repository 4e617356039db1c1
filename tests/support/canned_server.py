"""Loopback servers for tests: one that answers each path with whatever a test's function
returns, and one that sends raw bytes, as a broken server would.

For shapes the local backend never produces on purpose: other vendors' JSON (vLLM,
OpenAI), a proxy's HTML error page, a server that echoes the key back. Still real HTTP.
"""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# A route gets the request (method, path, headers, body) and returns status, headers, body;
# the status may be a (code, reason phrase) pair, for servers that put words there.
Route = Callable[["Request"], "tuple[int | tuple[int, str], dict[str, str], bytes]"]


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body


class CannedServer:
    def __init__(self, routes: dict[str, Route]):
        self.routes = routes
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(method, self.path, dict(self.headers.items()),
                                  self.rfile.read(length))
                server.requests.append(request)
                route = server.routes.get(self.path.split("?")[0])
                status, headers, body = (route(request) if route
                                         else (404, {}, b'{"error": {"message": "no route"}}'))
                code, reason = status if isinstance(status, tuple) else (status, None)
                self.send_response(code, reason)
                if headers.get("Connection") == "close":
                    self.close_connection = True  # a close-delimited body: no length
                else:
                    headers = {"Content-Length": str(len(body)), **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def json_route(status: int, body: bytes, content_type: str = "application/json") -> Route:
    return lambda request: (status, {"Content-Type": content_type}, body)


class ByteServer:
    """A loopback server that answers every request with an event-stream header and then
    whatever bytes the test gives it, then closes: the wire as a broken server makes it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.body = b""
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Connection: close\r\n\r\n" + self.body)

    def close(self):
        self.sock.close()
