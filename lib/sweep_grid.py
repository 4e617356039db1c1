"""The grid shape both X/Y sweeps share: cells laid out as rows (Y axis) by columns (X axis).

The image sweep and the text sweep differ in their axes and in what a cell produces;
how many requests a sweep makes and when it must be confirmed is the same for both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


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
