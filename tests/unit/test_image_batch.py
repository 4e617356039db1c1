"""Batches split, run concurrently, arrive one request at a time and survive a failed request;
all over real HTTP to the local backend."""
from __future__ import annotations

import threading

import pytest
from PIL import Image

from lib.api import Client
from lib.api.errors import ServerError
from lib.api.image_decode import decode_image
from lib.catalogue import SEED_MAX
from lib.images.batch import (DEFAULT_CAP, RANDOM_SEED_LIMIT, Arrival, RequestRunner, batch_runner,
                              cap_for, offset_seed, plan_batch, run_batch, thumbnail_jpeg)
from lib.images.store import ImageStore

MODEL = "local/procedural-image"


def body(**overrides):
    b = {"model": MODEL, "prompt": "a lighthouse at dusk", "width": 64, "height": 64,
         "steps": 4, "response_format": "base64", "output_format": "png"}
    b.update(overrides)
    return b


def generate_with(backend):
    def generate(request: dict):
        with Client(api_key="", base_url=backend.base_url, max_retries=0) as client:
            return client.generate_images(request)
    return generate


def collect(backend, plans, store, **runner_kw):
    runner = batch_runner(generate_with(backend), plans, store, **runner_kw)
    return [a for a in run_batch(runner) if a is not None]


def test_plan_splits_at_the_cap_with_seeds_that_continue_across_requests():
    plans = plan_batch(body(n=10, seed=100), cap=4)
    assert [p.count for p in plans] == [4, 4, 2]
    assert [p.body["seed"] for p in plans] == [100, 104, 108]
    assert [list(p.positions) for p in plans][2] == [8, 9]
    assert all(p.body["prompt"] == "a lighthouse at dusk" for p in plans)


def test_plan_without_a_seed_draws_one_so_the_batch_can_be_made_again():
    plans = plan_batch(body(n=5), cap=4)
    base = plans[0].body["seed"]
    assert 0 <= base <= RANDOM_SEED_LIMIT
    assert plans[1].body["seed"] == base + 4


def test_seeds_wrap_at_the_api_maximum_and_caps_have_a_default():
    assert offset_seed(SEED_MAX, 2) == 1
    assert cap_for("anything/else") == DEFAULT_CAP
    assert cap_for("m", {"m": 1}) == 1
    with pytest.raises(ValueError):
        plan_batch(body(n=2), cap=0)


def test_a_split_batch_arrives_whole_with_seeds_matching_positions(fresh_backend, tmp_path):
    fresh_backend.clear_requests()
    store = ImageStore(tmp_path)
    plans = plan_batch(body(n=6, seed=40), cap=4)
    arrivals = collect(fresh_backend, plans, store)
    images = sorted((im for a in arrivals for im in a.images), key=lambda im: im.position)
    assert [im.position for im in images] == list(range(6))
    assert [im.seed for im in images] == [40 + p for p in range(6)]
    assert not any(a.failures for a in arrivals)
    sent = [r["body"] for r in fresh_backend.requests_seen if r["path"].endswith("images/generations")]
    assert sorted((b["n"], b["seed"]) for b in sent) == [(2, 44), (4, 40)]
    # bytes on disk, exactly as received; each image's settings remake it alone
    first = images[0]
    assert decode_image(store.get(first.key)).size == (64, 64)
    assert first.settings["seed"] == 40 and "n" not in first.settings
    assert decode_image(store.get(first.thumb_key)).format == "JPEG"


def test_one_failed_request_leaves_the_others(fresh_backend, tmp_path):
    fresh_backend.add_fault({"kind": "status", "status": 500, "path": "images"})
    plans = plan_batch(body(n=8, seed=1), cap=4)
    arrivals = collect(fresh_backend, plans, ImageStore(tmp_path), max_workers=1)
    failures = [f for a in arrivals for f in a.failures]
    images = [im for a in arrivals for im in a.images]
    assert len(images) == 4 and len(failures) == 1
    assert failures[0].positions == [0, 1, 2, 3] and failures[0].status == 500
    assert "Server error" in failures[0].message
    assert sorted(im.position for im in images) == [4, 5, 6, 7]


def test_a_bad_url_item_fails_alone(fresh_backend, tmp_path):
    fresh_backend.add_fault({"kind": "not_image", "path": "image_file"})
    plans = plan_batch(body(n=2, seed=3, response_format="url"), cap=4)
    arrivals = collect(fresh_backend, plans, ImageStore(tmp_path))
    assert len(arrivals) == 1
    (arrival,) = arrivals
    assert len(arrival.images) == 1 and len(arrival.failures) == 1
    assert arrival.images[0].url.startswith(fresh_backend.root_url)
    assert arrival.failures[0].positions[0] in (0, 1)


def test_stop_sends_nothing_new_and_keeps_what_arrived(fresh_backend, tmp_path):
    fresh_backend.clear_requests()
    plans = plan_batch(body(n=16, seed=9), cap=1)
    runner = batch_runner(generate_with(fresh_backend), plans, ImageStore(tmp_path),
                          max_workers=1)
    kept: list[Arrival] = []
    for arrival in run_batch(runner):
        kept.append(arrival)
        if len(kept) == 2:
            runner.stop()
    assert len(kept) == 2 and all(len(a.images) == 1 for a in kept)
    sent = [r for r in fresh_backend.requests_seen if r["path"].endswith("images/generations")]
    assert len(sent) <= 3  # the two that arrived and at most one already in flight


def test_runner_bounds_concurrency():
    release = threading.Event()
    active, peak = [0], [0]
    lock = threading.Lock()

    def generate(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            if active[0] == 2:
                release.set()
        release.wait(5)
        with lock:
            active[0] -= 1
        raise ServerError("boom", status=503)

    runner = RequestRunner(generate, [{"i": i} for i in range(6)], max_workers=2)
    seen = [outcome.request for outcome in runner.outcomes()]
    assert sorted(seen) == list(range(6))
    assert peak[0] == 2


def test_stop_ends_the_wait_at_once_while_a_request_is_in_flight():
    in_flight, release = threading.Event(), threading.Event()

    def generate(request):
        in_flight.set()
        release.wait(30)
        raise ServerError("late", status=503)

    runner = RequestRunner(generate, [{"i": 0}, {"i": 1}], max_workers=1)
    ended = threading.Event()
    reader = threading.Thread(target=lambda: (list(runner.outcomes()), ended.set()))
    reader.start()
    assert in_flight.wait(5)
    runner.stop()
    try:
        assert ended.wait(5), "the runner kept waiting for the request in flight"
    finally:
        release.set()
        reader.join(5)


def test_thumbnail_is_a_small_jpeg_of_the_same_shape():
    data = thumbnail_jpeg(Image.new("RGB", (1024, 512), (10, 200, 30)), size=256)
    thumb = decode_image(data)
    assert thumb.format == "JPEG" and thumb.size == (256, 128)
    assert decode_image(thumbnail_jpeg(Image.new("RGBA", (40, 80)))).size == (40, 80)


def test_an_image_that_cannot_be_kept_on_disk_is_a_failure_in_words(fresh_backend, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    plans = plan_batch(body(n=2, seed=5), cap=4)
    (arrival,) = collect(fresh_backend, plans, ImageStore(blocked))
    assert arrival.images == []
    assert sorted(p for f in arrival.failures for p in f.positions) == [0, 1]
    assert "Could not keep image 1 on disk" in arrival.failures[0].message
