"""Text X/Y sweeps: one prompt, one or two parameters varied, a labelled grid of completions.

The image sweep's idea (A1111's X/Y plot) for text: every (row, column) pair is one
non-streamed request with ``logprobs=1``, so each cell can show how likely its own text
was (mean logprob) beside finish reason, token count and latency. Everything not on an
axis is held fixed, the seed included (drawn once when random), so differences between
cells come from the axis values alone.

Values are typed as ``0.2, 0.7, 1.2`` or as a range ``0 to 1 (+0.25)`` (``to`` rather
than A1111's ``-``, because penalties run negative). The cost shown before running is an
upper bound: prompt tokens are estimated from characters, completions at ``max_tokens``.
Cells run on a bounded pool in the background, so a page rerun loses nothing; a failed
cell keeps its error and the others go on.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

from lib import catalogue
from lib.api.errors import TogetherError
from lib.api.redact import redact
from lib.api.results import ModelInfo
from lib.background import BackgroundRun
from lib.catalogue import COMPLETIONS
from lib.saved.recorder import Finished
from lib.sweep_grid import GridPlan, SweepCell, SweepError, range_steps

SWEEPABLE = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty",
             "presence_penalty", "frequency_penalty", "seed", "model", "max_tokens")
MAX_VALUES = 12          # per axis
MAX_REQUESTS = 64
CONFIRM_ABOVE = 12       # requests; more need an explicit confirm on the page
MAX_WORKERS = 4          # concurrent requests: polite to a rate limit, quick enough
CHARS_PER_TOKEN = 4      # a rough English average, for the estimate only
RANDOM_SEED_MAX = 2**31 - 1

_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s+to\s+({_NUMBER})\s*(?:\(\s*\+\s*(\d+(?:\.\d+)?)\s*\))?\s*$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Axis:
    name: str                 # the request field varied
    values: tuple[Any, ...]

    @property
    def title(self) -> str:
        return COMPLETIONS[self.name].title

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label(v) for v in self.values)


def label(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def parse_axis(name: str, text: str) -> Axis:
    """The checked values of one axis from what the user typed; SweepError if any is bad."""
    if name not in SWEEPABLE:
        raise SweepError(f"A sweep can vary {', '.join(SWEEPABLE)}; not {name!r}")
    title = COMPLETIONS[name].title
    rows = list(csv.reader([" ".join(text.splitlines())], skipinitialspace=True))
    raw = [v.strip() for v in (rows[0] if rows else []) if v.strip()]
    if name != "model":
        raw = [v for item in raw for v in _expand(title, item)]
    if not raw:
        raise SweepError(f"{title}: enter at least one value")
    if len(raw) > MAX_VALUES:
        raise SweepError(f"{title}: at most {MAX_VALUES} values, got {len(raw)}")
    values = []
    for item in raw:
        try:
            values.append(catalogue.check(COMPLETIONS[name], item))
        except ValueError as exc:
            raise SweepError(f"{title}: {exc}") from None
    if name == "seed" and None in values:
        raise SweepError(f"{title}: every value must be a number")
    return Axis(name, tuple(values))


def _expand(title: str, item: str) -> list[str]:
    match = _RANGE.match(item)
    if not match:
        return [item]
    return [label(x) for x in range_steps(title, match, item, MAX_VALUES)]


# ---------------------------------------------------------------- planning

@dataclass(frozen=True)
class Plan(GridPlan):
    """Every request of a text sweep, rows (the Y axis) by columns (the X axis)."""

    base: dict[str, Any] = field(default_factory=dict)

    confirm_above: ClassVar[int] = CONFIRM_ABOVE

    def describe(self) -> str:
        n = self.request_count
        shape = f"{self.rows} × {self.cols} = " if self.y else ""
        return f"{shape}{n} request{'s' if n != 1 else ''}"


def plan(base: Mapping[str, Any], x: Axis, y: Axis | None = None,
         draw_seed: Callable[[], int] = lambda: secrets.randbelow(RANDOM_SEED_MAX)) -> Plan:
    """The requests of an X (or X by Y) sweep over ``base``, a built request body."""
    if y is not None and y.name == x.name:
        raise SweepError(f"Both axes vary {x.title}; pick two different parameters")
    count = len(x.values) * (len(y.values) if y else 1)
    if count > MAX_REQUESTS:
        raise SweepError(f"This sweep needs {count} requests; at most {MAX_REQUESTS} are "
                         "allowed. Use fewer values.")
    fixed = {k: v for k, v in base.items() if k != "echo"}
    fixed.update(n=1, stream=False, logprobs=max(int(fixed.get("logprobs") or 0), 1))
    if fixed.get("seed") is None:
        fixed["seed"] = draw_seed()
    cells = []
    for r, y_value in enumerate(y.values if y else [None]):
        for c, x_value in enumerate(x.values):
            body = {**fixed, x.name: x_value}
            if y is not None:
                body[y.name] = y_value
            cells.append(SweepCell(r, c, body))
    return Plan(x, y, tuple(cells), base=dict(fixed))


@dataclass(frozen=True)
class Estimate:
    prompt_tokens: int        # all requests together (estimated from characters)
    max_completion_tokens: int
    cost_usd: float | None    # None when a model in the sweep has no price


def estimate(p: Plan, models: Mapping[str, ModelInfo]) -> Estimate:
    """The most the sweep can cost: every cell writes ``max_tokens``."""
    prompt_total = completion_total = 0
    cost: float | None = 0.0
    for cell in p.cells:
        prompt = math.ceil(len(str(cell.body.get("prompt", ""))) / CHARS_PER_TOKEN)
        completion = int(cell.body.get("max_tokens") or COMPLETIONS["max_tokens"].default)
        prompt_total += prompt
        completion_total += completion
        model = models.get(str(cell.body.get("model")))
        cell_cost = model.cost(prompt, completion) if model else None
        cost = None if cost is None or cell_cost is None else cost + cell_cost
    return Estimate(prompt_total, completion_total, cost)


# ---------------------------------------------------------------- running

@dataclass
class CellResult:
    row: int
    col: int
    x: Any
    y: Any
    text: str = ""
    finish_reason: str | None = None
    tokens: int | None = None
    latency_s: float | None = None
    mean_logprob: float | None = None
    seed: int | None = None
    error: str | None = None
    done: bool = False

    def output(self) -> dict[str, Any]:
        """The cell as a history output (its index orders cells row by row)."""
        return {"index": self.row * 1000 + self.col, "row": self.row, "col": self.col,
                "x": self.x, "y": self.y, "text": self.text,
                "finish_reason": self.finish_reason, "tokens": self.tokens,
                "latency_s": self.latency_s, "mean_logprob": self.mean_logprob,
                "seed": self.seed, "error": self.error}


class SweepRun(BackgroundRun):
    """The cells of a plan on a bounded pool, collected as they land.

    ``make_client()`` builds a client (``Connection.client`` fits); one per worker call,
    because a requests session is not meant to be shared between threads. Stop skips the
    cells not yet sent; those in flight finish and are kept, so the run ends with them.
    """

    stop_ends_at_once = False
    not_sent = "Not sent: the sweep was stopped."

    def __init__(self, make_client: Callable[[], Any], p: Plan, *,
                 workers: int = MAX_WORKERS,
                 on_finish: Callable[["SweepRun"], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(name="text-sweep", on_finish=on_finish, clock=clock)
        self.plan = p
        self._make_client = make_client
        self._results = self._blank_results(p)
        self._workers = max(1, workers)

    def _blank_results(self, p: Any) -> list[CellResult]:
        """A result per cell before any is sent (the prompt lab's run keeps earlier ones)."""
        return [CellResult(c.row, c.col, c.body[p.x.name], c.body[p.y.name] if p.y else None)
                for c in p.cells]

    def _to_send(self) -> list[int]:
        """The indices of the cells this run sends (all of them; the lab re-runs one)."""
        return list(range(len(self.plan.cells)))

    def results(self) -> list[CellResult]:
        with self._cond:
            return [CellResult(**asdict(r)) for r in self._results]

    def done_count(self) -> int:
        with self._cond:
            return sum(r.done for r in self._results)

    def finished(self) -> Finished:
        """The ended sweep as its history row keeps it: every cell, and how many failed."""
        results = self.results()
        failed = sum(r.error is not None for r in results)
        return Finished(status=self.status, outputs=[r.output() for r in results],
                        error=f"{failed} of {len(results)} cells failed" if failed else None,
                        metrics={**axes_json(self.plan), "requests": len(results),
                                 "failed": failed, "elapsed_s": self.elapsed})

    def _work(self) -> None:
        with ThreadPoolExecutor(max_workers=self._workers,
                                thread_name_prefix="text-sweep") as pool:
            for f in [pool.submit(self._run_cell, i, self.plan.cells[i])
                      for i in self._to_send()]:
                f.result()

    def _run_cell(self, i: int, cell: SweepCell) -> None:
        with self._cond:
            if self._stop_requested:
                self._results[i].error, self._results[i].done = self.not_sent, True
                self._bump()
                return
        start = self._clock()
        try:
            with self._make_client() as client:
                completion = client.complete(cell.body)
        except Exception as exc:  # one failed cell is shown in its place; the rest go on
            message = exc.describe() if isinstance(exc, TogetherError) else (
                f"Unexpected {type(exc).__name__}: {exc}")
            with self._cond:
                self._results[i].error, self._results[i].done = message, True
                self._results[i].latency_s = self._clock() - start
                self._bump()
            return
        latency = self._clock() - start
        choice = completion.choices[0] if completion.choices else None
        logprobs = [t.logprob for t in (choice.tokens or []) if t.logprob is not None] \
            if choice else []
        with self._cond:
            r = self._results[i]
            r.latency_s, r.done = latency, True
            self._bump()
            if choice is None:
                r.error = "The response held no choices."
                return
            r.text, r.finish_reason, r.seed = choice.text, choice.finish_reason, choice.seed
            r.tokens = (completion.usage.completion_tokens if completion.usage
                        else len(choice.tokens or []))
            r.mean_logprob = sum(logprobs) / len(logprobs) if logprobs else None


# ---------------------------------------------------------------- export

EXPORT_COLUMNS = ("row", "col", "x", "y", "text", "finish_reason", "tokens", "latency_s",
                  "mean_logprob", "seed", "error")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` safe for a CSV cell (every CSV export writes its cells through this).

    A spreadsheet runs text that starts with = + - @ tab or CR as a formula, and model
    output or a server's field can start that way; OWASP's CSV-injection advice is a
    leading single quote, which shows the text as written. Numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(p: Plan, results: Sequence[CellResult]) -> str:
    """The cells as CSV for a spreadsheet, formulas neutralised (to_json keeps them exact)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c if c not in ("x", "y") else _axis_header(p, c) for c in EXPORT_COLUMNS])
    for r in results:
        row = redact(asdict(r))
        writer.writerow(["" if row[c] is None else csv_cell(row[c]) for c in EXPORT_COLUMNS])
    return out.getvalue()


def _axis_header(p: Plan, which: str) -> str:
    axis = p.x if which == "x" else p.y
    return f"{which}: {axis.name}" if axis else which


def to_json(p: Plan, results: Sequence[CellResult]) -> str:
    doc = {"request": p.base, **axes_json(p),
           "cells": [{c: asdict(r)[c] for c in EXPORT_COLUMNS} for r in results]}
    return json.dumps(redact(doc), ensure_ascii=False, indent=2)


def axes_json(p: Plan) -> dict[str, Any]:
    """The axes as plain data (for history and exports)."""
    return {"x": {"name": p.x.name, "values": list(p.x.values)},
            "y": {"name": p.y.name, "values": list(p.y.values)} if p.y else None}


def axis_text(values: Sequence[Any]) -> str:
    """Values written back the way the page's field takes them (for restore)."""
    return ", ".join(label(v) for v in values)
