"""Replaying a recorded run: did the re-run say the same thing, and play the stream back.

A seeded run should come back word for word; when it does not, the person wants to see
where it went its own way, so the diff is by words (tokens would be too fine to read,
lines too coarse) and the summary names the first choice and word that differ.
Segments are plain ``(op, text)`` pairs: the page decides how to show them, safely.
"""
from __future__ import annotations

import difflib
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

EQUAL, DELETE, INSERT = "equal", "delete", "insert"  # delete: only recorded; insert: only replayed
Segment = tuple[str, str]
Event = tuple[float, int, str]

# A word with the whitespace after it, or leading whitespace alone: joining gives the text back.
_WORDS = re.compile(r"\S+\s*|\s+")


class ReplayError(ValueError):
    """The run cannot be re-run as it was; the message says why."""


@dataclass
class ReplayRequest:
    """One request of a replay, and which recorded choices its choices stand for, in order."""

    body: dict[str, Any]
    choices: list[int]


@dataclass
class ReplayPlan:
    """What to send to re-run a recorded completion, choice by choice."""

    recorded: list[str]       # the recorded texts, by choice index
    requests: list[ReplayRequest]
    unreproducible: list[int]  # choices nothing can reproduce (no seed, temperature above 0)

    @property
    def seeds(self) -> list[int]:
        return [r.body["seed"] for r in self.requests if r.body.get("seed") is not None]

    def replayed(self, texts: Sequence[Sequence[str]]) -> list[str]:
        """The replayed text of each recorded choice, from each request's choices' texts."""
        out = [""] * len(self.recorded)
        for request, got in zip(self.requests, texts):
            for position, index in enumerate(request.choices):
                out[index] = _at(got, position)
        return out


def replay_plan(request: Mapping[str, Any], outputs: Sequence[Mapping[str, Any]]
                ) -> ReplayPlan:
    """The requests that reproduce a recorded run, each choice with what produced it.

    A run sent with a seed is re-sent as it was. Without one, each choice of the run got
    its own server-drawn seed: resending the first for all of them would make choice 2 a
    copy of choice 1, so each choice is re-sent alone (n=1) with the seed reported for it.
    A choice with no reported seed is reproducible only when greedy (temperature 0).
    """
    ordered = sorted(outputs, key=lambda o: o.get("index", 0))
    recorded = [str(o.get("text") or "") for o in ordered]
    if request.get("seed") is not None:
        return ReplayPlan(recorded, [ReplayRequest(dict(request), list(range(len(ordered))))],
                          [])
    greedy = request.get("temperature") == 0
    requests, unreproducible = [], []
    for index, output in enumerate(ordered):
        seed = output.get("seed")
        if seed is None and not greedy:
            unreproducible.append(index)
            continue
        body = {**request, "n": 1}
        if seed is not None:
            body["seed"] = seed
        requests.append(ReplayRequest(body, [index]))
    if not requests:
        raise ReplayError("This run has no recorded seed (the server did not report "
                          "one), so a re-run could not reproduce it.")
    return ReplayPlan(recorded, requests, unreproducible)


@dataclass
class ChoiceDiff:
    index: int                 # 0-based, as in the API's choices
    identical: bool
    segments: list[Segment]    # EQUAL + DELETE rebuild the recorded text, EQUAL + INSERT the replay
    diverges_at: int | None    # 1-based number of the first differing word, None if identical
    reproducible: bool = True  # False: nothing was re-run for it, so no verdict either way


@dataclass
class ReplayVerdict:
    identical: bool
    choices: list[ChoiceDiff]
    summary: str


def compare_outputs(recorded: Sequence[str], replayed: Sequence[str],
                    unreproducible: Iterable[int] = ()) -> ReplayVerdict:
    """Choice by choice, word by word; a choice missing on either side counts as empty.

    ``unreproducible`` choices get no verdict: the summary says they could not be re-run
    instead of calling them different.
    """
    skipped = set(unreproducible)
    count = max(len(recorded), len(replayed))
    choices = [ChoiceDiff(i, False, [], None, reproducible=False) if i in skipped
               else diff_choice(i, _at(recorded, i), _at(replayed, i)) for i in range(count)]
    judged = [c for c in choices if c.reproducible]
    summary = _summary(judged, len(recorded), len(replayed)) + _unreproducible_note(skipped)
    return ReplayVerdict(all(c.identical for c in judged), choices, summary)


