"""The lab's run: variants × rows → one request per cell, the estimate, and the run itself.

A cell is one non-streamed completion of one variant's template filled from one row. The
run is the text sweep's (``lib.text.sweep.SweepRun``: a bounded pool on ``lib.background``
where Stop skips the cells not yet sent and keeps the finished ones); this module only says
which cells there are and, for a re-run of one failed cell, which earlier results to keep.
Seeds are fixed per variant before anything is sent (drawn once when the variant leaves
it random), so a restored lab re-run on a deterministic backend grades the same.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Mapping, Sequence

from lib import catalogue
from lib.catalogue import COMPLETIONS, ValidationError
from lib.lab import graders as lab_graders, template
from lib.lab.setup import LabSetup, VariantSetup
from lib.param_settings import ParamSettings, describe
from lib.saved.recorder import Finished
from lib.sweep_grid import SweepCell
from lib.text import sweep as text_sweep
from lib.text.sweep import CellResult, SweepRun

CONFIRM_ABOVE = 12            # requests; more need an explicit confirm on the page
MAX_WORKERS = text_sweep.MAX_WORKERS
RANDOM_SEED_MAX = text_sweep.RANDOM_SEED_MAX


class PlanError(ValueError):
    """The lab cannot run as set up; the message names the variant, row or field."""


@dataclass(frozen=True)
class LabPlan:
    """Every request of a lab, row by row: the cell of row r, variant v is ``r * V + v``
    (so the pool works across all variants at once and columns fill evenly)."""

    setup: LabSetup
    cells: tuple[SweepCell, ...]

    @property
    def rows(self) -> int:
        return len(self.setup.table.rows)

    @property
    def variants(self) -> int:
        return len(self.setup.variants)

    @property
    def request_count(self) -> int:
        return len(self.cells)

    @property
    def needs_confirm(self) -> bool:
        return self.request_count > CONFIRM_ABOVE

    def index(self, row: int, variant: int) -> int:
        return row * self.variants + variant

    def describe(self) -> str:
        return " × ".join(_count(n, word) for n, word in ((self.rows, "row"),
                                                          (self.variants, "variant"))
                          ) + " = " + _count(self.request_count, "request")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def make_plan(setup: LabSetup, draw_seed: Callable[[], int] = lambda: secrets.randbelow(
        RANDOM_SEED_MAX)) -> LabPlan:
    """The requests of ``setup``; its variants' random seeds are drawn here, once, and kept
    in the plan's setup (what history and exports record)."""
    if not setup.table.rows:
        raise PlanError("Add at least one row of inputs.")
    logprobs = any(g.asks_logprobs for g in setup.graders)
    variants, bodies, templates = [], [], []
    for n, v in enumerate(setup.variants, 1):
        if v.values.get("seed") is None:
            v = replace(v, values={**v.values, "seed": draw_seed()})
        variants.append(v)
        bodies.append(_body(n, v, logprobs))
        templates.append(_template(n, setup, v))
    fixed = replace(setup, variants=tuple(variants))
    cells = []
    for r, row in enumerate(setup.table.rows):
        for v, (body, tmpl) in enumerate(zip(bodies, templates)):
            prompt = tmpl.render(row)
            try:
                catalogue.check(COMPLETIONS["prompt"], prompt)
            except ValueError as exc:
                raise PlanError(f"Variant {v + 1}, row {r + 1}: {exc}") from None
            cells.append(SweepCell(r, v, {**body, "prompt": prompt}))
    return LabPlan(fixed, tuple(cells))


def _body(n: int, v: VariantSetup, logprobs: bool) -> dict[str, Any]:
    """The variant's request without its prompt: one non-streamed choice per cell."""
    values = {**v.values, "prompt": "-", "n": 1, "stream": False, "echo": False}
    try:
        body = ParamSettings(COMPLETIONS, values, v.pinned).body()
    except ValidationError as exc:
        raise PlanError(f"Variant {n}: {describe(exc.errors)}") from None
    body.pop("echo", None)
    body.update(n=1, stream=False)
    if logprobs:
        body["logprobs"] = max(int(body.get("logprobs") or 0), 1)
    return body


def _template(n: int, setup: LabSetup, v: VariantSetup) -> template.Template:
    try:
        tmpl = template.parse(setup.template if v.template is None else v.template)
    except template.TemplateError as exc:
        raise PlanError(f"Variant {n}: {exc}") from None
    missing = [name for name in tmpl.variables if name not in setup.table.columns]
    if missing:
        raise PlanError(f"Variant {n}: the inputs have no column for "
                        f"{', '.join('{' + m + '}' for m in missing)}.")
    return tmpl


