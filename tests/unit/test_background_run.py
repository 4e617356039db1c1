"""The one background-run lifecycle: start, stop, join, wait for change, on finish once;
and the one follower that sleeps on several runs' changes instead of polling."""
import statistics
import threading
import time

from lib.background import FAILED, OK, RUNNING, STOPPED, BackgroundRun
from lib.ui.stream_view import follow


class Steps(BackgroundRun):
    """A run that makes one change per ``step`` event, ``count`` times, then ends."""

    def __init__(self, count: int, *, on_finish=None, fail: bool = False):
        super().__init__(name="test-steps", on_finish=on_finish)
        self.count, self.fail = count, fail
        self.step = threading.Semaphore(0)
        self.changed_at: list[float] = []
        self.interrupted = threading.Event()

    def _work(self) -> None:
        for _ in range(self.count):
            self.step.acquire()
            if self.stopped:
                return
            with self._cond:
                self.changed_at.append(time.monotonic())
                self._bump(milestone=False)
        if self.fail:
            raise ValueError("boom")

    def _interrupt(self) -> None:
        self.interrupted.set()
        self.step.release()


def test_a_run_ends_ok_and_calls_on_finish_once():
    finished = []
    run = Steps(2, on_finish=finished.append).start()
    assert run.status == RUNNING and run.running
    run.step.release(2)
    assert run.join(5)
    assert run.status == OK and not run.running and finished == [run]
    run.stop()  # after the end: nothing changes, on_finish is not called again
    assert run.status == OK and finished == [run] and not run.interrupted.is_set()


def test_stop_ends_at_once_interrupts_and_on_finish_runs_once():
    finished = []
    run = Steps(5, on_finish=finished.append).start()
    run.stop()
    run.stop()
    assert run.status == STOPPED and not run.running and run.interrupted.is_set()
    assert run.join(5) and finished == [run]


def test_a_failing_worker_ends_the_run_failed_with_the_reason():
    finished = []
    run = Steps(0, on_finish=finished.append, fail=True).start()
    assert run.join(5)
    assert run.status == FAILED and "ValueError" in str(run.error) and finished == [run]


def test_wait_for_change_wakes_on_each_change_without_polling():
    run = Steps(10).start()
    seen, latencies = run.version, []
    for _ in range(10):
        run.step.release()
        version = run.wait_for_change(seen, 5)
        latencies.append(time.monotonic() - run.changed_at[-1])
        assert version != seen
        seen = version
    assert run.join(5)
    # A woken waiter answers within milliseconds; a poll every 0.2 s would not.
    assert statistics.median(latencies) < 0.05
    assert run.wait_for_change(run.version, 0.01) == run.version  # times out: no change


def test_follow_draws_every_run_to_its_end_on_changes_only():
    runs = [Steps(3), Steps(3)]
    for run in runs:
        run.start()
    frames: list[tuple[bool, tuple[int, ...]]] = []

    def frame(quiet: bool) -> float:
        frames.append((quiet, tuple(r.version for r in runs)))
        return 0.0

    def drive():
        for _ in range(3):
            for run in runs:
                run.step.release()
                run.wait_for_change(run.version, 5)

    driver = threading.Thread(target=drive)
    started = time.monotonic()
    driver.start()
    follow(runs, frame)
    driver.join(5)
    assert all(not r.running for r in runs)
    assert frames[-1][1] == tuple(r.version for r in runs)  # the last frame shows the end
    assert time.monotonic() - started < 5
    # Frames follow changes: never more than one per change (plus the first), however
    # long the runs took, so nothing is redrawn on a timer while changes keep coming.
    assert len(frames) <= 1 + sum(r.version for r in runs)


def test_follow_returns_once_the_ended_runs_have_recorded_themselves():
    """A page that goes on (or a History opened) right after a run ended must find its
    record written, not the 'interrupted' row the record starts as."""
    recorded = threading.Event()

    def record(run) -> None:
        time.sleep(0.3)  # a history write on a busy disk
        recorded.set()
    run = Steps(1, on_finish=record).start()
    run.step.release()
    follow([run], lambda quiet: 0.0)
    assert recorded.is_set()
