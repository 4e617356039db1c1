"""Wire parsing: Together's JSON (and the shapes other OpenAI-compatible servers send)
into the result types, leniently, with every value from the server bounded and checked.

Pure functions of bytes and dicts, no I/O: the client and the stream reader both use them.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Callable, Mapping

from lib.api.errors import TogetherError
from lib.api.quoting import clip
from lib.api.redact import redact_text
from lib.api.results import (Choice, Completion, ModelInfo, RateLimits, StreamEvent,
                             TokenLogprob, Usage)
from lib.api.untrusted import integer as _integer, number as _number, text as _text

# Logprob arrays longer than a real answer holds are refused before one TokenLogprob is
# built: max_tokens goes up to 131,072 and an echoed prompt adds its own tokens; the
# catalogue asks for at most 20 alternatives, and some servers add the sampled token.
MAX_LOGPROB_TOKENS = 262_144
MAX_TOP_LOGPROBS = 32


def parse_completion(data: dict, headers: Mapping[str, str]) -> Completion:
    choices = [parse_choice(c) for c in data.get("choices") or [] if isinstance(c, dict)]
    prompt_text = prompt_tokens = None
    prompt = data.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
        echoed = prompt[0].get("text")
        prompt_text = _text(echoed) if isinstance(echoed, str) else None
        prompt_tokens = token_logprobs(prompt[0].get("logprobs"))
    return Completion(id=_text(data.get("id") or ""), model=_text(data.get("model") or ""),
                      created=_integer(data.get("created")) or 0,
                      choices=sorted(choices, key=lambda c: c.index),
                      usage=_usage(data.get("usage")), prompt_tokens=prompt_tokens,
                      prompt_text=prompt_text, rate_limits=RateLimits.from_headers(headers),
                      request_id=request_id_of(headers), raw=data)


def parse_choice(data: dict) -> Choice:
    return Choice(index=_integer(data.get("index")) or 0, text=_text(data.get("text") or ""),
                  finish_reason=_word(data.get("finish_reason")),
                  seed=_integer(data.get("seed")), tokens=token_logprobs(data.get("logprobs")))


def token_logprobs(data: Any) -> list[TokenLogprob] | None:
    """Fold a ``logprobs`` object into TokenLogprobs, whatever shape ``top_logprobs`` has.

    On the wire ``top_logprobs`` is one map per position; the spec describes a single map,
    which can only be placed when there is a single token.
    """
    if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
        return None
    tokens = data["tokens"]
    if len(tokens) > MAX_LOGPROB_TOKENS:
        raise TogetherError(f"The server sent logprobs for {len(tokens):,} tokens; the "
                            f"playground reads at most {MAX_LOGPROB_TOKENS:,} in one answer.")
    logprobs, ids, top = (data.get("token_logprobs") or [], data.get("token_ids") or [],
                          data.get("top_logprobs"))
    out = []
    for i, token in enumerate(tokens):
        if isinstance(top, list):
            alternatives = _at(top, i)
        else:
            alternatives = top if len(tokens) == 1 else None
        out.append(TokenLogprob(token=_text(token or ""), logprob=_number(_at(logprobs, i)),
                                token_id=_integer(_at(ids, i)), top=_top(alternatives)))
    return out


def _top(alternatives: Any) -> dict[str, float | None] | None:
    """One position's ``top_logprobs`` map, bounded, as text keys and finite numbers."""
    if not isinstance(alternatives, dict):
        return None
    if len(alternatives) > MAX_TOP_LOGPROBS:
        raise TogetherError(f"The server sent {len(alternatives):,} alternatives for one "
                            f"token; the playground reads at most {MAX_TOP_LOGPROBS}.")
    return {_text(token): _number(logprob) for token, logprob in alternatives.items()}


def echoed_prompt_tokens(completion: Completion, prompt_length: int) -> list[TokenLogprob]:
    """The prompt's tokens on OpenAI-style servers, which echo them inside the choice.

    Those put prompt and generated tokens in one list. How many are the prompt's is read
    from the answer itself, all tokens minus the completion tokens its usage counts: the
    ``text_offset``s cannot be trusted alone, since llama.cpp's count the SentencePiece
    leading space, which moves every prompt token one character on (so the last one looks
    generated). The offsets are the fallback without usage and the cross-check with it.
    """
    tokens = completion.choices[0].tokens if completion.choices else None
    if tokens is None:
        raise TogetherError("The server did not return the prompt's tokens; it may not "
                            "support echo with logprobs")
    raw = next((c for c in completion.raw.get("choices", []) if isinstance(c, dict)), {})
    offsets = (raw.get("logprobs") or {}).get("text_offset")
    by_offset = (sum(isinstance(o, int) and o < prompt_length for o in offsets)
                 if isinstance(offsets, list) else None)
    usage = completion.usage
    by_count = (len(tokens) - usage.completion_tokens
                if usage and 0 <= usage.completion_tokens <= len(tokens) else None)
    if by_count is None and by_offset is None:
        raise TogetherError("The server did not say which echoed tokens are the prompt's "
                            "(no usage and no text_offset)")
    if by_count is not None and by_offset is not None and abs(by_count - by_offset) > 1:
        # One token apart is the leading-space shift; more means the answer contradicts itself.
        raise TogetherError(f"The server's echo contradicts itself: {by_count} prompt tokens "
                            f"by its usage, {by_offset} by its text offsets")
    return tokens[:by_offset if by_count is None else by_count]