# ---------------------------------------------------------------- running

class LabRun(SweepRun):
    """The plan's cells on the sweep's bounded pool. ``only`` re-runs just those cells and
    keeps ``previous`` (the grid as it was) for every other one."""

    not_sent = "Not sent: the lab was stopped."

    def __init__(self, make_client: Callable[[], Any], p: LabPlan, *,
                 previous: Sequence[CellResult] | None = None,
                 only: Sequence[int] | None = None, workers: int = MAX_WORKERS,
                 on_finish: Callable[["LabRun"], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._previous = list(previous) if previous is not None else None
        self._only = sorted(set(only)) if only is not None else None
        super().__init__(make_client, p, workers=workers, on_finish=on_finish, clock=clock)

    def _blank_results(self, p: Any) -> list[CellResult]:
        blank = [CellResult(c.row, c.col, None, None) for c in p.cells]
        if self._previous is None or len(self._previous) != len(blank):
            return blank
        keep = set(range(len(blank))) - set(self._only or ())
        return [CellResult(**asdict(self._previous[i])) if i in keep else b
                for i, b in enumerate(blank)]

    def _to_send(self) -> list[int]:
        return self._only if self._only is not None else super()._to_send()

    @property
    def sending(self) -> int:
        """How many cells this run sends (one for a re-run, every cell otherwise)."""
        return len(self._to_send())

    def finished(self) -> Finished:
        """The lab as history keeps it: the setup, every cell, and how many failed."""
        results = self.results()
        failed = sum(r.error is not None for r in results)
        return Finished(status=self.status, outputs=[r.output() for r in results],
                        error=f"{failed} of {len(results)} cells failed" if failed else None,
                        metrics={"lab": self.plan.setup.to_json(), "requests": len(results),
                                 "failed": failed, "elapsed_s": self.elapsed})


def results_from_outputs(p: LabPlan, outputs: Sequence[Any]) -> list[CellResult]:
    """A recorded lab's cells back in plan order; a cell the record lacks (or holds in a
    shape no lab writes) says so instead of passing for an empty output."""
    results = [CellResult(c.row, c.col, None, None, error="Not in the record.", done=True)
               for c in p.cells]
    for out in outputs:
        if not isinstance(out, Mapping):
            continue
        row, col = out.get("row"), out.get("col")
        if not (isinstance(row, int) and isinstance(col, int)
                and 0 <= row < p.rows and 0 <= col < p.variants):
            continue
        results[p.index(row, col)] = CellResult(
            row, col, None, None, text=_text(out.get("text")),
            finish_reason=_opt(out.get("finish_reason"), str),
            tokens=_opt(out.get("tokens"), int), latency_s=_opt(out.get("latency_s"), float),
            mean_logprob=_opt(out.get("mean_logprob"), float), seed=_opt(out.get("seed"), int),
            error=_opt(out.get("error"), str), done=True)
    return results


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _opt(value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


# ---------------------------------------------------------------- grading

@dataclass(frozen=True)
class VariantSummary:
    done: int          # cells that came back with an output
    failed: int        # cells that ended with an error
    passed: int        # outputs that passed every grader
    mean_latency_s: float | None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.done if self.done else None


def grade_results(p: LabPlan, results: Sequence[CellResult]
                  ) -> list[list[lab_graders.Grade] | None]:
    """Each cell's grades (None while it has no output: waiting, or failed)."""
    ready = [i for i, r in enumerate(results) if r.done and r.error is None]
    outputs = [lab_graders.Output(results[i].text, p.setup.table.rows[results[i].row],
                                  results[i].tokens, results[i].mean_logprob) for i in ready]
    graded = lab_graders.grade_all(p.setup.graders, outputs)
    grades: list[list[lab_graders.Grade] | None] = [None] * len(results)
    for i, g in zip(ready, graded):
        grades[i] = g
    return grades


def summarise(p: LabPlan, results: Sequence[CellResult],
              grades: Sequence[list[lab_graders.Grade] | None]) -> list[VariantSummary]:
    """Per variant: outputs, failures, how many passed every grader, mean latency."""
    out = []
    for v in range(p.variants):
        mine = [(r, g) for r, g in zip(results, grades) if r.col == v]
        graded = [g for r, g in mine if g is not None]
        latencies = [r.latency_s for r, g in mine if g is not None and r.latency_s is not None]
        out.append(VariantSummary(
            done=len(graded), failed=sum(r.done and r.error is not None for r, _ in mine),
            passed=sum(all(x.passed for x in g) for g in graded),
            mean_latency_s=sum(latencies) / len(latencies) if latencies else None))
    return out
