"""Graders: checks on a cell's output, chosen from a list, never code typed by the user.

Each grader is plain data (a kind and its arguments), so a lab can be saved, shared and
restored, and grading is a pure function of the output: the same output always gets the
same grade. Regular expressions are the one place user text could run away (a pattern
like ``(a+)+b`` takes exponential time on a plain ``re``); they run in a child process
with a time limit (``REGEX_TIMEOUT_S``) over output cut to ``REGEX_MAX_CHARS``, so a
catastrophic pattern is reported as too slow and never hangs the page.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from lib.api.quoting import short_repr

CONTAINS, NOT_CONTAINS, REGEX, EQUALS, MAX_WORDS, MAX_TOKENS, IS_JSON, LOGPROB = (
    "contains", "not_contains", "regex", "equals", "max_words", "max_tokens", "json",
    "logprob")
TITLES = {CONTAINS: "contains", NOT_CONTAINS: "does not contain", REGEX: "matches regex",
          EQUALS: "equals expected", MAX_WORDS: "at most N words",
          MAX_TOKENS: "at most N tokens", IS_JSON: "parses as JSON",
          LOGPROB: "mean logprob at least"}
KINDS = tuple(TITLES)
MAX_GRADERS = 8
MAX_ARG_CHARS = 500
REGEX_TIMEOUT_S = 2.0
REGEX_MAX_CHARS = 20_000
REGEX_CACHE_SIZE = 4096   # (pattern, text) verdicts kept, so a redrawn grid spawns nothing
_CHILD = ("import json,re,sys\n"
          "d=json.load(sys.stdin);p=re.compile(d['p'])\n"
          "json.dump([p.search(t) is not None for t in d['t']],sys.stdout)")


class GraderError(ValueError):
    """A grader that cannot be used; the message names it and what is allowed."""


@dataclass(frozen=True)
class Grader:
    """``kind`` and its argument: the text or pattern (contains, regex), a column to take
    the text from instead (contains), a number (max words/tokens, logprob), or whether
    ``equals`` is loose (trimmed and case-folded)."""

    kind: str
    text: str = ""
    column: str = ""
    number: float = 0.0
    loose: bool = False

    @property
    def asks_logprobs(self) -> bool:
        return self.kind == LOGPROB

    def label(self) -> str:
        """A short name for a column header, e.g. ``contains "Paris"``."""
        title = TITLES.get(self.kind, self.kind)
        if self.kind in (CONTAINS, NOT_CONTAINS):
            return f"{title} {{{self.column}}}" if self.column else f"{title} {json.dumps(self.text)}"
        if self.kind == REGEX:
            return f"{title} /{self.text}/"
        if self.kind == EQUALS:
            return title + (" (loose)" if self.loose else "")
        if self.kind in (MAX_WORDS, MAX_TOKENS):
            return title.replace("N", f"{int(self.number)}")
        if self.kind == LOGPROB:
            return f"{title} {self.number:g}"
        return title

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Grade:
    passed: bool
    note: str = ""   # why it failed, when that is worth saying


@dataclass(frozen=True)
class Output:
    """What a grader sees of a finished cell: its text, its input row and its counts."""

    text: str
    row: Mapping[str, str]
    tokens: int | None = None
    mean_logprob: float | None = None


def from_json(raw: Any, columns: Sequence[str]) -> Grader:
    """A grader from saved or linked data, checked; GraderError naming what is wrong."""
    if not isinstance(raw, dict):
        raise GraderError(f"A grader must be an object, got {short_repr(raw)}.")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise GraderError(f"Unknown grader {short_repr(kind)}; graders: {', '.join(KINDS)}.")
    text, column = raw.get("text", ""), raw.get("column", "")
    number, loose = raw.get("number", 0.0), raw.get("loose", False)
    if not isinstance(text, str) or not isinstance(column, str) or not isinstance(loose, bool):
        raise GraderError(f"Grader {kind}: text and column must be text, loose true or false.")
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise GraderError(f"Grader {kind}: the number must be a number, got "
                          f"{short_repr(number)}.")
    return check(Grader(kind, text, column, float(number), loose), columns)


def check(g: Grader, columns: Sequence[str]) -> Grader:
    """``g`` if it can run against a table with ``columns``; GraderError otherwise."""
    name = TITLES.get(g.kind, g.kind)
    if len(g.text) > MAX_ARG_CHARS:
        raise GraderError(f"Grader “{name}”: at most {MAX_ARG_CHARS} characters of text.")
    if g.kind in (CONTAINS, NOT_CONTAINS):
        if g.column and g.column not in columns:
            raise GraderError(f"Grader “{name}”: no column {g.column!r}; columns: "
                              f"{', '.join(columns) or 'none'}.")
        if not g.column and not g.text:
            raise GraderError(f"Grader “{name}”: give the text to look for, or a column.")
    if g.kind == REGEX:
        if not g.text:
            raise GraderError("Grader “matches regex”: give a pattern.")
        try:
            re.compile(g.text)
        except re.error as exc:
            raise GraderError(f"Grader “matches regex”: the pattern is not a regular "
                              f"expression ({exc}).") from None
    if g.kind == EQUALS and "expected" not in columns:
        raise GraderError("Grader “equals expected”: the inputs have no expected column.")
    if g.kind in (MAX_WORDS, MAX_TOKENS) and not (g.number >= 0 and float(g.number).is_integer()):
        raise GraderError(f"Grader “{name}”: N must be a whole number ≥ 0, got {g.number:g}.")
    if g.kind == LOGPROB and not -100 <= g.number <= 0:
        raise GraderError(f"Grader “{name}”: X is a log probability between -100 and 0, "
                          f"got {g.number:g}.")
    return g


def grade_all(graders: Sequence[Grader], outputs: Sequence[Output]) -> list[list[Grade]]:
    """Every grader on every output (one list per output): each regex runs once over all
    the outputs in one child process."""
    for g in graders:
        if g.kind == REGEX:
            regex_grades(g.text, [o.text for o in outputs])
    return [[grade(g, o) for g in graders] for o in outputs]


def grade(g: Grader, out: Output) -> Grade:
    """One grader on one finished cell."""
    text, row, tokens, mean_logprob = out.text, out.row, out.tokens, out.mean_logprob
    if g.kind in (CONTAINS, NOT_CONTAINS):
        needle = row.get(g.column, "") if g.column else g.text
        found = needle in text
        return Grade(found if g.kind == CONTAINS else not found)
    if g.kind == REGEX:
        return regex_grades(g.text, [text])[0]
    if g.kind == EQUALS:
        want = row.get("expected", "")
        same = (text.strip().casefold() == want.strip().casefold()) if g.loose else text == want
        return Grade(same)
    if g.kind == MAX_WORDS:
        words = len(text.split())
        return Grade(words <= g.number, f"{words} words")
    if g.kind == MAX_TOKENS:
        if tokens is None:
            return Grade(False, "no token count")
        return Grade(tokens <= g.number, f"{tokens} tokens")
    if g.kind == IS_JSON:
        try:
            json.loads(text)
        except ValueError as exc:
            return Grade(False, f"not JSON: {exc}")
        return Grade(True)
    if mean_logprob is None:
        return Grade(False, "no logprobs came back")
    return Grade(mean_logprob >= g.number, f"mean logprob {mean_logprob:.3f}")


_cache: OrderedDict[tuple[str, str], Grade] = OrderedDict()
_cache_lock = threading.Lock()


def regex_grades(pattern: str, texts: Sequence[str]) -> list[Grade]:
    """Whether ``pattern`` is found in each text; texts seen before answer from a cache
    (a pattern that timed out on a text is not tried on it again)."""
    cut = [t[:REGEX_MAX_CHARS] for t in texts]
    with _cache_lock:
        known = {t: _cache[(pattern, t)] for t in cut if (pattern, t) in _cache}
    missing = [t for t in dict.fromkeys(cut) if t not in known]
    if missing:
        fresh = dict(zip(missing, _run_regex(pattern, missing)))
        known.update(fresh)
        with _cache_lock:
            for t, g in fresh.items():
                _cache[(pattern, t)] = g
            while len(_cache) > REGEX_CACHE_SIZE:
                _cache.popitem(last=False)
    return [known[t] for t in cut]


def _run_regex(pattern: str, texts: Sequence[str]) -> list[Grade]:
    """The search in a child process within ``REGEX_TIMEOUT_S``; every text fails with the
    reason when the time runs out (the child is killed)."""
    doc = json.dumps({"p": pattern, "t": list(texts)})
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _CHILD], input=doc,
                              capture_output=True, text=True, timeout=REGEX_TIMEOUT_S,
                              check=True)
        found = json.loads(done.stdout)
    except subprocess.TimeoutExpired:
        note = (f"the pattern ran over {REGEX_TIMEOUT_S:g} s and was stopped (nested "
                "quantifiers like (a+)+ can take forever)")
        return [Grade(False, note) for _ in texts]
    except (subprocess.CalledProcessError, ValueError) as exc:
        return [Grade(False, f"the pattern could not be run: {exc}") for _ in texts]
    return [Grade(bool(f)) for f in found]
