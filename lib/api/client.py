"""The HTTP client for Together's /v1 API and any OpenAI-compatible server: the transport
(session, retries, error mapping); the stream reader, wire parsing and image fetching sit
in their own modules beside it.

One code path serves Together, the built-in local backend and custom servers, so the
parsing here is lenient: fields only Together sends are optional, and the shapes other
servers use (a ``{"data": [...]}`` model list, flat error bodies, echo via ``text_offset``)
are folded into the same result types.

Streams are read with ``raw.read1`` and a pure SSE parser rather than ``iter_lines``:
``iter_lines`` waits for 512 bytes on close-delimited bodies, which delays each token by
tens to hundreds of milliseconds (measured in the streamlit notes, §3b).

The API key lives only in the Authorization header of API requests. It is never sent to
image URLs, never given to hooks, and redacted from every message the server echoes back.
"""
from __future__ import annotations

import email.utils
import json
import os
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable, Mapping

import requests
import urllib3.exceptions

from lib.api.errors import (APIConnectionError, APIStatusError, APITimeoutError, ImageItemError,
                            TogetherError, error_class_for)
from lib.api.http_body import ACCEPT_ENCODING, BodyLimitError, BodyReader, read_all
from lib.api.image_fetch import fetch_image, image_item
from lib.api.reading import (READ_SIZE, TIMEOUT_ENV, Limits, causes, is_timeout,
                              TimeLimits)
from lib.api.redact import REDACTED, redact, redact_text, remember
from lib.api.results import (Choice, Completion, GeneratedImage, ImageResult, ModelInfo,
                             RateLimits, TokenLogprob, one_by_one_note)
from lib.api.stream import CompletionStream, OneByOneStream
from lib.api.untrusted import integer as _integer
from lib.api.wire import (error_fields, media_type, not_the_api, parse_or_explain, redacted_fields,
                          request_id_of, requested_n, one_line, status_named_in, within_n,
                          echoed_prompt_tokens, error_details, parse_completion, parse_model,
                       split_inline_echo)

DEFAULT_BASE_URL = "https://api.together.xyz/v1"
USER_AGENT = "together-playground/0.1"
HOOK_NAMES = ("request", "response", "retry")
_RETRY_AFTER_MAX = 60.0
# (base URL, model) pairs whose server answered n > 1 with fewer choices: their choices
# are requested one each from the start, for as long as this process runs.
_DROPS_N: set[tuple[str, str]] = set()



