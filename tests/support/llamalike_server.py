"""A loopback server that answers /v1/completions the way llama-cpp-python's server does.

Imitated from llama_cpp/server/app.py and ``Llama._create_completion`` (abetlen/
llama-cpp-python): ``n`` is dropped from the request, so every answer holds one choice,
index 0, and no seed; a stream sends one chunk per token whose ``logprobs`` is a
one-token object (``tokens``, ``text_offset``, ``token_logprobs``, ``top_logprobs`` with
the sampled token added to the alternatives), then a chunk with empty text and the finish
reason, then ``[DONE]``, and never a ``usage``. A whole answer has ``usage`` whose
``prompt_tokens`` counts the BOS token. With echo, the prompt's tokens open the choice's
logprobs and their ``text_offset``s count the SentencePiece leading space, which the
tokenizer here makes a token of its own (a tiny vocabulary has no ``▁H``-style merges).

Real HTTP (chunked event streams, as uvicorn sends them); every request body is kept in
``requests`` and the most streams open at once in ``most_at_once``.
"""
from __future__ import annotations

import json
import math
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "tiny-llama.gguf"
WORDS = (" the", " cat", " sat", " on", " a", " mat", " and", " dog", " ran", " far")
# Each word's weight; the distribution is fixed, so logprobs are too.
WEIGHTS = (8, 5, 4, 4, 6, 3, 5, 4, 3, 2)
_LOGPROBS = {w: math.log(x / sum(WEIGHTS)) for w, x in zip(WORDS, WEIGHTS)}


def prompt_tokens(prompt: str) -> list[str]:
    """The prompt as the tokenizer splits it: the leading space, then one token a character."""
    return [" "] + list(prompt)


def generate(prompt: str, max_tokens: int, seed: int | None) -> list[str]:
    """``max_tokens`` words, the same for the same prompt and seed."""
    rng = random.Random(f"{prompt}|{seed if seed is not None else random.random()}")
    return rng.choices(WORDS, WEIGHTS, k=max_tokens)


def top(token: str, k: int) -> dict[str, float]:
    """The k most likely words, plus the sampled token (as llama.cpp adds it)."""
    ranked = sorted(_LOGPROBS.items(), key=lambda item: item[1], reverse=True)[:k]
    return {**dict(ranked), token: _LOGPROBS.get(token, -9.0)}


class LlamaLikeServer:
    def __init__(self, token_delay_s: float = 0.0):
        self.token_delay_s = token_delay_s
        self.requests: list[dict] = []
        self.most_at_once = 0
        self._open = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json({"object": "list", "data": [
                        {"id": MODEL, "object": "model", "owned_by": "me", "permissions": []}]})
                else:
                    self._json({"detail": "Not Found"}, 404)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with server._lock:
                    server.requests.append(body)
                if self.path.rstrip("/") != "/v1/completions":
                    self._json({"detail": "Not Found"}, 404)
                elif body.get("stream"):
                    server._stream(self, body)
                else:
                    self._json(server._whole(body))

            def _json(self, data: dict, status: int = 200) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.base_url = self.url + "/v1"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # ------------------------------------------------------------------ answers

    def _whole(self, body: dict) -> dict:
        prompt, k = body.get("prompt", ""), body.get("logprobs")
        words = generate(prompt, body.get("max_tokens") or 16, body.get("seed"))
        echo = bool(body.get("echo"))
        logprobs = None
        if k is not None:
            tokens = (prompt_tokens(prompt) if echo else []) + words
            offsets, at = [], 0 if echo else len(prompt)
            for token in tokens:  # offsets count every token before, the leading space too
                offsets.append(at)
                at += len(token)
            logprobs = {"tokens": tokens, "text_offset": offsets,
                        "token_logprobs": [_LOGPROBS.get(t, -3.0) for t in tokens],
                        "top_logprobs": [top(t, k) for t in tokens]}
            if echo:
                logprobs["token_logprobs"][0] = logprobs["top_logprobs"][0] = None
        n_prompt = 1 + len(prompt_tokens(prompt))  # BOS counts here
        return {"id": "cmpl-llamalike", "object": "text_completion", "created": 1,
                "model": body.get("model"),
                "choices": [{"text": (prompt if echo else "") + "".join(words), "index": 0,
                             "logprobs": logprobs, "finish_reason": "length"}],
                "usage": {"prompt_tokens": n_prompt, "completion_tokens": len(words),
                          "total_tokens": n_prompt + len(words)}}

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        with self._lock:
            self._open += 1
            self.most_at_once = max(self.most_at_once, self._open)
        open_here = True
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            chunks = list(self._chunks(body))
            for number, data in enumerate(chunks, 1):
                time.sleep(self.token_delay_s)
                if number == len(chunks):
                    # Closed as its last event goes out: a client that starts the next
                    # stream on reading it has waited, though this thread has not yet
                    # counted the stream closed (a full run once saw "2 at once").
                    self._close()
                    open_here = False
                raw = f"data: {data}\n\n".encode()
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
                handler.wfile.flush()
            handler.wfile.write(b"0\r\n\r\n")
        finally:
            if open_here:
                self._close()

    def _close(self) -> None:
        with self._lock:
            self._open -= 1

    def _chunks(self, body: dict):
        prompt, k = body.get("prompt", ""), body.get("logprobs")
        head = {"id": "cmpl-llamalike", "object": "text_completion", "created": 1,
                "model": body.get("model")}
        at = len(prompt)
        for word in generate(prompt, body.get("max_tokens") or 16, body.get("seed")):
            logprobs = None if k is None else {
                "tokens": [word], "text_offset": [at],
                "token_logprobs": [_LOGPROBS[word]], "top_logprobs": [top(word, k)]}
            at += len(word)
            yield json.dumps({**head, "choices": [{"text": word, "index": 0,
                                                   "logprobs": logprobs,
                                                   "finish_reason": None}]})
        yield json.dumps({**head, "choices": [{"text": "", "index": 0, "logprobs": None,
                                               "finish_reason": "length"}]})
        yield "[DONE]"
