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
import time
from typing import Sequence

import streamlit as st

from lib.text.stream_run import ChoiceView, RunView, StreamRun
from lib.ui.text import shown

# Frames per second by stream speed: a stream at reading speed gets 20, so each token shows
# within ~50 ms; a fast one (a fast model, n > 1) gets 10, which still reads as smooth and
# is where the bytes and CPU would otherwise go. A choice's last token is drawn at once.
FRAME_RATES = ((150, 20), (float("inf"), 10))  # (below tokens/s, frames/s)
FINAL_FRAME_HEADSTART_S = 0.05
HEADER_UPDATES_PER_S = 2   # counts and rates in a card's title: no need to flicker
COMMIT_MIN_CHARS = 200     # a finished line block shorter than this stays in the tail
# While nothing arrives, a "waiting" line is refreshed this often. Streamlit acts on a click
# (Stop included) only when the running script next draws something, so a silent loop
# would leave Stop unanswered until the server sends a byte.
WAIT_SLICE_S = 0.5

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

    def __init__(self, index: int, prefix: str = ""):
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
        self.header_at = 0.0
        self.state: tuple | None = None

    def update(self, c: ChoiceView, running: bool) -> None:
        state = (c.version, c.finish_reason, running)
        if state == self.state:
            return
        self.state = state
        header = f"Choice {c.index} · " + card_caption(c, running)
        now = time.monotonic()
        ended = c.finish_reason is not None or not running
        if header != self.shown_header and (
                ended or now - self.header_at >= 1.0 / HEADER_UPDATES_PER_S):
            self.header.markdown(header)
            self.shown_header, self.header_at = header, now
        text = c.text
        cut = text.rfind("\n", self.committed)
        if cut - self.committed >= COMMIT_MIN_CHARS:
            # The finished lines get their own element (sent once); the tail restarts.
            self._commit(text[self.committed:cut + 1])
            self.committed = cut + 1
        tail = text[self.committed:]
        if tail != self.shown_tail:
            if tail or self.committed:
                self.tail.html(text_html(tail))
            else:
                self.tail.html('<div class="ct ct-wait">waiting for the first token…</div>')
            self.shown_tail = tail

    def _commit(self, block: str) -> None:
        # The tail's element becomes the finished block (sent once); a new tail opens below.
        self.tail.html(text_html(block))
        with self.blocks:
            self.tail = st.empty()
        self.shown_tail = None


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
                        '<div class="ct ct-wait">(no text)</div>')


def frame_interval(tokens: int, seconds: float) -> float:
    """Seconds between frames for a stream that delivered ``tokens`` in ``seconds``."""
    rate = tokens / seconds if seconds > 0 else 0.0
    return 1.0 / next(fps for below, fps in FRAME_RATES if rate < below)


def follow(run: StreamRun, cards: Sequence[ChoiceCard], notice_slot) -> RunView:
    """Render the run until it ends, one frame per ``frame_interval`` at most.

    A frame is drawn as soon as something arrives and the interval has passed, so a slow
    stream shows each token at once and a fast one is batched; a frame is drawn the
    moment a choice or the run ends.
    """
    interval = frame_interval(0, 0.0)
    seen, last_frame, finished = -1, 0.0, 0
    shown_notice: str | None = None
    while True:
        quiet = run.wait_for_change(seen, WAIT_SLICE_S) == seen
        wait = interval - (time.monotonic() - last_frame)
        if wait > 0:  # the end of a choice or of the run is drawn at once, not a frame later
            run.wait_for_end(wait, finished)
        view = run.snapshot(with_tokens=False)
        last_frame = time.monotonic()
        for card, c in zip(cards, view.choices):
            card.update(c, view.running)
        waiting = f"Waiting for the server… {view.elapsed:.1f} s" if quiet else None
        message = view.notice or waiting
        if message != shown_notice:
            if view.notice:
                notice_slot.info(view.notice, icon=":material/hourglass_top:")
            elif waiting:
                notice_slot.caption(waiting)
            else:
                notice_slot.empty()
            shown_notice = message
        seen = view.version
        finished = sum(c.finish_reason is not None for c in view.choices)
        if not view.running:
            # What the page draws next (metrics, board) must not ride in the same batch as
            # the last text: the browser would show that text only once all of it rendered.
            time.sleep(FINAL_FRAME_HEADSTART_S)
            return view
        interval = frame_interval(view.token_count, view.elapsed - (view.ttft or view.elapsed))
