"""Injected failures, queued by tests and benchmarks and consumed by matching requests.

A fault is a dict such as ``{"kind": "status", "status": 429, "retry_after": 1}``, with an
optional ``"path"`` (completions, images, models, image_file) it must match and ``"times"``
(how many requests it affects, default 1). Stream faults (drop_after, error_chunk,
malformed_chunk) wait for a streamed completion; image-file faults wait for an image fetch.
"""
from __future__ import annotations

import threading
from typing import Any

PATHS = ("completions", "images", "models", "image_file")
STREAM_KINDS = ("drop_after", "error_chunk", "malformed_chunk")
IMAGE_FILE_KINDS = ("not_image", "bomb")
KINDS = ("status", "slow_first_byte") + STREAM_KINDS + IMAGE_FILE_KINDS


def _number(fault: dict, key: str, minimum: float, integer: bool = False) -> None:
    value = fault.get(key)
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value < minimum:
        raise ValueError(f"fault {fault.get('kind')!r} needs {key!r} "
                         f"{'an integer' if integer else 'a number'} >= {minimum}")


def check(fault: Any) -> dict:
    """A validated copy of one fault; ValueError says what is wrong with it."""
    if not isinstance(fault, dict):
        raise ValueError("each fault must be an object")
    fault = dict(fault)
    kind = fault.get("kind")
    if kind not in KINDS:
        raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if fault.get("path") is not None and fault["path"] not in PATHS:
        raise ValueError(f"fault path must be one of {', '.join(PATHS)}")
    fault.setdefault("times", 1)
    _number(fault, "times", 1, integer=True)
    if kind == "status":
        _number(fault, "status", 400, integer=True)
        if fault["status"] > 599:
            raise ValueError("fault status must be an HTTP error status (400-599)")
        if fault.get("retry_after") is not None:
            _number(fault, "retry_after", 0)
    elif kind == "slow_first_byte":
        _number(fault, "seconds", 0)
    elif kind == "drop_after":
        _number(fault, "tokens", 0, integer=True)
    elif kind in ("error_chunk", "malformed_chunk"):
        _number(fault, "after", 0, integer=True)
    return fault


class FaultQueue:
    def __init__(self):
        self._faults: list[dict] = []
        self._lock = threading.Lock()

    def add(self, faults: list) -> None:
        checked = [check(f) for f in faults]
        with self._lock:
            self._faults.extend(checked)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def take(self, path: str, streaming: bool = False) -> dict | None:
        """The first queued fault that applies to this request, consuming one of its uses."""
        with self._lock:
            for fault in self._faults:
                if not _applies(fault, path, streaming):
                    continue
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self._faults.remove(fault)
                return dict(fault)
        return None


def _applies(fault: dict, path: str, streaming: bool) -> bool:
    if fault.get("path") not in (None, path):
        return False
    kind = fault["kind"]
    if kind in STREAM_KINDS:
        return path == "completions" and streaming
    if kind in IMAGE_FILE_KINDS:
        return path == "image_file"
    return True
