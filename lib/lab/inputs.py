"""The lab's table of inputs: one column per template variable, plus optional ``expected``.

A table comes typed into the page's editor, pasted as CSV or uploaded as a CSV file; all
three end here, so the limits and messages are the same. Input is untrusted: the bytes
are bounded before decoding, must be UTF-8 (a BOM, as Excel writes it, is dropped), and
every problem names its row (as a spreadsheet counts them: the header is row 1) and column.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

MAX_ROWS = 100
MAX_BYTES = 1_000_000
MAX_CELL_CHARS = 20_000
EXPECTED = "expected"


class InputError(ValueError):
    """The table cannot be used; the message names the row and column and what is allowed."""


@dataclass(frozen=True)
class Table:
    """Rows of text by column name; ``columns`` in order (the variables, then ``expected``)."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]

    @property
    def has_expected(self) -> bool:
        return EXPECTED in self.columns


def decode(data: bytes) -> str:
    """Uploaded bytes as text: bounded, UTF-8 (BOM dropped), else InputError saying where."""
    if len(data) > MAX_BYTES:
        raise InputError(f"The file is {len(data):,} bytes; at most {MAX_BYTES:,}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"Row {line}: byte {exc.start + 1} is not UTF-8. Save the file as "
                         "CSV UTF-8 and upload it again.") from None


def read_csv(text: str, variables: Sequence[str]) -> Table:
    """A CSV with a header row naming the columns, checked against the template's variables."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError(f"The CSV is over {MAX_BYTES:,} bytes; at most {MAX_BYTES:,}.")
    if "\x00" in text:
        row = text[:text.index("\x00")].count("\n") + 1
        raise InputError(f"Row {row} holds a NUL character; a CSV is text.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(f"Row {reader.line_num}: the CSV cannot be read ({exc}).") from None
    if not records:
        raise InputError("The CSV is empty: its first row names the columns ("
                         f"{_allowed(variables)}).")
    (_, header), body = records[0], records[1:]
    columns = check_columns([h.strip() for h in header], variables)
    rows = []
    for line, record in body:
        if len(record) != len(columns):
            raise InputError(f"Row {line} has {len(record)} fields; the header has "
                             f"{len(columns)} ({', '.join(columns)}).")
        rows.append(dict(zip(columns, record)))
    return check_rows(rows, columns, first_row=2)


def check_columns(columns: Sequence[str], variables: Sequence[str]) -> tuple[str, ...]:
    """The header: each variable once, ``expected`` optional, nothing else."""
    seen: set[str] = set()
    for i, name in enumerate(columns, start=1):
        if name in seen:
            raise InputError(f"Column {i} ({name!r}) appears twice in the header.")
        if name not in variables and name != EXPECTED:
            raise InputError(f"Column {i} ({name!r}) is not a variable of the template; "
                             f"allowed: {_allowed(variables)}.")
        seen.add(name)
    missing = [v for v in variables if v not in seen]
    if missing:
        raise InputError(f"No column for {', '.join('{' + m + '}' for m in missing)}; the "
                         f"header must name {_allowed(variables)}.")
    return tuple(columns)


def check_rows(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *,
               first_row: int = 1) -> Table:
    """Rows (from the CSV or the page's editor) as text, bounded; ``first_row`` is how the
    first one is numbered for messages (2 in a CSV, under its header)."""
    out: list[dict[str, str]] = []
    for n, row in enumerate(rows, start=first_row):
        if len(out) == MAX_ROWS:
            raise InputError(f"Row {n}: at most {MAX_ROWS} rows of inputs.")
        clean = {}
        for col in columns:
            value = row.get(col)
            text = "" if value is None or value != value else str(value)  # NaN: an empty cell
            if len(text) > MAX_CELL_CHARS:
                raise InputError(f"Row {n}, column {col!r}: {len(text):,} characters; at "
                                 f"most {MAX_CELL_CHARS:,} per cell.")
            clean[col] = text
        out.append(clean)
    return Table(tuple(columns), tuple(out))


def _allowed(variables: Sequence[str]) -> str:
    names = ", ".join(variables) if variables else "no variables yet"
    return f"{names} and optionally {EXPECTED}"
