"""Values from outside (a server's JSON, a share link, a history row) made safe to use.

Python's ``json`` reads ``NaN`` and ``Infinity`` and turns a ``"\\ud800"`` escape into a
lone surrogate. Neither fails where it is read: a non-finite number fails later in
``int()``, formatting or a pyarrow table, and a lone surrogate in Streamlit's protobuf
encoding, far from the value's source and as a traceback. So each boundary passes what
it read through these once, and everything behind it sees finite numbers, whole numbers
a 64-bit column holds, and text that encodes as UTF-8.
"""
from __future__ import annotations

import math
import re
from typing import Any

INT_MIN, INT_MAX = -2**63, 2**63 - 1   # what SQLite, pyarrow and a seed field hold
_SURROGATE = re.compile("[\ud800-\udfff]")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,19}")


def text(value: Any) -> str:
    """``str(value)`` with each lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    value = value if type(value) is str else str(value)
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


def number(value: Any) -> float | None:
    """A finite float from a JSON number; None for NaN, ±Infinity, huge ints or non-numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int beyond float's range
        return None
    return value if math.isfinite(value) else None


def integer(value: Any) -> int | None:
    """A whole number within 64 bits from an int, an integral float or a decimal string
    (some servers quote seeds); None for anything else."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        value = int(value)
    elif isinstance(value, float) and value.is_integer():  # False for NaN and ±Infinity
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if INT_MIN <= value <= INT_MAX else None


def json_tree(value: Any) -> Any:
    """A parsed JSON value with every string (keys too) through ``text`` and every
    non-finite number made None; the shape is kept. Deep nesting raises RecursionError."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict):
        return {text(key): json_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_tree(item) for item in value]
    return value
