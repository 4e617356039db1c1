"""A batch of images as several concurrent requests that fill one grid as they arrive.

Together takes at most 4 images per request, the page offers 16: the batch is split, and
every request gets its own seed (the batch seed plus the position of its first image), so
image ``k`` of the batch always has seed ``base + k`` and the whole batch can be made
again from one number. Requests run concurrently, but never more than a few at a time,
and each result is handed over the moment it lands, so the first images show while the
rest are still being drawn. A failed request is one outcome among others: the rest still
arrive. ``stop()`` sends nothing new; what already arrived is kept.

Image bytes go to the on-disk ``ImageStore``; callers keep only the small ``StoredImage``
records (store keys and a few numbers), never pixels, in session state.
"""
from __future__ import annotations

import io
import secrets
import time
from concurrent.futures import (FIRST_COMPLETED, Future, InvalidStateError,
                                ThreadPoolExecutor, wait)
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

from PIL import Image

from lib.api.errors import TogetherError
from lib.api.results import GeneratedImage, ImageResult
from lib.catalogue import IMAGES, SEED_MAX
from lib.images.store import ImageStore
from lib.param_settings import ParamSettings

DEFAULT_CAP = 4  # Together's documented n per request (1-4)
# Models known to take fewer images per request than DEFAULT_CAP, by id. Empty while no
# Together image model is known to do so; ``cap_for`` is where a measured one goes.
MODEL_CAPS: dict[str, int] = {}
MAX_CONCURRENT = 4
# Seeds the playground picks itself stay below 2**31 so every backend and tool (A1111's
# infotext, JavaScript widgets) can hold them exactly.
RANDOM_SEED_LIMIT = 2**31 - 1
THUMB_SIZE = 512          # longest side of the on-screen copy; the grid shows ~350 px tiles
THUMB_QUALITY = 90

Generate = Callable[[dict], ImageResult]


def cap_for(model: str, caps: Mapping[str, int] = MODEL_CAPS) -> int:
    """Largest n one request may carry for ``model``."""
    return caps.get(model, DEFAULT_CAP)


def random_seed() -> int:
    """A seed for "random" mode, chosen here so the page can show and reuse it."""
    return secrets.randbelow(RANDOM_SEED_LIMIT + 1)


def offset_seed(seed: int, offset: int) -> int:
    """``seed + offset``, wrapping at the API's largest seed instead of exceeding it."""
    return (seed + offset) % (SEED_MAX + 1)


@dataclass(frozen=True)
class PlannedRequest:
    """One request of a batch: the exact body sent and where its images go in the grid."""

    body: dict[str, Any]
    first: int  # grid position of its first image

    @property
    def count(self) -> int:
        return int(ParamSettings(IMAGES, self.body).effective("n"))

    @property
    def positions(self) -> range:
        return range(self.first, self.first + self.count)


def plan_batch(body: Mapping[str, Any], cap: int) -> list[PlannedRequest]:
    """Split a request for ``body["n"]`` images into requests of at most ``cap`` each.

    ``body`` is a built request body; without a seed, one is chosen here. Each request's
    seed is the batch seed plus its first position, so image k always has seed base + k.
    """
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    total = int(ParamSettings(IMAGES, body).effective("n"))
    base = body["seed"] if body.get("seed") is not None else random_seed()
    plans = []
    for first in range(0, total, cap):
        part = dict(body)
        part["seed"] = offset_seed(base, first)
        part["n"] = min(cap, total - first)
        plans.append(PlannedRequest(part, first))
    return plans


@dataclass
class Outcome:
    """What came back for one request: a result (possibly with per-image errors) or an error."""

    request: int
    result: ImageResult | None = None
    error: TogetherError | None = None
    seconds: float = 0.0


class RequestRunner:
    """Send bodies concurrently, at most ``max_workers`` at a time; yield outcomes as they land.

    Requests are submitted only as earlier ones finish, so ``stop()`` really means
    "nothing new": queued bodies are never sent, and the runner does not wait for the
    ones in flight (their answers are dropped). ``stop()`` resolves a future of its own
    that the wait for answers includes, so it takes effect at once, with no polling.
    """

    def __init__(self, generate: Generate, bodies: Sequence[Mapping[str, Any]],
                 max_workers: int = MAX_CONCURRENT,
                 finish: Callable[[Outcome], Any] | None = None):
        self._generate = generate
        self._finish = finish
        self._bodies = [dict(b) for b in bodies]
        self._max_workers = max(1, min(max_workers, len(self._bodies) or 1))
        self._stop_signal: Future = Future()

    def stop(self) -> None:
        try:
            self._stop_signal.set_result(None)
        except InvalidStateError:  # stopped already
            pass

    @property
    def stopped(self) -> bool:
        return self._stop_signal.done()

    def _call(self, index: int) -> Any:
        began = time.perf_counter()
        try:
            outcome = Outcome(index, result=self._generate(self._bodies[index]))
        except TogetherError as exc:
            outcome = Outcome(index, error=exc)
        outcome.seconds = time.perf_counter() - began
        return outcome if self._finish is None else self._finish(outcome)

    def outcomes(self) -> Iterator[Any]:
        """Each request's Outcome (or what ``finish`` made of it, in the worker thread) as
        it completes, until all are in or the runner is stopped."""
        pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="image-request")
        pending: set[Future] = set()
        next_index = 0
        try:
            while True:
                while (not self.stopped and next_index < len(self._bodies)
                       and len(pending) < self._max_workers):
                    pending.add(pool.submit(self._call, next_index))
                    next_index += 1
                if not pending or self.stopped:
                    return
                done, pending = wait(pending | {self._stop_signal}, return_when=FIRST_COMPLETED)
                pending.discard(self._stop_signal)
                for future in done - {self._stop_signal}:
                    if self.stopped:
                        return
                    yield future.result()
        finally:
            self.stop()
            pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- what the page keeps


