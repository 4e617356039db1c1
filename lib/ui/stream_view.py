"""Cards for the choices of a run, updated from a ``StreamRun`` at a bounded rate.

Cost model (streamlit notes §3a): every update of an element re-sends and re-renders its
whole content, so a per-token ``write_stream`` is O(n²) in bytes and burns a browser core.
Here each card is updated at most 10-20 times a second (fewer the faster the stream),
only when its text changed, and text up to a line break is moved into its own element once
it is long enough, so an update re-sends only the short growing tail.

Model output is shown as *text*: it is HTML-escaped into a ``pre-wrap`` block (``st.text``
would dedent and strip it), and ``st.html`` sanitises it again.
"""
from __future__ import annotations

import html
import threading
import time
from typing import Any, Callable, Mapping, Sequence

import streamlit as st

from lib.background import BackgroundRun
from lib.connection import Connection
from lib.saved.history import HistoryError, Run
from lib.api.results import ModelInfo
from lib.saved.recorder import Finished, Recorder
from lib.text import record as completion_record
from lib.text.stream_run import ChoiceView, RunView, StreamRun
from lib.ui import account, alerts
from lib.ui.text import shown

# Frames per second by stream speed. Each frame costs the server a Streamlit delta per
# changed element (the floor of its CPU per stream). A stream at reading speed (20 to 150
# tokens/s) gets 15: a token still shows within ~70 ms (issue 3 wants the p95 token-to-
# screen under 100 ms at 50 tok/s; 10 frames/s measured 121 ms) at three quarters of the
# deltas of 20 (issue 14). A slower one gets 20, which costs nothing more (it has fewer
# tokens than frames) and shows each token at once; a fast one (a fast model, n > 1) gets
# 10, which still reads as smooth. A choice's last token is drawn at once.
FRAME_RATES = ((20, 20), (150, 15), (float("inf"), 10))  # (below tokens/s, frames/s)
# A card's header (token count, tok/s) is redrawn at most this often while only its
# numbers change: redrawn with every frame it doubled the deltas of a stream.
HEADER_INTERVAL_S = 1.0
FINAL_FRAME_HEADSTART_S = 0.05
COMMIT_MIN_CHARS = 200     # a finished line block shorter than this stays in the tail
# While nothing arrives, a "waiting" line is refreshed this often. Streamlit acts on a click
# (Stop included) only when the running script next draws something, so a silent loop
# would leave Stop unanswered until the server sends a byte.
WAIT_SLICE_S = 0.5
# How long the page waits for an ended run's record (see _settle).
ENDED_SETTLE_S, STOPPED_SETTLE_S = 15.0, 1.0

CSS = """<style>
[class*="choice-"][class*="-text"][data-testid="stVerticalBlock"]{gap:0 !important}
.ct{white-space:pre-wrap;word-break:break-word;font-size:1rem;line-height:1.6;margin:0}
.ct-wait{opacity:.5;font-style:italic}
</style>"""


def text_html(text: str) -> str:
    """Model text as an escaped, whitespace-preserving block; nothing in it can become markup."""
    return f'<div class="ct">{html.escape(text, quote=True)}</div>'


def columns_for(n: int) -> int:
    return 1 if n == 1 else 2 if n <= 4 else 3


def empty_note(c: ChoiceView, running: bool, error: str | None = None) -> str:
    """What a card without text says: waiting while it may still come, else why none came."""
    if running and not c.done:
        return "waiting for the first token…"
    if c.finish_reason == "error":
        return f"Failed before any text: {error}" if error else "Failed before any text"
    if c.finish_reason == "stopped":
        return "Stopped before any text"
    return f"Finished with no text (finish reason {c.finish_reason or 'none given'})"


def note_html(note: str) -> str:
    return f'<div class="ct ct-wait">{html.escape(note, quote=True)}</div>'


def card_caption(c: ChoiceView, running: bool) -> str:
    """One line under a choice's title: finish reason, seed, tokens, TTFT, tokens/s."""
    state = c.finish_reason or ("streaming…" if running else "—")
    parts = [f"**{shown(state)}**"]
    if c.seed is not None:
        parts.append(f"seed {shown(c.seed)}")
    parts.append(f"{c.token_count} tokens")
    if c.ttft is not None:
        parts.append(f"TTFT {c.ttft * 1000:.0f} ms")
    if c.tokens_per_s is not None:
        parts.append(f"{c.tokens_per_s:.0f} tok/s")
    return " · ".join(parts)