class Client:
    """A session with one server: retries, error mapping and key hygiene in one place.

    ``hooks`` lets callers watch without flags: ``{"request": [fn(method, url, body)],
    "response": [fn(status, headers, elapsed_s)], "retry": [fn(attempt, delay_s, error)]}``.
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 timeout: float | tuple[float, float] = (10.0, 60.0), max_retries: int = 2,
                 hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
                 deadline: float | None = None, limits: Limits = Limits(),
                 session: requests.Session | None = None):
        # ``deadline``: seconds one call may take from sending its request to the end of
        # its answer (a stream's last event), however steadily the server keeps sending.
        # ``session``: the transport, used as given (headers too) and closed with the
        # client; anything with Session's request/get/close will do, so a unit test can
        # answer without a socket. None: a new Session that says who is asking.
        key = os.environ.get("TOGETHER_API_KEY", "") if api_key is None else api_key
        self._api_key = key.strip()
        if not all(" " < ch < "\x7f" for ch in self._api_key):
            # requests would echo the whole header value, key included, in its error.
            raise ValueError("The API key contains spaces or characters that cannot be sent")
        remember(self._api_key)  # so what is written far from here (a PNG) drops it too
        self.base_url = (base_url or os.environ.get("TOGETHER_BASE_URL")
                         or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.limits = limits
        unknown = set(hooks or ()) - set(HOOK_NAMES)
        if unknown:
            raise ValueError(f"unknown hook names {sorted(unknown)}; allowed: {HOOK_NAMES}")
        self._hooks = {name: list((hooks or {}).get(name, ())) for name in HOOK_NAMES}
        self._session = _new_session() if session is None else session

    def __repr__(self) -> str:
        key = REDACTED if self._api_key else None
        return f"Client(base_url={self.base_url!r}, api_key={key!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ endpoints

    def complete(self, params: Mapping[str, Any]) -> Completion:
        """One whole completion with all n choices; ``params`` is the body from
        ``catalogue.build_request``.

        From a server that drops ``n`` (llama.cpp, Ollama) the choices it left out are
        requested one each, concurrently, and the result says so in its ``note``; once a
        server has done that, its choices are requested one each from the start.
        """
        n = requested_n(params)
        if n > 1 and self._drops_n(params):
            return self._with_choices(None, params, list(range(n)))
        completion = self._complete_once(params)
        seen = {choice.index for choice in completion.choices}
        if n == 1 or len(seen) != 1:  # one choice for n > 1: the server dropped n
            return completion
        _DROPS_N.add(self._server_model(params))
        for choice in completion.choices:
            if choice.index == 0 and choice.seed is None:
                choice.seed = _seed(params)  # the request's seed made choice 0
        return self._with_choices(completion, params, [i for i in range(n) if i not in seen])

    def _complete_once(self, params: Mapping[str, Any]) -> Completion:
        response = self._request("POST", "/completions", {**params, "stream": False})
        data = self._answer_json(response)
        completion = within_n(parse_or_explain(parse_completion, data, response.headers), params)
        prompt = params.get("prompt")
        if params.get("echo") and isinstance(prompt, str):
            completion = split_inline_echo(completion, prompt)
        return completion

    def _with_choices(self, first: Completion | None, params: Mapping[str, Any],
                      indexes: list[int]) -> Completion:
        """``first`` (None: nothing yet) with choices ``indexes`` requested one each.

        A choice whose request failed is kept as an empty choice that finished with
        "error", its error in ``errors``; the others are returned all the same.
        """
        with ThreadPoolExecutor(max_workers=len(indexes)) as pool:
            fetched = dict(zip(indexes, pool.map(
                lambda i: self._fetched(_one_choice(params, i)), indexes)))
        done = [got for got in fetched.values() if isinstance(got, Completion)]
        if first is None and not done:
            raise fetched[indexes[0]]
        base = first if first is not None else done[0]
        choices = list(first.choices) if first is not None else []
        errors = []
        for index, got in fetched.items():
            if isinstance(got, TogetherError) or not got.choices:
                choices.append(Choice(index, "", "error"))
                errors.append((index, got if isinstance(got, TogetherError)
                               else TogetherError("The server answered with no choice")))
                continue
            choice = got.choices[0]
            seed = choice.seed if choice.seed is not None else _seed(params, index)
            choices.append(replace(choice, index=index, seed=seed))
        usages = [c.usage for c in ([first] if first else []) + done if c.usage is not None]
        return replace(base, choices=sorted(choices, key=lambda c: c.index),
                       usage=sum(usages[1:], usages[0]) if usages else None,
                       note=one_by_one_note(requested_n(params)), errors=errors)

    def _fetched(self, params: Mapping[str, Any]) -> Completion | TogetherError:
        try:
            return self._complete_once(params)
        except TogetherError as exc:
            return exc

    def _server_model(self, params: Mapping[str, Any]) -> tuple[str, str]:
        return self.base_url, str(params.get("model") or "")

    def _drops_n(self, params: Mapping[str, Any]) -> bool:
        """Whether this server answered this model's earlier n > 1 with fewer choices."""
        return self._server_model(params) in _DROPS_N

    def stream(self, params: Mapping[str, Any]) -> "CompletionStream | OneByOneStream":
        """Send the request now (retrying as needed) and return the open event stream.

        With n > 1 the stream delivers all n choices from any server, as ``complete``
        does (see ``OneByOneStream``).
        """
        n = requested_n(params)
        if n == 1:
            return self._stream_once(params)
        def open_choice(index: int) -> CompletionStream:
            return self._stream_once(_one_choice(params, index))
        if self._drops_n(params):
            return OneByOneStream(None, open_choice, n=n, seed=_seed(params))
        return OneByOneStream(self._stream_once(params), open_choice, n=n, seed=_seed(params),
                              on_short=lambda: _DROPS_N.add(self._server_model(params)))

    def _stream_once(self, params: Mapping[str, Any]) -> CompletionStream:
        response = self._request("POST", "/completions", {**params, "stream": True},
                                 accept="text/event-stream")
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            response.close()
            raise TogetherError(f"Expected an event stream, but the server answered with "
                                f"{media_type(content_type)}",
                                request_id=request_id_of(response.headers))
        return CompletionStream(response, self._redact, n=requested_n(params),
                                limits=self.limits, times=TimeLimits(response, self.deadline))

    def generate_images(self, params: Mapping[str, Any]) -> ImageResult:
        """Generate, decode and (for URL items) fetch images; a bad item never loses the rest."""
        response = self._request("POST", "/images/generations", dict(params))
        data = self._answer_json(response)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise TogetherError("The image response has no data list")
        seed = params.get("seed")
        images: list[GeneratedImage] = []
        errors: list[tuple[int, TogetherError]] = []
        for position, item in enumerate(items):
            index = _integer(item.get("index")) if isinstance(item, dict) else None
            index = position if index is None else index
            try:
                images.append(image_item(item, index, seed, self._fetch_image))
            except TogetherError as exc:
                # The caller knows where the image sits in its grid: no index in the words.
                errors.append((index, ImageItemError(exc.message, status=exc.status,
                                                     request_id=exc.request_id)))
        images.sort(key=lambda image: image.index)
        return ImageResult(id=str(data.get("id") or ""), model=str(data.get("model") or ""),
                           images=images, rate_limits=RateLimits.from_headers(response.headers),
                           request_id=request_id_of(response.headers),
                           raw={k: v for k, v in data.items() if k != "data"}, errors=errors)

    def list_models(self, type: str | tuple[str, ...] | None = None) -> list[ModelInfo]:
        """The server's models, optionally only those of the given type(s).

        OpenAI-compatible servers do not say a model's type; such models pass every
        filter, since hiding them all would leave the picker empty.
        """
        response = self._request("GET", "/models")
        data = self._answer_json(response)
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise TogetherError("The model list is neither a JSON array nor {\"data\": [...]}")
        models = [parse_or_explain(parse_model, item) for item in items
                  if isinstance(item, dict) and item.get("id")]
        if type is None:
            return models
        wanted = (type,) if isinstance(type, str) else tuple(type)
        return [m for m in models if m.type in wanted or not m.type]

    def tokenize(self, model: str, text: str) -> list[TokenLogprob]:
        """The prompt's tokens and ids, from a one-token completion that echoes the prompt."""
        completion = self.complete({"model": model, "prompt": text, "max_tokens": 1,
                                    "echo": True, "logprobs": 1})
        if completion.prompt_tokens is not None:
            return completion.prompt_tokens
        return echoed_prompt_tokens(completion, len(text))

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, path: str, body: dict | None = None, *,
                 accept: str = "application/json") -> requests.Response:
        """Send, resending only what ``may_resend`` allows; return a 2xx response whose
        body has not been read yet.

        Once a 2xx answer arrived nothing is retried, so a stream that has delivered text
        is never silently restarted.
        """
        url = self.base_url + path
        headers = {"Accept": accept}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        attempt = 0
        while True:
            self._run_hooks("request", method, url, body)
            try:
                response = self._session.request(method, url, json=body, headers=headers,
                                                 timeout=self.timeout, stream=True)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error: TogetherError = self._transport_error(exc)
                resend = may_resend(method, sent=not _never_sent(exc))
            except requests.RequestException as exc:
                raise self._transport_error(exc) from None
            else:
                elapsed_s = response.elapsed.total_seconds()
                self._run_hooks("response", response.status_code, response.headers, elapsed_s)
                if response.ok:
                    return response
                error = self._status_error(response)
                resend = may_resend(method, status=response.status_code, elapsed_s=elapsed_s,
                                    retry_after=_retry_after(error.headers) is not None)
            if not resend or attempt >= self.max_retries:
                raise error
            delay = retry_delay(error.headers, attempt)
            attempt += 1
            self._run_hooks("retry", attempt, delay, error)
            time.sleep(delay)

    def _run_hooks(self, name: str, *args: Any) -> None:
        for hook in self._hooks[name]:
            hook(*args)

    def _read_json(self, response: requests.Response) -> Any:
        """The answer's JSON; an answer that is not JSON is described, never quoted."""
        content = self._read_body(response)
        try:
            return json.loads(content)
        except ValueError:
            raise TogetherError(not_the_api(content, response.headers.get("content-type", ""),
                                             response.status_code),
                                request_id=request_id_of(response.headers)) from None

    def _read_body(self, response: requests.Response) -> bytes:
        """The whole body within the size limits and the deadline, whatever the server sends."""
        times = TimeLimits(response, self.deadline)
        try:
            with response:
                return read_all(BodyReader(response.raw, response.headers, READ_SIZE),
                                times.before_read, self.limits.body_bytes,
                                self.limits.wire_bytes)
        except BodyLimitError as exc:
            raise TogetherError(str(exc), request_id=request_id_of(response.headers)) from None
        except Exception as exc:  # urllib3, http.client, socket and zlib errors alike
            limit = times.reason(exc)
            if limit:
                raise APITimeoutError(limit) from None
            raise self._transport_error(exc) from None

    def _status_error(self, response: requests.Response) -> APIStatusError:
        """The exception for an error status, with the server's own words (key redacted)."""
        try:
            details = error_details(self._read_body(response),
                                    response.headers.get("content-type", ""))
        except APIConnectionError:  # cut off while reading: the status says enough
            details = {}
        except TogetherError as exc:  # a body over the size limits
            details = {"message": exc.message}
        status = response.status_code
        details = redacted_fields(details, self._redact)
        # The reason phrase and the headers are the server's words too: a careless one
        # quotes the Authorization header back in them.
        message = details.get("message") or self._redact(
            f"HTTP {status} {one_line(response.reason or '')}".strip())
        headers = redact({k.lower(): v for k, v in response.headers.items()}, self._api_key)
        return error_class_for(status)(
            message, status=status, type=details.get("type"), code=details.get("code"),
            param=details.get("param"), key_sent=bool(self._api_key),
            request_id=request_id_of(headers) or details.get("id"), headers=headers)

    def _answer_json(self, response: requests.Response) -> Any:
        """The JSON of a 2xx answer, raised as an error when it is ``{"error": ...}``.

        Some servers report a failure with status 200; read as a result it would be an
        empty completion or model list, and the server's reason would be lost.
        """
        data = self._read_json(response)
        if not (isinstance(data, dict) and data.get("error")):
            return data
        details = redacted_fields(error_fields(data), self._redact)
        status = status_named_in(details)
        request_id = request_id_of(response.headers)
        raise (error_class_for(status) if status else APIStatusError)(
            details.get("message") or "The server answered with an error and no message",
            type=details.get("type"), code=details.get("code"), param=details.get("param"),
            key_sent=bool(self._api_key),
            request_id=self._redact(request_id) if request_id else None)

    def _transport_error(self, exc: Exception) -> APIConnectionError:
        """The error for a request that got no answer, saying how long it waited."""
        if not is_timeout(exc):
            return APIConnectionError(self._redact(f"Connection failed: {_reason(exc)}"))
        connect, read = (self.timeout if isinstance(self.timeout, tuple)
                         else (self.timeout, self.timeout))
        if _never_sent(exc):
            return APITimeoutError(self._redact(
                f"No connection within {connect:g} s (connect timeout): {_reason(exc)}"))
        return APITimeoutError(f"No answer within {read:g} s (read timeout). "
                               f"Raise {TIMEOUT_ENV} to wait longer.")

    def _redact(self, text: str) -> str:
        """``text`` without this client's key or anything shaped like a key."""
        return redact_text(text, self._api_key)

    def _fetch_image(self, url: str) -> bytes:
        """One image URL through this client's session, without its key (see image_fetch)."""
        return fetch_image(self._session, url, self.timeout, self._transport_error)