def diff_choice(index: int, recorded: str, replayed: str) -> ChoiceDiff:
    if recorded == replayed:
        return ChoiceDiff(index, True, [(EQUAL, recorded)] if recorded else [], None)
    old, new = _WORDS.findall(recorded), _WORDS.findall(replayed)
    # autojunk treats words filling over 1% of a long text ("the ") as noise; words matter here.
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _append(segments, EQUAL, old[i1:i2])
        else:  # "replace" shows as what was removed, then what came instead
            _append(segments, DELETE, old[i1:i2])
            _append(segments, INSERT, new[j1:j2])
    return ChoiceDiff(index, False, segments, _first_difference(old, new))


def paced_events(events: Iterable[Sequence], speed: float = 1.0, *,
                 max_gap: float | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> Iterator[Event]:
    """Yield recorded ``(t_offset, index, text)`` events at their recorded pace.

    ``speed`` 2 plays twice as fast; ``max_gap`` shortens long recorded pauses (a slow
    first token, a stall) to at most that many seconds. Waits are measured from the
    start, not between events, so a slow consumer catches up instead of drifting.
    """
    if not speed > 0:
        raise ValueError(f"speed must be a number above 0, got {speed!r}")
    if max_gap is not None and not max_gap >= 0:
        raise ValueError(f"max_gap must be 0 or more seconds, got {max_gap!r}")
    start = clock()
    played = 0.0    # seconds of (gap-shortened) recording up to the current event
    previous = 0.0  # the latest recorded offset seen
    for t, index, text in events:
        t = float(t) if math.isfinite(float(t)) else previous
        gap = max(0.0, t - previous)
        played += gap if max_gap is None else min(gap, max_gap)
        previous = max(previous, t)
        delay = start + played / speed - clock()
        if delay > 0:
            sleep(delay)
        yield (t, int(index), str(text))


# ---------------------------------------------------------------- helpers

def _at(texts: Sequence[str], i: int) -> str:
    return texts[i] if i < len(texts) else ""


def _append(segments: list[Segment], op: str, words: list[str]) -> None:
    if not words:
        return
    text = "".join(words)
    if segments and segments[-1][0] == op:
        segments[-1] = (op, segments[-1][1] + text)
    else:
        segments.append((op, text))


def _first_difference(old: list[str], new: list[str]) -> int:
    """1-based number of the first word that differs or sits elsewhere.

    Tokens carry their trailing space, so "end" and "end " are the same word followed by
    different things: the difference then starts at the next word.
    """
    same = 0
    for a, b in zip(old, new):
        if a != b:
            break
        same += 1
    words_before = sum(1 for w in old[:same] if not w.isspace())
    if same < min(len(old), len(new)) and old[same].strip() == new[same].strip() != "":
        return words_before + 2
    return words_before + 1


def _unreproducible_note(skipped: set[int]) -> str:
    if not skipped:
        return ""
    numbers = ", ".join(str(i + 1) for i in sorted(skipped))
    return (f"; {_plural(len(skipped))} {numbers} cannot be reproduced (no seed was "
            "reported and temperature is above 0)")


def _summary(choices: list[ChoiceDiff], n_recorded: int, n_replayed: int) -> str:
    total = len(choices)
    if all(c.identical for c in choices):
        return f"identical: {total} of {total} {_plural(total)} match"
    differing = [c for c in choices if not c.identical]
    first = differing[0]
    number = first.index + 1
    if number > n_replayed:
        what = f"choice {number} is missing from the replay"
    elif number > n_recorded:
        what = f"choice {number} was not in the recorded run"
    else:
        what = f"choice {number} diverges at word {first.diverges_at}"
    more = f" ({len(differing)} of {total} {_plural(total)} differ)" if len(differing) > 1 else ""
    return f"differs: {what}{more}"


def _plural(n: int) -> str:
    return "choice" if n == 1 else "choices"