def split_inline_echo(completion: Completion, prompt: str) -> Completion:
    """The echoed prompt taken out of the choices, where OpenAI-style servers (llama.cpp,
    vLLM) put it, into ``prompt_text`` and ``prompt_tokens``, where Together puts it and
    the pages read it. Unchanged when the prompt is already apart, when a choice does not
    start with it, or when the answer does not say which tokens are the prompt's."""
    choices = completion.choices
    if completion.prompt_text is not None or not choices or not prompt or \
            not all(c.text.startswith(prompt) for c in choices):
        return completion
    prompt_tokens = None
    if choices[0].tokens is not None:
        try:
            prompt_tokens = echoed_prompt_tokens(completion, len(prompt))
        except TogetherError:
            return completion
    cut = len(prompt_tokens or ())
    return replace(completion, prompt_text=prompt, prompt_tokens=prompt_tokens, choices=[
        replace(c, text=c.text[len(prompt):],
                tokens=c.tokens[cut:] if c.tokens is not None else None) for c in choices])


def decode_chunk(payload: dict) -> tuple[list[StreamEvent], Usage | None]:
    """One stream chunk's events (one per choice it carries) and its usage, if any.

    Chunks carry the token twice (``text`` and ``delta.content``) plus ``delta.token_id``;
    older ones a top-level ``token`` and ``finish_reason``, used when only one choice came.
    This runs once per token, so it reads each field once and skips needless copies.
    """
    usage = _usage(payload.get("usage"))
    choices = payload.get("choices")
    if not isinstance(choices, list):
        choices = ()
    single = len(choices) == 1
    events = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = _NO_DELTA
        text = choice.get("text")
        if text is None:
            text = delta.get("content")
        token_id = delta.get("token_id")
        if token_id is None and single:
            token = payload.get("token")
            token_id = token.get("id") if isinstance(token, dict) else None
        finish = choice.get("finish_reason") or (payload.get("finish_reason") if single else None)
        logprobs = choice.get("logprobs")
        events.append(StreamEvent(_integer(choice.get("index")) or 0, _text(text or ""),
                                  _chunk_logprob(logprobs), _integer(token_id),
                                  _word(finish), _integer(choice.get("seed")), None, payload,
                                  _chunk_top(logprobs)))
    if usage is not None and events:
        events[-1].usage = usage
    return events, usage


_NO_DELTA: dict = {}


def parse_model(item: dict) -> ModelInfo:
    pricing = item.get("pricing") if isinstance(item.get("pricing"), dict) else {}
    return ModelInfo(id=_text(item["id"]), type=_text(item.get("type") or ""),
                     display_name=_text(item.get("display_name") or ""),
                     organization=_text(item.get("organization") or item.get("owned_by") or ""),
                     context_length=_integer(item.get("context_length")
                                             or item.get("max_model_len")),
                     input_price=_number(pricing.get("input")),
                     output_price=_number(pricing.get("output")), raw=item)


def error_details(content: bytes, content_type: str) -> dict[str, Any]:
    """message/type/code/param/id from an API error body of any common shape.

    Together and OpenAI nest them under ``error``; vLLM and others send them flat; FastAPI
    servers use ``detail``. Any other body (a proxy's HTML page, an internal service's
    answer to a Custom base URL) is not the API's: the message says so, with its content
    type and size, and never quotes it. An empty body gives no message.
    """
    if not content.strip():
        return {}
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    details = error_fields(data) if isinstance(data, dict) else {}
    if not any(value is not None for value in details.values()):
        return {"message": not_the_api(content, content_type)}
    if "id" in data:
        details["id"] = str(data["id"])
    return details


def error_fields(data: dict) -> dict[str, Any]:
    error = data.get("error")
    source = error if isinstance(error, dict) else data
    message = source.get("message")
    if isinstance(error, str):
        message = error
    elif message is None and data.get("detail") is not None:
        message = _detail_words(data["detail"])
    fields = {"message": str(message) if message is not None else None}
    for name in ("type", "code", "param"):
        value = source.get(name)
        fields[name] = str(value) if value is not None else None
    if fields["param"] is None:
        fields["param"] = _detail_field(data.get("detail"))
    return fields


