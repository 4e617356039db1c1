"""Talking to Together's /v1 API or any OpenAI-compatible server.

``client`` is the transport (session, retries, error mapping); ``stream`` reads a
completion stream; ``wire`` parses answers into the types in ``results``; ``image_fetch``
and ``image_decode`` turn image items into checked images. Everything a server sends is
bounded and checked with ``untrusted`` and ``quoting``, and ``redact`` keeps keys out of
whatever is shown or written.

    from lib.api import Client
    with Client(api_key="", base_url="http://127.0.0.1:8765/v1") as client:
        completion = client.complete({"model": "local/...", "prompt": "Hi"})
"""
from lib.api.client import Client, Limits
from lib.api.errors import APIConnectionError, APIStatusError, APITimeoutError, TogetherError
from lib.api.results import Completion, ImageResult, ModelInfo, StreamEvent
from lib.api.stream import CompletionStream

__all__ = ["APIConnectionError", "APIStatusError", "APITimeoutError", "Client", "Completion",
           "CompletionStream", "ImageResult", "Limits", "ModelInfo", "StreamEvent",
           "TogetherError"]