def _seed(params: Mapping[str, Any], index: int = 0) -> int | None:
    """The seed choice ``index`` is made with: the request's plus the index, as the local
    backend numbers them; None for a random seed."""
    seed = _integer(params.get("seed"))
    return None if seed is None else seed + index


def _one_choice(params: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The request for choice ``index`` alone, with that choice's seed."""
    seed = _seed(params, index)
    return {**params, "n": 1, **({"seed": seed} if seed is not None else {})}


def _new_session() -> requests.Session:
    """A session that names the playground and asks only for encodings it can undo."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = ACCEPT_ENCODING
    return session


# ---------------------------------------------------------------------- retries

def retry_delay(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds before retry number ``attempt + 1``: the server's hint, else backoff + jitter."""
    hinted = _retry_after(headers)
    if hinted is not None:
        return hinted
    return min(0.5 * 2 ** attempt, 8.0) * random.uniform(0.75, 1.0)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value: float | None = None
    try:
        value = float(headers["retry-after-ms"]) / 1000
    except (KeyError, TypeError, ValueError):
        raw = headers.get("retry-after")
        if raw:
            try:
                value = float(raw)
            except ValueError:
                try:
                    value = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
                except (TypeError, ValueError):
                    value = None
    return value if value is not None and 0 < value <= _RETRY_AFTER_MAX else None


QUICK_FAILURE_S = 1.5
"""Seconds: a POST whose 5xx came back sooner than this is resent, a slower one is not.
A gateway or load balancer that never handed the request to a model refuses in
milliseconds; an error that follows a model run (which is billed, even when it fails)
comes after the model has loaded and generated, which takes seconds. Between the two,
1.5 s resends those refusals, and not a request a model had time to work on."""
# Methods whose repetition costs nothing: GET /models lists, it never generates.
_FREE_TO_REPEAT = frozenset({"GET", "HEAD", "OPTIONS"})


def may_resend(method: str, *, status: int | None = None, elapsed_s: float = 0.0,
               retry_after: bool = False, sent: bool = True) -> bool:
    """Whether a failed request may go out again without paying for a generation twice.

    ``status`` is None when no answer came (timeout, reset); ``sent`` is False when the
    connection failed before any byte of the request went out; ``elapsed_s`` is how long
    the error status took; ``retry_after`` says the server named a time to come back.
    A POST is resent only when the server cannot have started the work: it never got the
    request, it refused it for the rate (429) or for now (503 with Retry-After), or it
    failed faster than any generation runs. After a read timeout it may still be generating.
    """
    if not sent:
        return True
    if method.upper() in _FREE_TO_REPEAT:
        return status is None or _retryable_status(status)
    if status is None:
        return False
    if status == 429 or (status == 503 and retry_after):
        return True
    return status >= 500 and elapsed_s < QUICK_FAILURE_S


def _retryable_status(status: int) -> bool:
    """Statuses worth asking again for a request that costs nothing to repeat."""
    return status in (408, 409, 429) or status >= 500


def _never_sent(exc: BaseException) -> bool:
    """True when the connection failed before any byte of the request went out: refused,
    unresolvable or a connect timeout. urllib3 makes each of these a ConnectTimeoutError
    (NewConnectionError subclasses it). A reset after connecting is not one of them: the
    server may have read the request by then."""
    return any(isinstance(e, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
               for e in causes(exc))


def _reason(exc: BaseException) -> str:
    """The innermost cause in plain words, without urllib3's ``Pool(host=...)`` prefixes."""
    innermost = list(causes(exc))[-1]
    text = re.sub(r"^[\w.]+\(host=[^)]*\):\s*", "", str(innermost))
    return one_line(text, 200) or type(innermost).__name__
