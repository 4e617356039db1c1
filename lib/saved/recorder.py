"""One recorder for every kind of run: a history row written as the run starts and
completed once when it ends.

Written at the start (it reads "interrupted" until then), so a run that was stopped,
failed, or whose page or process died mid-way is still in the history with what it had.
Each kind of run says once how it is kept (``Finished``); this module only writes it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from lib.saved.history import History, HistoryError, Run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finished:
    """What a run leaves in its history row when it ends."""

    status: str
    outputs: list[dict[str, Any]]
    metrics: dict[str, Any]
    error: str | None = None
    events: list[tuple[float, int, str]] = field(default_factory=list)


class Recorder:
    """``Recorder(store, entry, secret)`` writes the row; ``finish`` completes it."""

    def __init__(self, store: History, entry: Run, secret: str | None):
        self._store = store
        self._secret = secret
        self.run_id = store.record(entry, secret=secret)

    def finish(self, result: Finished) -> None:
        """Complete the row; a history that fails now leaves it saying "interrupted" (the
        run itself is fine, and this runs on the worker thread, where nobody could see
        an exception)."""
        try:
            self._store.update(self.run_id, secret=self._secret, status=result.status,
                               error=result.error, outputs=result.outputs,
                               metrics=result.metrics, events=result.events)
        except HistoryError:
            log.warning("run %s could not be completed in the history", self.run_id,
                        exc_info=True)
