"""One completion request running in a background thread, collected as it arrives.

The worker owns the connection (see ``lib.background`` for why a thread); the page only
*renders* a snapshot, so a rerun loses nothing and only ``stop()`` ends the stream.
``wait_for_change`` lets the renderer sleep until something arrives, and per-choice
versions let it skip choices that did not change.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from lib.api.errors import TogetherError
from lib.api.results import Completion, RateLimits, TokenLogprob, Usage
from lib.background import FAILED, OK, RUNNING, STOPPED, BackgroundRun
from lib.catalogue import COMPLETIONS
from lib.param_settings import ParamSettings

__all__ = ["ChoiceView", "RunView", "StreamRun", "RUNNING", "OK", "STOPPED", "FAILED"]


@dataclass
class _Choice:
    """Mutable, worker-side state of one choice; read only under the run's lock."""

    index: int
    parts: list[str] = field(default_factory=list)
    tokens: list[TokenLogprob] = field(default_factory=list)
    token_count: int = 0
    finish_reason: str | None = None
    seed: int | None = None
    first_at: float | None = None
    last_at: float | None = None
    version: int = 0


@dataclass(frozen=True)
class ChoiceView:
    """A choice as it stood when the snapshot was taken."""

    index: int
    text: str
    tokens: tuple[TokenLogprob, ...]
    token_count: int
    finish_reason: str | None   # the API's, or "stopped" / "error" when the run ended early
    seed: int | None
    ttft: float | None          # seconds from the request to this choice's first token
    tokens_per_s: float | None
    version: int
    done: bool


@dataclass(frozen=True)
class RunView:
    """Everything the page shows about a run, copied out under the lock."""

    status: str
    streaming: bool
    choices: tuple[ChoiceView, ...]
    error: TogetherError | None
    notice: str | None           # e.g. "Rate limited, retrying in 1.0 s…"
    started_wall: float          # time.time() at start, for history
    elapsed: float               # seconds so far, or until the end
    ttft: float | None
    usage: Usage | None
    request_id: str | None
    rate_limits: RateLimits | None
    prompt_text: str | None
    prompt_tokens: tuple[TokenLogprob, ...]
    version: int
    note: str | None = None      # how the choices came, e.g. fetched one by one

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def token_count(self) -> int:
        return sum(c.token_count for c in self.choices)

    @property
    def tokens_per_s(self) -> float | None:
        """Completion tokens over the whole generation time (first token to end)."""
        count = self.usage.completion_tokens if self.usage else self.token_count
        gen_time = self.elapsed - (self.ttft or 0.0)
        if not count or gen_time <= 0:
            return None
        return count / gen_time


