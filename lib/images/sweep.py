"""X/Y sweeps: the same request with one or two parameters varied, as a labelled plot.

Like AUTOMATIC1111's X/Y plot: each axis is a parameter and a list of values, every
(row, column) pair is one request of one image, and the results form a grid with the
values written along the edges. Everything not on an axis is held fixed, the seed
included (a random seed is drawn once for the whole sweep), so differences between cells
come from the axis values alone.

Values are typed as text the A1111 way: ``10, 20, 30``; ranges ``1-4`` or
``10-30 (+10)``; for prompt search/replace the first value is the text to find in the
prompt and every value (itself included) takes its place in turn.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from PIL import Image

from lib import catalogue
from lib.catalogue import IMAGES
from lib.images.batch import PlannedRequest, random_seed
from lib.images.grid import make_xy_grid
from lib.sweep_grid import GridPlan, SweepCell, SweepError, range_steps

SEED, STEPS, GUIDANCE, PROMPT_SR, PROMPTS, MODEL = (
    "seed", "steps", "guidance_scale", "prompt_sr", "prompts", "model")


@dataclass(frozen=True)
class AxisKind:
    label: str       # what the plot's axis title and the picker say
    param: str       # the request field it varies
    help: str


AXES: dict[str, AxisKind] = {
    SEED: AxisKind("Seed", "seed", "Seeds, comma separated; ranges like 1-4 or 0-30 (+10)."),
    STEPS: AxisKind("Steps", "steps", "Step counts, comma separated; ranges like 4-20 (+4)."),
    GUIDANCE: AxisKind("Guidance scale", "guidance_scale",
                       "Numbers, comma separated; ranges like 1-9 (+2)."),
    PROMPT_SR: AxisKind("Prompt S/R", "prompt",
                        "Comma separated; the first is found in the prompt and each value "
                        "replaces it in turn. Quote values holding commas."),
    PROMPTS: AxisKind("Prompt", "prompt", "Whole prompts, one per line."),
    MODEL: AxisKind("Model", "model", "Model ids, comma separated."),
}
MAX_VALUES = 16         # per axis
CONFIRM_ABOVE = 16      # requests; more need an explicit confirm on the page
MAX_REQUESTS = 64

_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*(?:\(\s*\+\s*(\d+(?:\.\d+)?)\s*\))?\s*$")


@dataclass(frozen=True)
class Axis:
    kind: str
    values: tuple[Any, ...]
    labels: tuple[str, ...]

    @property
    def title(self) -> str:
        return AXES[self.kind].label


def parse_axis(kind: str, text: str, base: Mapping[str, Any]) -> Axis:
    """The checked values of one axis from what the user typed; SweepError if any is bad.

    ``base`` is the request being swept (prompt S/R needs its prompt).
    """
    if kind not in AXES:
        raise SweepError(f"axis must be one of {', '.join(AXES)}, got {kind!r}")
    axis = AXES[kind]
    if kind == PROMPTS:
        raw = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        raw = _split(text)
    if kind in (SEED, STEPS, GUIDANCE):
        raw = [v for item in raw for v in _expand(axis, item)]
    if not raw:
        raise SweepError(f"{axis.label}: enter at least one value")
    if len(raw) > MAX_VALUES:
        raise SweepError(f"{axis.label}: at most {MAX_VALUES} values, got {len(raw)}")
    if kind == PROMPT_SR:
        return _prompt_sr(raw, str(base.get("prompt") or ""))
    values = []
    for item in raw:
        try:
            values.append(catalogue.check(IMAGES[axis.param], item))
        except ValueError as exc:
            raise SweepError(f"{axis.label}: {exc}") from None
    if kind == SEED and None in values:
        raise SweepError("Seed: every value must be a number")
    return Axis(kind, tuple(values), tuple(_label(v) for v in values))


def _split(text: str) -> list[str]:
    """Comma-separated values, with double quotes around any that hold a comma."""
    rows = list(csv.reader([" ".join(text.splitlines())], skipinitialspace=True))
    return [v.strip() for v in (rows[0] if rows else []) if v.strip()]


def _expand(axis: AxisKind, item: str) -> list[str]:
    """``a-b`` or ``a-b (+s)`` as its values; anything else as itself."""
    match = _RANGE.match(item)
    if not match:
        return [item]
    return [_number_text(x) for x in range_steps(axis.label, match, item, MAX_VALUES)]


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(round(x, 6))


def _label(value: Any) -> str:
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _prompt_sr(raw: list[str], prompt: str) -> Axis:
    needle = raw[0]
    if needle not in prompt:
        raise SweepError(f"Prompt S/R: {needle!r} does not occur in the prompt; the first "
                         "value must be text from the prompt")
    return Axis(PROMPT_SR, tuple(prompt.replace(needle, v) for v in raw), tuple(raw))


@dataclass(frozen=True)
class SweepPlan(GridPlan):
    """Every request of an image sweep, laid out as rows (the Y axis) by columns (X)."""

    confirm_above: ClassVar[int] = CONFIRM_ABOVE

    def requests(self) -> list[PlannedRequest]:
        """One single-image request per cell, at grid position ``row * cols + col``."""
        return [PlannedRequest(cell.body, cell.row * self.cols + cell.col)
                for cell in self.cells]


def plan_sweep(base: Mapping[str, Any], x: Axis, y: Axis | None = None) -> SweepPlan:
    """The requests of an X (or X by Y) sweep over ``base``, a built request body."""
    if y is not None and AXES[y.kind].param == AXES[x.kind].param:
        raise SweepError(f"The two axes both vary {AXES[x.kind].param}; pick different ones")
    count = len(x.values) * (len(y.values) if y else 1)
    if count > MAX_REQUESTS:
        raise SweepError(f"This sweep needs {count} requests; at most {MAX_REQUESTS} are "
                         "allowed. Use fewer values.")
    fixed = dict(base)
    fixed["n"] = 1
    if fixed.get("seed") is None:
        fixed["seed"] = random_seed()
    rows = list(zip(y.values, range(len(y.values)))) if y else [(None, 0)]
    cells = []
    for y_value, r in rows:
        for c, x_value in enumerate(x.values):
            body = dict(fixed)
            body[AXES[x.kind].param] = x_value
            if y is not None:
                body[AXES[y.kind].param] = y_value
            cells.append(SweepCell(r, c, body))
    return SweepPlan(x, y, tuple(cells))


@dataclass(frozen=True)
class PlotLayout:
    """The plot's labels: all a finished sweep needs besides its images (fits in state)."""

    col_labels: tuple[str, ...]
    row_labels: tuple[str, ...]
    title_x: str
    title_y: str = ""

    @property
    def cols(self) -> int:
        return len(self.col_labels)


