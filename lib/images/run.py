"""One Images-page run (a batch or a sweep) as session state keeps it, and its downloads.

The run holds store keys and small facts, never pixels, so a session with many runs stays
light. Every download is a pure function of the run and the store, built only when the
user asks for it, through an ``EncodeCache`` keyed by the run's id: a rerun that changes
no image asks for the same keys and encodes nothing.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from PIL import Image

from lib.api.image_decode import decode_image
from lib.api.redact import redact
from lib.images.archive import ZipImage, build_zip, png_with_settings, zip_name
from lib.background import FAILED, OK, RUNNING, STOPPED, BackgroundRun
from lib.images.batch import (MAX_CONCURRENT, Arrival, Failure, Generate, PlannedRequest,
                              StoredImage, batch_runner, run_batch)
from lib.images.encode_cache import EncodeCache
from lib.images.grid import make_grid
from lib.images.png_settings import encode_png
from lib.images.store import ImageStore
from lib.images.sweep import PlotLayout, sweep_plot
from lib.saved.recorder import Finished

BATCH, SWEEP = "batch", "sweep"


@dataclass
class ImageRun:
    """What was asked, what was sent, what arrived and what failed, by grid position."""

    kind: str
    request: dict[str, Any]          # the body as asked (the whole n; the sweep's base)
    requests: list[dict[str, Any]]   # each body exactly as sent
    total: int                       # grid positions
    provider: str = ""
    base_url: str = ""
    layout: PlotLayout | None = None  # sweeps only
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    images: dict[int, StoredImage] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    status: str = RUNNING
    started: float = field(default_factory=time.time)
    elapsed: float = 0.0
    history_id: int | None = None

    @classmethod
    def from_plans(cls, kind: str, request: dict[str, Any], plans: list[PlannedRequest],
                   **kw: Any) -> "ImageRun":
        total = max((p.first + p.count for p in plans), default=0)
        return cls(kind, dict(request), [dict(p.body) for p in plans], total, **kw)

    def add(self, arrival: Arrival) -> None:
        for image in arrival.images:
            self.images[image.position] = image
        self.failures.extend(arrival.failures)

    def finish(self, status: str | None = None) -> None:
        """Close the run: ``status`` when given (stopped), else failed if any image failed
        (the images that arrived stay in the run and in the history record)."""
        self.elapsed = time.time() - self.started
        self.status = self.outcome() if status is None else status

    def outcome(self) -> str:
        """How a run that was not stopped ended: failed when any image failed."""
        return FAILED if self.failures or not self.images else OK

    @property
    def ordered(self) -> list[StoredImage]:
        return [self.images[p] for p in sorted(self.images)]

    @property
    def missing(self) -> int:
        return self.total - len(self.images)

    def summary(self) -> str:
        """One line for the page: how many arrived, how long it took, what is missing."""
        done = f"{len(self.images)} of {self.total} image{'s' if self.total != 1 else ''}"
        took = f" in {self.elapsed:.1f} s" if self.elapsed else ""
        if self.status == STOPPED:
            return f"Stopped: kept the {done} that had arrived{took}."
        failed = sum(len(f.positions) for f in self.failures)
        tail = f"; {failed} failed" if failed else ""
        requests = len(self.requests)
        return (f"{done}{took} from {requests} request{'s' if requests != 1 else ''}{tail}.")

    def manifest(self) -> dict[str, Any]:
        """What ``manifest.json`` says: every request exactly as sent, every file, every
        failure. Keys are scrubbed (``lib.redact``) whatever a caller put in."""
        files = {p: zip_name(i, im.seed) for i, (p, im) in
                 enumerate(sorted(self.images.items()), start=1)}
        return redact({
            "kind": self.kind, "provider": self.provider, "base_url": self.base_url,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "status": self.status, "request": self.request, "requests": self.requests,
            "images": [{"file": files[p], "position": p, "request": im.request,
                        "seed": im.seed, "width": im.width, "height": im.height,
                        "format_received": im.format, "url": im.url,
                        "settings": im.settings} for p, im in sorted(self.images.items())],
            "failures": [f.to_dict() for f in self.failures],
            "sweep": None if self.layout is None else {
                "x": self.layout.title_x, "x_values": list(self.layout.col_labels),
                "y": self.layout.title_y or None,
                "y_values": list(self.layout.row_labels) if self.layout.title_y else None},
        })

    def start_metrics(self) -> dict[str, Any]:
        return {"kind": self.kind, "requests": len(self.requests)}

    def finished(self) -> Finished:
        """The ended run as its history row keeps it: each image's file in the store and
        its seed, and the first few failures in words."""
        error = "; ".join(f.message for f in self.failures[:3]) or None
        return Finished(
            status=self.status, error=error,
            outputs=[{"index": p, "file": im.key, "seed": im.seed}
                     for p, im in sorted(self.images.items())],
            metrics={**self.start_metrics(), "latency": self.elapsed,
                     "images": len(self.images), "failed": self.missing})


class ImageBatchRun(BackgroundRun):
    """An ``ImageRun`` (a batch or a sweep) filled in on a worker thread.

    Like a stream, the batch outlives the page script: a click elsewhere reruns the page,
    which finds the run in session state and follows it again; only ``stop()`` ends it
    (nothing new is sent, what arrived is kept).
    """

    def __init__(self, run: ImageRun, plans: list[PlannedRequest], generate: Generate,
                 store: ImageStore, *, on_finish: Callable[["ImageBatchRun"], None] | None = None,
                 max_workers: int = MAX_CONCURRENT):
        super().__init__(name="image-batch", on_finish=on_finish)
        self._run = run
        self._runner = batch_runner(generate, plans, store, max_workers)

    def snapshot(self) -> ImageRun:
        """A copy the page may draw while answers keep landing in the original."""
        with self._cond:
            return replace(self._run, images=dict(self._run.images),
                           failures=list(self._run.failures))

    def finished(self) -> Finished:
        return self.snapshot().finished()

    def _work(self) -> None:
        for arrival in run_batch(self._runner):
            with self._cond:
                if self._stop_requested:
                    return
                self._run.add(arrival)
                self._bump()

    def _interrupt(self) -> None:
        self._runner.stop()

    def _outcome(self) -> str:
        return STOPPED if self._stop_requested else self._run.outcome()

    def _finish(self, status: str) -> None:
        if self._status == RUNNING:
            self._run.finish(status)
        super()._finish(status)


# ---------------------------------------------------------------- downloads (lazy)

def full_images(run: ImageRun, store: ImageStore,
                positions: Iterable[int] | None = None) -> dict[int, Image.Image]:
    """Decoded full-size images by position, read back from the store."""
    wanted = sorted(run.images) if positions is None else positions
    return {p: decode_image(store.get(run.images[p].key)) for p in wanted}


def image_png(run: ImageRun, position: int, store: ImageStore) -> bytes:
    """One image as a PNG carrying its settings (a received PNG is not re-encoded)."""
    stored = run.images[position]
    data = store.get(stored.key)
    return png_with_settings(ZipImage(decode_image(data), stored.settings, data))


def grid_png(run: ImageRun, store: ImageStore) -> bytes:
    """All arrived images as one PNG: the plain grid, or a sweep's labelled plot."""
    images = full_images(run, store)
    if run.layout is not None:
        cells: dict[int, Image.Image | None] = {p: None for p in range(run.total)}
        cells.update(images)
        grid = sweep_plot(run.layout, cells)
    else:
        grid = make_grid([images[p] for p in sorted(images)])
    return encode_png(grid, run.request)


def zip_bytes(run: ImageRun, store: ImageStore, cache: EncodeCache) -> bytes:
    """Every image as a PNG with its settings, the grid and manifest.json, in one zip."""
    data = {p: store.get(im.key) for p, im in run.images.items()}
    items = [ZipImage(decode_image(data[p]), run.images[p].settings, data[p])
             for p in sorted(run.images)]
    grid = cached(cache, run, "grid", lambda: grid_png(run, store)) if run.images else None
    return build_zip(items, grid, run.manifest())


def cached(cache: EncodeCache, run: ImageRun, what: Any, producer) -> bytes:
    """Download bytes keyed by run, arrived images and ``what``: made once, then reused."""
    return cache.get((run.id, tuple(sorted(run.images)), what), producer)
