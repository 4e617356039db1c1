"""Every error the client raises, in one tree (the httpx way), so callers catch at the right level.

    TogetherError                 anything this client raises
    ├── APIStatusError            the server answered with an error status
    │   ├── BadRequestError       400, 422: the server's message says which field
    │   ├── AuthenticationError   401
    │   ├── PermissionDeniedError 403
    │   ├── NotFoundError         404: unknown model or path
    │   ├── RateLimitError        429
    │   └── ServerError           5xx
    ├── APIConnectionError        no answer: refused, reset, DNS
    │   └── APITimeoutError       no byte within the read timeout
    ├── StreamInterruptedError    a stream broke after it had started delivering
    └── ImageItemError            one image of a response could not be fetched or decoded

A status error's title and hint (the words the page shows around the server's message)
come from its status, unless its code or message names a known cause that any
OpenAI-compatible server may report with another status: the prompt over the model's
context, an unknown model, an unsupported parameter (see ``plain_words``).

Messages never contain the API key: the client redacts it before raising.
"""
from __future__ import annotations

import re


class TogetherError(Exception):
    """Base of all client errors; ``hint`` says what the user can do about it."""

    title = "Request failed"  # a few plain words naming what failed
    hint = "Try again; if it keeps failing, check the provider settings in the sidebar."

    def __init__(self, message: str, *, status: int | None = None, type: str | None = None,
                 code: str | None = None, param: str | None = None,
                 request_id: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.headers = headers or {}

    def describe(self) -> str:
        """One paragraph for the page: what failed, the server's words, what to do."""
        status = f" (HTTP {self.status})" if self.status else ""
        rid = f" Request id: {self.request_id}." if self.request_id else ""
        return f"{self.title}{status}: {self.message} — {self.hint}{rid}"


class APIStatusError(TogetherError):
    """``key_sent`` says whether the request carried a key (None: unknown), so a refusal
    of a request that sent none is not blamed on a key."""

    title = "The server refused the request"

    def __init__(self, message: str, *, key_sent: bool | None = None, **fields):
        super().__init__(message, **fields)
        words = plain_words(self, key_sent)
        if words:
            self.title, self.hint = words


class BadRequestError(APIStatusError):
    title = "Invalid request"
    hint = "Check the parameters named in the message."


class AuthenticationError(APIStatusError):
    title = "Invalid API key"
    hint = "Set TOGETHER_API_KEY or enter a valid key in the sidebar."


class PermissionDeniedError(APIStatusError):
    title = "Permission denied"
    hint = "Your key may lack access to this model; pick another model or use a key that has it."
    # A 403 to a request that sent no key is about something else (the host, the request).
    hint_no_key = ("No key was sent, so this is not about a key: the server refuses this "
                   "request; check the base URL and the model.")


class NotFoundError(APIStatusError):
    title = "Not found"
    hint = "Check the model id (pick one from the list) and the base URL."


class RateLimitError(APIStatusError):
    title = "Rate limited"
    hint = "Wait a moment and try again, or lower n; retries were already attempted."


class ServerError(APIStatusError):
    title = "Server error"
    # No "retries were attempted": a slow 5xx is never resent (it may have been billed).
    hint = "The provider had a problem; try again in a moment."


class APIConnectionError(TogetherError):
    title = "Could not reach the server"
    hint = "Check the base URL and your network, then try again."


class APITimeoutError(APIConnectionError):
    title = "Timed out"
    hint = "The server did not answer in time; try again, or raise the timeout."


class StreamInterruptedError(TogetherError):
    title = "The stream broke off"
    hint = "The text received so far is kept; generate again to get a complete answer."


class ImageItemError(TogetherError):
    title = "This image could not be used"
    hint = ("The other images are kept; generate again, or set Response format to base64 so "
            "images come inside the response.")


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError,
    404: NotFoundError, 422: BadRequestError, 429: RateLimitError,
}


def error_class_for(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIStatusError


# Each server words a context overflow its own way; the number is the context length.
# Together (TGI) and the local backend: "`inputs` tokens + `max_new_tokens` must be <= 4097";
# OpenAI, vLLM, llama-cpp-python: "This model's maximum context length is 2048 tokens";
# llama.cpp itself: "Requested tokens (5000) exceed context window of 4096".
_CONTEXT_MESSAGES = (
    re.compile(r"tokens`? \+ `?max_(?:new_)?tokens`? must be <= (\d+)", re.I),
    re.compile(r"maximum context length is (\d+)", re.I),
    re.compile(r"exceeds? (?:the )?context (?:window|length) of (\d+)", re.I),
)
# vLLM: "The model `x` does not exist."; Ollama: 'model "x" not found, try pulling it first'.
_UNKNOWN_MODEL = re.compile(r"\bmodel\b.{0,300}?\b(?:does not exist|not found)", re.I | re.S)
# vLLM: "suffix is not currently supported"; OpenAI: "Unrecognized request argument supplied:
# suffix" or "Unsupported parameter: 'x' ..."; llama.cpp wrappers: "Unsupported param: suffix".
_UNSUPPORTED = re.compile(r"not (?:currently )?supported|unrecognized request argument|"
                          r"unsupported param", re.I)


def context_words(context_length: int | None, prompt: str = "prompt",
                  max_tokens: str = "Max tokens") -> str:
    """What to do when prompt + max_tokens is over the context; before sending, the page
    says the same with the amounts in ``prompt`` and ``max_tokens``."""
    size = f" ({context_length} tokens)" if context_length else ""
    return (f"{prompt} + {max_tokens} is longer than the model's context{size}: lower Max "
            "tokens or shorten the prompt.")


def _context_length_named(message: str) -> int | None:
    for pattern in _CONTEXT_MESSAGES:
        found = pattern.search(message)
        if found:
            return int(found.group(1))
    return None


def plain_words(error: TogetherError, key_sent: bool | None = None) -> tuple[str, str] | None:
    """(title, hint) for a cause the error's code or message names, whatever its status.

    Servers disagree on statuses (Together documents 403 for a context overflow and sends
    400; llama-cpp-python answers an unknown model with 400, vLLM and Ollama with 404), so
    the cause, when known, decides the words; None leaves the status's own.
    """
    code, message = (error.code or "").lower(), error.message or ""
    length = _context_length_named(message)
    if code == "context_length_exceeded" or length is not None or (
            error.type or "").lower() == "exceed_context_size_error":  # llama.cpp's own server
        return "Prompt too long for the model", context_words(length)
    if code == "model_not_found" or _UNKNOWN_MODEL.search(message):
        return NotFoundError.title, NotFoundError.hint
    if code == "unsupported_parameter" or _UNSUPPORTED.search(message):
        what = f'"{error.param[:80]}"' if error.param else "a parameter the message names"
        return ("Parameter not supported",
                f"This server does not support {what}: set it back to its default (and unpin "
                "it) so it is not sent, or use another server.")
    if error.status == 403 and key_sent is False:
        return PermissionDeniedError.title, PermissionDeniedError.hint_no_key
    return None