def layout_of(plan: SweepPlan) -> PlotLayout:
    return PlotLayout(plan.x.labels, plan.y.labels if plan.y else ("",), plan.x.title,
                      plan.y.title if plan.y else "")


def sweep_plot(layout: PlotLayout, images: Mapping[int, Image.Image | None],
               tile_max: int = 512) -> Image.Image:
    """The labelled X/Y plot from images by grid position; missing ones show as failed."""
    cells = {divmod(position, layout.cols): image for position, image in images.items()}
    return make_xy_grid(cells, list(layout.row_labels), list(layout.col_labels),
                        title_x=layout.title_x, title_y=layout.title_y, tile_max=tile_max)


def describe_plan(plan: SweepPlan) -> str:
    """"2 × 3 = 6 requests": what the page says before anything is sent."""
    if plan.y is None:
        return f"{plan.cols} request{'s' if plan.cols != 1 else ''}"
    return f"{plan.rows} × {plan.cols} = {plan.request_count} requests"


def plan_from_text(base: Mapping[str, Any], x_kind: str, x_text: str, y_kind: str = "",
                   y_text: str = "") -> SweepPlan:
    """A plan straight from the page's fields (no ``y_kind``: one axis); SweepError says
    what to fix."""
    x = parse_axis(x_kind, x_text, base)
    y = parse_axis(y_kind, y_text, base) if y_kind else None
    return plan_sweep(base, x, y)
