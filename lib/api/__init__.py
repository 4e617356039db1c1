"""Talking to Together's /v1 API or any OpenAI-compatible server.

``client`` is the transport (session, retries, error mapping); ``stream`` reads a
completion stream; ``wire`` parses answers into the types in ``results``; ``image_fetch``
and ``image_decode`` turn image items into checked images. Everything a server sends is
bounded and checked with ``untrusted`` and ``quoting``, and ``redact`` keeps keys out of
whatever is shown or written.

    from lib.api import Client
    with Client(api_key="", base_url="http://127.0.0.1:8765/v1") as client:
        completion = client.complete({"model": "local/...", "prompt": "Hi"})

The names below are imported on first use (PEP 562), not with the package: a module that
needs only ``untrusted`` or ``redact`` (saved history, shown text) does not bring in the
client, requests and Pillow with it (issue 14).
"""
from __future__ import annotations

from lib.api.lazy import lazy_names

_HOMES = {"Client": "lib.api.client", "Limits": "lib.api.client",
          "APIConnectionError": "lib.api.errors", "APIStatusError": "lib.api.errors",
          "APITimeoutError": "lib.api.errors", "TogetherError": "lib.api.errors",
          "Completion": "lib.api.results", "ImageResult": "lib.api.results",
          "ModelInfo": "lib.api.results", "StreamEvent": "lib.api.results",
          "CompletionStream": "lib.api.stream"}

__all__ = sorted(_HOMES)

__getattr__ = lazy_names(__name__, _HOMES)