@dataclass
class StoredImage:
    """One arrived image, as session state keeps it: store keys and small facts only.

    ``settings`` is the body that reproduces this one image (its own seed, n = 1): the
    text that goes into its PNG and what "reuse" puts back into the widgets.
    """

    position: int
    request: int
    key: str         # the bytes as received, in the ImageStore
    thumb_key: str   # a small JPEG for the screen, in the ImageStore
    format: str
    width: int
    height: int
    seed: int | None
    settings: dict[str, Any]
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Failure:
    """Images that did not arrive, and why, in words fit for the page."""

    request: int
    positions: list[int]
    message: str
    status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Arrival:
    """An outcome turned into stored images and failures, ready for the grid."""

    request: int
    images: list[StoredImage] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def thumbnail_jpeg(image: Image.Image, size: int = THUMB_SIZE) -> bytes:
    """A small JPEG of ``image`` for the screen: st.image passes such bytes on untouched,
    where a full-size PIL image would be JPEG-encoded at quality 100 on every draw."""
    scale = min(1.0, size / max(image.width, image.height))
    small = image
    if scale < 1:
        small = image.resize((max(1, round(image.width * scale)),
                              max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR, reducing_gap=1.0)
    if small.mode != "RGB":
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=THUMB_QUALITY)
    return out.getvalue()


def image_settings(body: Mapping[str, Any], image: GeneratedImage) -> dict[str, Any]:
    """The body that makes exactly this image again: its own seed, one image."""
    settings = {k: v for k, v in body.items() if k != "n"}
    if image.seed is not None:
        settings["seed"] = image.seed
    return settings


def store_image(image: GeneratedImage, plan: PlannedRequest, request: int,
                store: ImageStore) -> StoredImage:
    """Keep one image's bytes and screen copy on disk; return what session state holds."""
    fmt = image.format or "png"
    key = store.put(image.data, fmt)
    thumb_key = store.put(thumbnail_jpeg(image.image), "jpeg")
    return StoredImage(position=plan.first + image.index, request=request, key=key,
                       thumb_key=thumb_key, format=fmt, width=image.image.width,
                       height=image.image.height, seed=image.seed,
                       settings=image_settings(plan.body, image), url=image.url)


def settle(outcome: Outcome, plans: Sequence[PlannedRequest], store: ImageStore) -> Arrival:
    """Store an outcome's images and name its failures (whole request or single items).

    An image that cannot be written to disk (disk full, no permission) is a failure of
    that image, said in words, like any other.
    """
    plan = plans[outcome.request]
    arrival = Arrival(outcome.request)
    if outcome.error is not None:
        arrival.failures.append(Failure(outcome.request, list(plan.positions),
                                        outcome.error.describe(), outcome.error.status))
        return arrival
    assert outcome.result is not None
    for image in outcome.result.images:
        if not 0 <= image.index < plan.count:
            continue
        try:
            arrival.images.append(store_image(image, plan, outcome.request, store))
        except OSError as exc:
            arrival.failures.append(Failure(
                outcome.request, [plan.first + image.index],
                f"Could not keep image {plan.first + image.index + 1} on disk "
                f"({exc.strerror or exc}); check the data folder's free space."))
    for index, error in outcome.result.errors:
        arrival.failures.append(Failure(outcome.request, [plan.first + index],
                                        error.describe(), error.status))
    got = {im.position for im in arrival.images} | {p for f in arrival.failures
                                                   for p in f.positions}
    missing = [p for p in plan.positions if p not in got]
    if missing:
        arrival.failures.append(Failure(
            outcome.request, missing,
            f"The server returned {len(outcome.result.images)} of {plan.count} images "
            "asked for in this request."))
    return arrival


def batch_runner(generate: Generate, plans: Sequence[PlannedRequest], store: ImageStore,
                 max_workers: int = MAX_CONCURRENT) -> RequestRunner:
    """A runner for planned requests whose outcomes come out as Arrivals.

    Storing the bytes and making the screen copy happen in the worker thread that fetched
    them, so several answers are settled at once and the page only draws.
    """
    return RequestRunner(generate, [p.body for p in plans], max_workers,
                         finish=lambda outcome: settle(outcome, plans, store))


def run_batch(runner: RequestRunner) -> Iterator[Arrival]:
    """Each planned request's Arrival as it lands; ``runner`` comes from ``batch_runner``
    and may be stopped from elsewhere."""
    yield from runner.outcomes()
