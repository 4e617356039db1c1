"""The lab's grid for a spreadsheet (CSV) or a program (JSON).

CSV cells go through ``lib.text.sweep.csv_cell`` (a model's output starting with ``=`` is
text in a spreadsheet, not a formula); JSON keeps every value exact. Both pass through
``lib.api.redact``, like every export, so a key pasted into an input never leaves in one.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from lib.api.redact import redact
from lib.lab.graders import Grade
from lib.lab.plan import LabPlan
from lib.text.sweep import CellResult, csv_cell

RESULT_COLUMNS = ("text", "finish_reason", "tokens", "latency_s", "mean_logprob", "seed",
                  "error")


def cell_records(p: LabPlan, results: Sequence[CellResult],
                 grades: Sequence[list[Grade] | None]) -> list[dict[str, Any]]:
    """One flat record per cell: where it is, its inputs and prompt, its output, its grades."""
    labels = [f"grade {n}: {g.label()}" for n, g in enumerate(p.setup.graders, 1)]
    records = []
    for cell, r, g in zip(p.cells, results, grades):
        record: dict[str, Any] = {"variant": r.col + 1, "row": r.row + 1}
        # Prefixed, so an input named like a result field ("text", "row") never overwrites it.
        record.update({f"input: {k}": v for k, v in p.setup.table.rows[r.row].items()})
        record["prompt"] = cell.body.get("prompt", "")
        record["model"] = cell.body.get("model", "")
        record.update({c: getattr(r, c) for c in RESULT_COLUMNS})
        for label, grade in zip(labels, g or [None] * len(labels)):
            record[label] = None if grade is None else ("pass" if grade.passed else "fail")
        record["passed"] = None if g is None else all(x.passed for x in g)
        records.append(record)
    return records


def to_csv(p: LabPlan, results: Sequence[CellResult],
           grades: Sequence[list[Grade] | None]) -> str:
    """The grid as CSV, one line per cell, formulas neutralised."""
    records = [redact(r) for r in cell_records(p, results, grades)]
    header = list(records[0]) if records else ["variant", "row"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(h) for h in header])
    for record in records:
        writer.writerow(["" if record.get(h) is None else csv_cell(record.get(h))
                         for h in header])
    return out.getvalue()


def to_json(p: LabPlan, results: Sequence[CellResult],
            grades: Sequence[list[Grade] | None]) -> str:
    """The setup and every cell, values exact."""
    doc = {"lab": p.setup.to_json(), "cells": cell_records(p, results, grades)}
    return json.dumps(redact(doc), ensure_ascii=False, indent=2)
