"""Every error the client raises, in one tree (the httpx way), so callers catch at the right level.

    TogetherError                 anything this client raises
    ├── APIStatusError            the server answered with an error status
    │   ├── BadRequestError       400, 422: the server's message says which field
    │   ├── AuthenticationError   401
    │   ├── PermissionDeniedError 403 (also: prompt + max_tokens over the context)
    │   ├── NotFoundError         404: unknown model or path
    │   ├── RateLimitError        429
    │   └── ServerError           5xx
    ├── APIConnectionError        no answer: refused, reset, DNS
    │   └── APITimeoutError       no byte within the read timeout
    ├── StreamInterruptedError    a stream broke after it had started delivering
    └── ImageItemError            one image of a response could not be fetched or decoded

Messages never contain the API key: the client redacts it before raising.
"""
from __future__ import annotations


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
    title = "The server refused the request"


class BadRequestError(APIStatusError):
    title = "Invalid request"
    hint = "Check the parameters named in the message."


class AuthenticationError(APIStatusError):
    title = "Invalid API key"
    hint = "Set TOGETHER_API_KEY or enter a valid key in the sidebar."


class PermissionDeniedError(APIStatusError):
    title = "Permission denied"
    hint = ("Your key may lack access to this model, or the prompt plus max tokens exceeds the "
            "model's context; lower max tokens or pick another model.")


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