class ChoiceCard:
    """The slots of one choice's card, drawn once per script run and then updated."""

    def __init__(self, index: int, prefix: str = "",
                 clock: Callable[[], float] = time.monotonic):
        # ``prefix`` keeps element keys unique when several runs share a page (Compare).
        self.box = st.container(key=f"{prefix}choice-{index}", border=True)
        with self.box:
            self.header = st.empty()
            self.blocks = st.container(key=f"{prefix}choice-{index}-text")
        with self.blocks:
            self.tail = st.empty()
        self.committed = 0        # characters already shown in committed blocks
        self.shown_tail: str | None = None
        self.shown_header: str | None = None
        self.header_state: tuple | None = None
        self.header_at = 0.0
        self.clock = clock
        self.state: tuple | None = None

    def update(self, c: ChoiceView, running: bool, error: str | None = None) -> None:
        """Draw what changed; ``error`` is the run's failure, said on a card left empty."""
        state = (c.version, c.finish_reason, running)
        if state == self.state:
            return
        self.state = state
        self._draw_header(c, running)
        text = c.text
        cut = text.rfind("\n", self.committed)
        if cut - self.committed >= COMMIT_MIN_CHARS:
            # The finished lines get their own element (sent once); the tail restarts.
            self._commit(text[self.committed:cut + 1])
            self.committed = cut + 1
        tail = text[self.committed:]
        markup = (text_html(tail) if tail or self.committed
                  else note_html(empty_note(c, running, error)))
        if markup != self.shown_tail:
            self.tail.html(markup)
            self.shown_tail = markup

    def _draw_header(self, c: ChoiceView, running: bool) -> None:
        """Redraw the header in the same frame as the body when the choice's state changes
        or its first text comes (a header held back said "streaming… · 0 tokens" over text
        already shown), else only every ``HEADER_INTERVAL_S``: just its numbers moved."""
        header_state = (c.finish_reason, running, c.token_count > 0)
        now = self.clock()
        if header_state == self.header_state and now - self.header_at < HEADER_INTERVAL_S:
            return
        header = f"Choice {c.index} · " + card_caption(c, running)
        if header != self.shown_header:
            self.header.markdown(header)
            self.shown_header = header
        self.header_state, self.header_at = header_state, now

    def _commit(self, block: str) -> None:
        # The tail's element becomes the finished block (sent once); a new tail opens below.
        self.tail.html(text_html(block))
        with self.blocks:
            self.tail = st.empty()
        self.shown_tail = None


def pressed(key: str) -> bool:
    """Whether the start button ``key`` was clicked (once: the flag is consumed).

    Read before ``action_button`` draws the button, so the very run it starts shows Stop.
    A click on Stop also makes the widget's value True; only the start callback sets this.
    """
    return bool(st.session_state.pop(f"{key}:go", False))


def _press(key: str) -> None:
    st.session_state[f"{key}:go"] = True


def action_button(key: str, label: str, stop: Callable[[], None] | None, running: bool, *,
                  shortcut: str | None = None, disabled: bool = False,
                  width: str = "content",
                  stop_help: str = "Close the connection now; the text so far is kept.") -> None:
    """Start (``label``), or Stop while running: one widget in one place.

    Both are the same widget (one key), so the browser turns one into the other in place
    and the layout below does not move; two keys left a faded start button under Stop
    until the run ended. ``stop`` is what Stop calls; ``shortcut`` is Stop's key.
    ``stop_help`` is said by the start button's tooltip, not Stop's: the pointer is still on
    the button when it turns into Stop, and Stop's tooltip popped up over the prompt.
    """
    if running:
        st.button("Stop", key=key, type="primary", on_click=stop, shortcut=shortcut,
                  width=width)
    else:
        st.button(label, key=key, type="primary", on_click=_press, args=(key,),
                  disabled=disabled, width=width, help=f"While it runs, Stop: {stop_help}")


def draw_cards(n: int, prefix: str = "") -> list[ChoiceCard]:
    st.html(CSS)
    cols = st.columns(columns_for(n)) if n > 1 else [st.container()]
    cards = []
    for i in range(n):
        with cols[i % len(cols)]:
            cards.append(ChoiceCard(i, prefix))
    return cards


def show_finished(view: RunView, prefix: str = "") -> None:
    """A finished run: each card drawn once, whole."""
    st.html(CSS)
    cols = st.columns(columns_for(len(view.choices))) if len(view.choices) > 1 else [st.container()]
    for c in view.choices:
        with cols[c.index % len(cols)]:
            with st.container(key=f"{prefix}choice-{c.index}", border=True):
                st.markdown(f"Choice {c.index} · " + card_caption(c, False))
                st.html(text_html(c.text) if c.text else
                        note_html(empty_note(c, False, error_text(view))))