class StreamRun(BackgroundRun):
    """Runs ``client.stream(params)`` (or ``complete`` with stream off) on a worker thread.

    ``make_client(**kwargs)`` builds the client (``Connection.client`` fits); the run passes
    its retry hook so waiting between retries is visible on the page.
    """

    def __init__(self, make_client: Callable[..., Any], params: Mapping[str, Any], *,
                 on_finish: Callable[["StreamRun"], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(name="stream-run", on_finish=on_finish, clock=clock)
        self.params = dict(params)
        self.streaming = bool(self.params.get("stream", False))
        self._make_client = make_client
        n = int(ParamSettings(COMPLETIONS, self.params).effective("n"))
        self._choices = [_Choice(i) for i in range(n)]
        self._notice: str | None = None
        self._note: str | None = None
        self._usage: Usage | None = None
        self._request_id: str | None = None
        self._rate_limits: RateLimits | None = None
        self._prompt_text: str | None = None
        self._prompt_tokens: list[TokenLogprob] = []
        self._first_at: float | None = None
        self._events: list[tuple[float, int, str]] = []
        self._stream: Any = None

    def _interrupt(self) -> None:
        """Close the connection now; every choice keeps its text and is marked stopped."""
        with self._cond:
            stream = self._stream
        if stream is not None:
            stream.close()

    def events(self) -> list[tuple[float, int, str]]:
        """The stream as (seconds since start, choice index, text), for history and replay."""
        with self._cond:
            return list(self._events)

    def snapshot(self, with_tokens: bool = True) -> RunView:
        """A consistent copy; ``with_tokens=False`` skips the token lists (cheaper mid-stream)."""
        with self._cond:
            return RunView(
                status=self._status, streaming=self.streaming,
                choices=tuple(self._view(c, with_tokens) for c in self._choices),
                error=self._error, notice=self._notice, started_wall=self.started_wall,
                elapsed=self._elapsed(),
                ttft=None if self._first_at is None else self._first_at - self._started,
                usage=self._usage, request_id=self._request_id,
                rate_limits=self._rate_limits, prompt_text=self._prompt_text,
                prompt_tokens=tuple(self._prompt_tokens) if with_tokens else (),
                version=self._version, note=self._note)

    def _view(self, c: _Choice, with_tokens: bool) -> ChoiceView:
        finish = c.finish_reason
        if finish is None and self._status == STOPPED:
            finish = "stopped"
        elif finish is None and self._status == FAILED:
            finish = "error"
        rate = None
        if c.first_at is not None and c.last_at is not None and c.last_at > c.first_at:
            rate = (c.token_count - 1) / (c.last_at - c.first_at)
        return ChoiceView(
            index=c.index, text="".join(c.parts),
            tokens=tuple(c.tokens) if with_tokens else (), token_count=c.token_count,
            finish_reason=finish, seed=c.seed,
            ttft=None if c.first_at is None else c.first_at - self._started,
            tokens_per_s=rate, version=c.version,
            done=finish is not None or self._status != RUNNING)

    # ------------------------------------------------------------ worker

    def _work(self) -> None:
        client = self._make_client(hooks={"retry": [self._on_retry]})
        if self.streaming:
            self._read_stream(client)
        else:
            self._read_completion(client.complete(self.params))

    def _read_stream(self, client: Any) -> None:
        stream = client.stream(self.params)
        with self._cond:
            self._stream = stream
            stop_now = self._stop_requested
            self._request_id = getattr(stream, "request_id", None)
            self._rate_limits = getattr(stream, "rate_limits", None)
        if stop_now:  # Stop was pressed while the request was being opened
            stream.close()
            return
        for event in stream:
            with self._cond:
                if self._stop_requested:
                    return
                self._add_event(event)
        with self._cond:
            self._request_id = getattr(stream, "request_id", None) or self._request_id
            self._rate_limits = getattr(stream, "rate_limits", None) or self._rate_limits
            self._note = getattr(stream, "note", None)

    def _add_event(self, event: Any) -> None:
        now = self._clock()
        while event.index >= len(self._choices):  # a server sending more than n choices
            self._choices.append(_Choice(len(self._choices)))
        c = self._choices[event.index]
        # A choice's last chunk may carry no text (an end-of-sequence marker): not a token.
        if event.text or (event.token_id is not None and event.finish_reason is None):
            self._events.append((now - self._started, event.index, event.text))
            c.parts.append(event.text)
            c.tokens.append(TokenLogprob(event.text, event.logprob, event.token_id, event.top))
            c.token_count += 1
            if c.first_at is None:
                c.first_at = now
                self._notice = None
            if self._first_at is None:
                self._first_at = now
            c.last_at = now
        if event.finish_reason is not None:
            c.finish_reason = event.finish_reason
        if event.seed is not None:
            c.seed = event.seed
        if event.usage is not None:
            self._usage = event.usage
        c.version += 1
        self._bump(milestone=event.finish_reason is not None)

    def _read_completion(self, completion: Completion) -> None:
        now = self._clock()
        with self._cond:
            if self._stop_requested:
                return
            self._first_at = now
            self._choices = [_Choice(ch.index) for ch in completion.choices]
            for ch, c in zip(completion.choices, self._choices):
                c.parts = [ch.text]
                c.tokens = list(ch.tokens or [])
                c.token_count = len(c.tokens)
                c.finish_reason, c.seed = ch.finish_reason, ch.seed
                c.first_at = c.last_at = now
                c.version += 1
            self._usage = completion.usage
            self._request_id = completion.request_id
            self._rate_limits = completion.rate_limits
            self._prompt_text = completion.prompt_text
            self._prompt_tokens = list(completion.prompt_tokens or [])
            self._note = completion.note
            self._bump()

    def _on_retry(self, attempt: int, delay: float, error: Exception) -> None:
        title = error.title if isinstance(error, TogetherError) else type(error).__name__
        with self._cond:
            self._notice = f"{title}, retrying in {delay:.1f} s (attempt {attempt})…"
            self._bump()

    def _finish(self, status: str) -> None:
        self._notice = None
        super()._finish(status)
