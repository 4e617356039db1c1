"""The n-samples board: rank the choices of one request and show where they part ways.

Ranking by mean logprob is length-fair (a sum would favour short answers); without
logprobs only length is available. Divergence is word-level against the best-ranked
choice, because a reader compares words, not characters or tokens.
"""
from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import Sequence

from lib.api.results import TokenLogprob
from lib.text.token_table import mean_logprob

BY_LIKELIHOOD, BY_LENGTH, BY_INDEX = "mean logprob", "length", "index"
SORT_KEYS = (BY_LIKELIHOOD, BY_LENGTH, BY_INDEX)

_WORDS = re.compile(r"\s+|\S+")  # words and the whitespace between them, so joins are exact


@dataclass(frozen=True)
class Entry:
    """One choice as the board sees it."""

    index: int
    text: str
    tokens: Sequence[TokenLogprob] = ()
    finish_reason: str | None = None

    @property
    def mean_logprob(self) -> float | None:
        return mean_logprob(self.tokens)


@dataclass(frozen=True)
class Segment:
    text: str
    shared: bool     # also in the reference choice, at the matching place


def rank(entries: Sequence[Entry], by: str = BY_LIKELIHOOD) -> list[Entry]:
    """Best first. Choices without logprobs sort after those with them, by index."""
    if by == BY_LIKELIHOOD:
        return sorted(entries, key=lambda e: (e.mean_logprob is None,
                                              -(e.mean_logprob or 0.0), e.index))
    if by == BY_LENGTH:
        return sorted(entries, key=lambda e: (-len(e.text), e.index))
    if by == BY_INDEX:
        return sorted(entries, key=lambda e: e.index)
    raise ValueError(f"sort key must be one of {', '.join(SORT_KEYS)}, got {by!r}")


def reference(entries: Sequence[Entry]) -> Entry | None:
    """The choice others are compared with: the most likely, else choice 0."""
    if not entries:
        return None
    return rank(entries, BY_LIKELIHOOD)[0]


def segments(reference_text: str, text: str) -> list[Segment]:
    """``text`` split into runs shared with the reference and runs that differ."""
    ref_words, words = _WORDS.findall(reference_text), _WORDS.findall(text)
    matcher = difflib.SequenceMatcher(a=ref_words, b=words, autojunk=False)
    out: list[Segment] = []
    for op, _, _, j1, j2 in matcher.get_opcodes():
        piece = "".join(words[j1:j2])
        if not piece:
            continue
        shared = op == "equal"
        if out and out[-1].shared == shared:
            out[-1] = Segment(out[-1].text + piece, shared)
        else:
            out.append(Segment(piece, shared))
    return out


def first_divergence(reference_text: str, text: str) -> int | None:
    """How many words the two share from the start; None when they are identical."""
    ref_words, words = reference_text.split(), text.split()
    if ref_words == words:
        return None
    for i, (a, b) in enumerate(zip(ref_words, words)):
        if a != b:
            return i
    return min(len(ref_words), len(words))


def divergence_label(ref: Entry, entry: Entry) -> str:
    """The board's "diverges at word" cell, always text (a column of one type for Arrow)."""
    if entry is ref:
        return "reference"
    at = first_divergence(ref.text, entry.text)
    return "identical" if at is None else str(at)


def board_rows(ranked: Sequence[Entry], ref: Entry) -> list[dict[str, object]]:
    """The board's table rows: each column holds one type (numbers or text), never both."""
    return [{"choice": e.index, "mean logprob": e.mean_logprob, "characters": len(e.text),
             "finish": e.finish_reason or "—", "diverges at word": divergence_label(ref, e)}
            for e in ranked]


def diff_html(parts: Sequence[Segment]) -> str:
    """Escaped HTML: shared runs dimmed, differing runs highlighted."""
    spans = [f'<span class="cb-same">{html.escape(s.text)}</span>' if s.shared
             else f'<mark class="cb-diff">{html.escape(s.text)}</mark>' for s in parts]
    return (f"{_STYLE}<div class=\"cb\">{''.join(spans)}</div>")


_STYLE = """<style>
.cb{white-space:pre-wrap;word-break:break-word;font-size:0.9rem;line-height:1.6}
.cb-same{opacity:0.55}
.cb-diff{background:rgba(255,196,0,0.35);color:inherit;border-radius:3px;padding:0 1px}
</style>"""