def frame_interval(tokens: int, seconds: float) -> float:
    """Seconds between frames for a stream that delivered ``tokens`` in ``seconds``."""
    rate = tokens / seconds if seconds > 0 else 0.0
    return 1.0 / next(fps for below, fps in FRAME_RATES if rate < below)


def error_text(view: RunView) -> str | None:
    return view.error.describe() if view.error is not None else None


Frame = Callable[[bool], float]


def follow(runs: Sequence[BackgroundRun], frame: Frame) -> None:
    """Draw frames of ``runs`` until all have ended, sleeping on their changes, never polling.

    ``frame(quiet)`` draws one frame and returns the seconds to leave before the next
    (the renderer's frame rate); ``quiet`` says nothing arrived for ``WAIT_SLICE_S``. A
    frame is drawn as soon as something arrives and that interval has passed, so a slow
    run shows each change at once and a fast one is batched; a frame is drawn the moment
    something ends. While nothing arrives, a quiet frame every ``WAIT_SLICE_S`` gives
    Streamlit its chance to act on a click.
    """
    changed, ended = threading.Event(), threading.Event()
    for run in runs:
        run.watch(changed, ended)
    try:
        interval, last_frame = 0.0, 0.0
        while True:
            quiet = not changed.wait(WAIT_SLICE_S)
            wait = interval - (time.monotonic() - last_frame)
            if wait > 0:  # the end of something is drawn at once, not a frame later
                ended.wait(wait)
            changed.clear()
            ended.clear()
            over = not any(run.running for run in runs)
            last_frame = time.monotonic()
            interval = frame(quiet)
            if over:
                _settle(runs)
                return
    finally:
        for run in runs:
            run.unwatch(changed)


def _settle(runs: Sequence[BackgroundRun]) -> None:
    """Wait for each ended run's worker to exit, so its ``on_finish`` (the history record)
    is written before the page goes on: a History or a playback list drawn right after
    the run would otherwise still read it as interrupted. A run that ended by itself has
    only its record left to write (bounded by the history's own lock timeout); a stopped
    one gets ``STOPPED_SETTLE_S``, so a worker stuck in a silent socket does not hold the
    page."""
    for run in runs:
        run.join(STOPPED_SETTLE_S if run.stopped else ENDED_SETTLE_S)


def follow_cards(run: StreamRun, cards: Sequence[ChoiceCard], notice_slot) -> RunView:
    """Follow one stream into its cards and notice line; returns the run as it ended."""
    last: list[RunView] = []
    shown_notice: list[str | None] = [None]

    def frame(quiet: bool) -> float:
        view = run.snapshot(with_tokens=False)
        for card, c in zip(cards, view.choices):
            card.update(c, view.running, error_text(view))
        waiting = f"Waiting for the server… {view.elapsed:.1f} s" if quiet else None
        message = view.notice or waiting
        if message != shown_notice[0]:
            if view.notice:
                notice_slot.info(view.notice, icon=":material/hourglass_top:")
            elif waiting:
                notice_slot.caption(waiting)
            else:
                notice_slot.empty()
            shown_notice[0] = message
        last[:] = [view]
        return frame_interval(view.token_count, view.elapsed - (view.ttft or view.elapsed))

    follow([run], frame)
    # What the page draws next (metrics, board) must not ride in the same batch as the
    # last text: the browser would show that text only once all of it rendered.
    time.sleep(FINAL_FRAME_HEADSTART_S)
    return last[-1]


def record_run(conn: Connection, page: str, request: Mapping[str, Any],
               finished: Callable[[Any], Finished],
               metrics: Mapping[str, Any] | None = None) -> Callable[[Any], None] | None:
    """Record a run in this session's history now; return the ``on_finish`` that completes
    the record with ``finished(run)``, or None (and say so) when the history is unusable.

    Every kind of run (stream, compare column, presenter scene, sweep, image batch) is
    recorded through here, so the row always starts and ends the same way.
    """
    entry = Run(page=page, model=str(request.get("model", "")), request=dict(request),
                provider=conn.provider, base_url=conn.base_url, metrics=dict(metrics or {}))
    try:
        recorder = Recorder(account.history_store(), entry, conn.api_key)
    except HistoryError as exc:
        alerts.warning(f"This run will not be kept in the history: {exc}")
        return None
    return lambda run: recorder.finish(finished(run))


def record_completion(conn: Connection, page: str, body: Mapping[str, Any],
                      model: ModelInfo | None) -> Callable[[Any], None] | None:
    """Record a completion run (Completions, a Compare column, a Presenter scene) under
    ``page``; ``model`` is its listing entry, for the cost."""
    return record_run(conn, page, body, lambda run: completion_record.finished(run, model))
