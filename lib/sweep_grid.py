"""The grid shape both X/Y sweeps share: cells laid out as rows (Y axis) by columns (X axis).

The image sweep and the text sweep differ in their axes and in what a cell produces;
how many requests a sweep makes and when it must be confirmed is the same for both.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar


class SweepError(ValueError):
    """Axis values that cannot be swept; the message names the axis and what to fix."""


def range_steps(title: str, match: re.Match, item: str, max_values: int) -> list[float]:
    """The numbers of a typed range, from a match whose groups are start, end and step.

    Each sweep has its own range syntax (``1-9 (+2)`` for images, where values are never
    negative; ``-1 to 1 (+0.5)`` for text penalties); what a range means is shared.
    """
    start, end = float(match.group(1)), float(match.group(2))
    step = float(match.group(3)) if match.group(3) else 1.0
    if step <= 0 or end < start:
        raise SweepError(f"{title}: a range runs upwards with a positive step, got {item!r}")
    count = math.floor((end - start) / step + 1e-9) + 1
    if count > max_values:
        raise SweepError(f"{title}: {item!r} has {count} values, more than {max_values}")
    return [round(start + i * step, 6) for i in range(count)]


@dataclass(frozen=True)
class SweepCell:
    row: int
    col: int
    body: dict[str, Any]


@dataclass(frozen=True)
class GridPlan:
    """Every request of a sweep. ``x`` and ``y`` are axes with a ``values`` tuple."""

    x: Any
    y: Any | None
    cells: tuple[SweepCell, ...]

    confirm_above: ClassVar[int] = 12  # requests; more need an explicit confirm on the page

    @property
    def rows(self) -> int:
        return len(self.y.values) if self.y else 1

    @property
    def cols(self) -> int:
        return len(self.x.values)

    @property
    def request_count(self) -> int:
        return len(self.cells)

    @property
    def needs_confirm(self) -> bool:
        return self.request_count > self.confirm_above
