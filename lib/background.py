"""A run that works on its own thread while pages only draw snapshots of it.

Why a thread: Streamlit reruns the page script on every click, which interrupts whatever
the script was doing. If the script itself did the work (read a stream, waited for
images), any click would cut it off. Here the worker owns the work; the page keeps the run
in session state and draws what it has, so a rerun loses nothing and only ``stop()`` ends
it. Streams, text sweeps and image batches are all such runs: this is their one lifecycle
(start, stop, join, wait for change, on finish) and their one vocabulary of how a run
ended, which the history stores as it is.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, ClassVar

from lib.api.errors import TogetherError

RUNNING = "running"  # while the worker works
OK, STOPPED, FAILED = "ok", "stopped", "failed"  # how it ended
log = logging.getLogger(__name__)


class BackgroundRun:
    """Subclasses write ``_work`` (and ``_interrupt`` when stopping must cut something off);
    they change their state under ``self._cond`` and call ``_bump`` after each change.

    ``stop_ends_at_once``: a stream is stopped the moment Stop is pressed; a sweep lets
    the requests in flight finish (and keeps them), so it ends when its worker does.
    """

    stop_ends_at_once: ClassVar[bool] = True

    def __init__(self, *, name: str,
                 on_finish: Callable[[Any], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._on_finish = on_finish
        self._clock = clock
        self._cond = threading.Condition()
        self._status = RUNNING
        self._error: TogetherError | None = None
        self._version = 0
        self._change_waiters = 0  # threads in wait_for_change: they need every change
        self._watchers: list[tuple[threading.Event, threading.Event]] = []
        self._stop_requested = False
        self.started_wall = time.time()
        self._started = clock()
        self._ended: float | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    # ------------------------------------------------------------ control

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end; what it already has is kept."""
        with self._cond:
            if self._status != RUNNING or self._stop_requested:
                return
            self._stop_requested = True
            if self.stop_ends_at_once:
                self._finish(STOPPED)
            else:
                self._bump()
        self._interrupt()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to exit (``on_finish`` has run then)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_for_change(self, seen_version: int, timeout: float) -> int:
        """Block until the run's version differs from ``seen_version`` or ``timeout`` passes."""
        with self._cond:
            self._change_waiters += 1
            try:
                self._cond.wait_for(lambda: self._version != seen_version, timeout)
            finally:
                self._change_waiters -= 1
            return self._version

    def watch(self, changed: threading.Event, milestone: threading.Event) -> None:
        """Set ``changed`` on every change and ``milestone`` when something ends: one
        follower can then sleep on several runs at once."""
        with self._cond:
            self._watchers.append((changed, milestone))
        changed.set()

    def unwatch(self, changed: threading.Event) -> None:
        with self._cond:
            self._watchers = [w for w in self._watchers if w[0] is not changed]

    @property
    def running(self) -> bool:
        with self._cond:
            return self._status == RUNNING

    @property
    def status(self) -> str:
        with self._cond:
            return self._status

    @property
    def stopped(self) -> bool:
        """Stop was asked for (the run may still be finishing what was in flight)."""
        with self._cond:
            return self._stop_requested

    @property
    def error(self) -> TogetherError | None:
        """Why the run failed, when it did."""
        with self._cond:
            return self._error

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    @property
    def elapsed(self) -> float:
        with self._cond:
            return self._elapsed()

    # ------------------------------------------------------------ for subclasses

    def _work(self) -> None:
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Cut off what is in flight (called after stop, without the lock)."""

    def _outcome(self) -> str:
        """How a run whose worker returned normally ended (with the lock held)."""
        return STOPPED if self._stop_requested else OK

    def _elapsed(self) -> float:
        end = self._ended if self._ended is not None else self._clock()
        return end - self._started

    def _finish(self, status: str) -> None:
        """Called with the lock held; the first terminal status wins."""
        if self._status != RUNNING:
            return
        self._status = status
        self._ended = self._clock()
        self._bump()

    def _bump(self, milestone: bool = True) -> None:
        """Count a change; wake waiters for a milestone (something ended, a notice) or when
        someone waits for any change. At thousands of tokens a second, waking a renderer
        that only waits for milestones on every token would cost more than the token."""
        self._version += 1
        for changed, ended in self._watchers:
            changed.set()
            if milestone:
                ended.set()
        if milestone or self._change_waiters:
            self._cond.notify_all()

    # ------------------------------------------------------------ worker

    def _main(self) -> None:
        try:
            self._work()
            with self._cond:
                self._finish(self._outcome())
        except Exception as exc:  # every failure ends the run visibly, never silently
            with self._cond:
                if not self._stop_requested:
                    self._error = exc if isinstance(exc, TogetherError) else TogetherError(
                        f"Unexpected {type(exc).__name__}: {exc}")
                    self._finish(FAILED)
                else:
                    self._finish(STOPPED)
        finally:
            if self._on_finish is not None:
                try:
                    self._on_finish(self)
                except Exception:  # recording must not turn a finished run into a crash
                    log.exception("on_finish callback failed")