def _detail_words(detail: Any) -> str:
    """FastAPI's ``detail``: a string, or (a 422 from llama-cpp-python's server) a list of
    ``{"loc": ["body", "top_p"], "msg": "..."}`` read as "top_p: ..."."""
    if isinstance(detail, list) and detail and all(
            isinstance(item, dict) and "msg" in item for item in detail):
        return "; ".join(f"{_loc(item)}: {item['msg']}" if _loc(item) else str(item["msg"])
                         for item in detail)
    return detail if isinstance(detail, str) else json.dumps(detail)


def _detail_field(detail: Any) -> str | None:
    """The request field a FastAPI validation ``detail`` list names first, if any."""
    first = detail[0] if isinstance(detail, list) and detail else None
    return _loc(first) or None if isinstance(first, dict) else None


def _loc(item: dict) -> str:
    """A validation error's field: its ``loc`` without the leading "body"."""
    loc = item.get("loc")
    parts = [str(p) for p in loc if p != "body"] if isinstance(loc, list) else []
    return ".".join(parts)


# Words in an error body's ``type`` and the status each stands for, most specific first:
# OpenAI's "invalid_request_error", vLLM's "BadRequestError", Together's "server_error".
_STATUS_BY_ERROR_TYPE = (
    ("invalid_request", 400), ("badrequest", 400), ("validation", 400),
    ("authentication", 401), ("unauthorized", 401), ("permission", 403), ("forbidden", 403),
    ("not_found", 404), ("notfound", 404), ("rate_limit", 429), ("ratelimit", 429),
    ("overloaded", 503), ("unavailable", 503), ("server", 500), ("internal", 500))


def status_named_in(details: Mapping[str, Any]) -> int | None:
    """The HTTP status an error body stands for: its numeric code, else its type's words."""
    code = details.get("code") or ""
    if code.isdigit() and 400 <= int(code) < 600:
        return int(code)
    kind = (details.get("type") or "").lower()
    return next((status for word, status in _STATUS_BY_ERROR_TYPE if word in kind), None)


def redacted_fields(details: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    return {name: redact(value) if isinstance(value, str) else value
            for name, value in details.items()}



# ---------------------------------------------------------------------- small helpers

def parse_or_explain(parse: Callable[..., Any], *args: Any) -> Any:
    """Run a wire parser; a server whose JSON has the wrong shape gets one clear error."""
    try:
        return parse(*args)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise TogetherError(f"The server's answer has an unexpected shape "
                            f"({type(exc).__name__}: {exc})") from None


def _usage(data: Any) -> Usage | None:
    return Usage.from_json(data) if isinstance(data, dict) else None


def _chunk_logprob(value: Any) -> float | None:
    """A chunk's logprob: a number on Together, a one-token logprobs object elsewhere."""
    if isinstance(value, dict):
        logprobs = value.get("token_logprobs")
        value = logprobs[0] if isinstance(logprobs, list) and len(logprobs) == 1 else None
    return _number(value)


def _chunk_top(value: Any) -> dict[str, float | None] | None:
    """A chunk's alternatives, from a one-token logprobs object (llama.cpp, vLLM send them)."""
    if not isinstance(value, dict):
        return None
    top = value.get("top_logprobs")
    return _top(top[0]) if isinstance(top, list) and len(top) == 1 else None


def _at(items: Any, i: int) -> Any:
    return items[i] if isinstance(items, list) and i < len(items) else None


def _word(value: Any) -> str | None:
    """A server's one-word field (``finish_reason``): its text, or None if absent or odd."""
    return _text(value) if isinstance(value, str) and value else None


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The server's id for the request, kept with the run: briefly, and never a key."""
    value = headers.get("x-request-id") or headers.get("cf-ray")
    return one_line(redact_text(value), 200) if value else None


def one_line(text: str, limit: int = 120) -> str:
    """A server's short words (a reason phrase, an error's text) on one line, briefly.

    Never a body: a reply that is not the API's is described by ``not_the_api`` instead.
    """
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def not_the_api(content: bytes, content_type: str, status: int | None = None) -> str:
    """Words for a reply that is not the API's: what it is, never what it says."""
    what = f"HTTP {status}, " if status is not None else ""
    return (f"The server's answer is not the API's ({what}{media_type(content_type)}, "
            f"{len(content):,} bytes)")


def media_type(content_type: str) -> str:
    """A Content-Type header's media type, briefly; its parameters are left out."""
    return clip(content_type.split(";")[0].strip(), 60) or "no content type"


def requested_n(params: Mapping[str, Any]) -> int:
    return _integer(params.get("n")) or 1


def beyond_n(index: int, n: int) -> str:
    return f"choice index {index}, but the request asked for n={n} (indexes 0 to {n - 1})"


def within_n(completion: Completion, params: Mapping[str, Any]) -> Completion:
    """``completion``, once each choice's index is one the request asked for."""
    n = requested_n(params)
    for choice in completion.choices:
        if not 0 <= choice.index < n:
            raise TogetherError("The server sent " + beyond_n(choice.index, n),
                                request_id=completion.request_id)
    return completion
