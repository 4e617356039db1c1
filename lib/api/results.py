"""What the client returns: plain data classes, independent of the wire's quirks.

The wire has two shapes for ``top_logprobs`` (a list of per-position maps, or one map)
and may hold nulls; the client folds both into ``TokenLogprob`` so pages never care.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.api.errors import TogetherError
from lib.api.untrusted import integer

if TYPE_CHECKING:  # Pillow comes with the first image decoded, not with every page
    from PIL import Image


@dataclass
class RateLimits:
    """The ``x-ratelimit-*`` / ``x-tokenlimit-*`` headers of a response, when present."""

    limit: str | None = None
    remaining: str | None = None
    reset: str | None = None
    token_limit: str | None = None
    token_remaining: str | None = None

    @classmethod
    def from_headers(cls, headers: Any) -> "RateLimits":
        get = headers.get
        return cls(get("x-ratelimit-limit"), get("x-ratelimit-remaining"),
                   get("x-ratelimit-reset"), get("x-tokenlimit-limit"),
                   get("x-tokenlimit-remaining"))


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_json(cls, data: Any) -> "Usage | None":
        """Counts a page can add up: a missing, odd or non-finite count is 0."""
        if not isinstance(data, dict) or not data:
            return None
        return cls(*(integer(data.get(name)) or 0
                     for name in ("prompt_tokens", "completion_tokens", "total_tokens")))

    def __add__(self, other: "Usage") -> "Usage":
        """Two requests' usage as one run's: each request bills its own prompt."""
        return Usage(self.prompt_tokens + other.prompt_tokens,
                     self.completion_tokens + other.completion_tokens,
                     self.total_tokens + other.total_tokens)


@dataclass
class TokenLogprob:
    """One token with its log probability and, when the API returned them, the alternatives."""

    token: str
    logprob: float | None
    token_id: int | None = None
    top: dict[str, float | None] | None = None


@dataclass
class Choice:
    index: int
    text: str
    finish_reason: str | None = None
    seed: int | None = None
    tokens: list[TokenLogprob] | None = None


@dataclass
class Completion:
    """A whole (non-streamed) completion response."""

    id: str
    model: str
    created: int
    choices: list[Choice]
    usage: Usage | None = None
    prompt_tokens: list[TokenLogprob] | None = None  # from echo + logprobs
    prompt_text: str | None = None                   # from echo
    rate_limits: RateLimits = field(default_factory=RateLimits)
    request_id: str | None = None
    raw: dict = field(default_factory=dict)
    note: str | None = None                          # how the choices came, when unusual
    # (index, error) for choices whose own request failed; the others are kept.
    errors: list[tuple[int, TogetherError]] = field(default_factory=list)


def one_by_one_note(n: int) -> str:
    """The line a page shows when a server answered one choice per request."""
    return (f"This server returned one choice per request; the {n} choices were fetched "
            "one by one.")


def completion_tokens_text(usage: Usage | None, counted: int) -> str:
    """Completion tokens as the server reported them, else as counted from the stream's
    events: some servers (llama.cpp) send no usage in a stream, and a count of chunks is
    close to, not exactly, the token count."""
    return f"{usage.completion_tokens:,}" if usage else f"~{counted:,} tokens (counted)"


@dataclass
class StreamEvent:
    """One streamed token (or the final chunk) for one choice.

    ``finish_reason``, ``seed`` and ``usage`` are set on a choice's last event only; an
    event with no text and none of them may carry a seed learnt after the choice ended.
    """

    index: int
    text: str
    logprob: float | None = None
    token_id: int | None = None
    finish_reason: str | None = None
    seed: int | None = None
    usage: Usage | None = None
    raw: dict = field(default_factory=dict)
    top: dict[str, float | None] | None = None  # the alternatives, when the server sent them


@dataclass
class GeneratedImage:
    index: int
    image: Image.Image
    data: bytes          # the bytes as received (decoded from base64 or fetched from the URL)
    format: str          # "png" or "jpeg", as Pillow detected it
    seed: int | None = None
    url: str | None = None
    raw: dict = field(default_factory=dict)


@dataclass
class ImageResult:
    id: str
    model: str
    images: list[GeneratedImage]
    rate_limits: RateLimits = field(default_factory=RateLimits)
    request_id: str | None = None
    raw: dict = field(default_factory=dict)
    # (index, error) for items that could not be fetched or decoded; the others are kept.
    errors: list[tuple[int, TogetherError]] = field(default_factory=list)


@dataclass
class ModelInfo:
    id: str
    type: str
    display_name: str = ""
    organization: str = ""
    context_length: int | None = None
    input_price: float | None = None   # USD per 1M tokens
    output_price: float | None = None
    raw: dict = field(default_factory=dict)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Estimated USD for a run, when the listing carried prices."""
        if self.input_price is None and self.output_price is None:
            return None
        return ((self.input_price or 0.0) * prompt_tokens
                + (self.output_price or 0.0) * completion_tokens) / 1_000_000
