"""A run's downloads: each PNG carries its settings, the zip holds everything and no key,
and asking again (a rerun) encodes nothing."""
from __future__ import annotations

import io
import json
import zipfile

from PIL import Image

from lib.api import Client
from lib.images import EncodeCache, read_png_settings
from lib.images.batch import batch_runner, plan_batch, run_batch
from lib.images.run import BATCH, OK, STOPPED, ImageRun, cached, grid_png, image_png, zip_bytes
from lib.images.store import ImageStore

KEY = "sk-test-NEVER-IN-FILES-123"


def finished_run(backend, tmp_path, n=3, output_format="png"):
    body = {"model": "local/procedural-image", "prompt": "a harbour", "width": 64,
            "height": 80, "steps": 2, "n": n, "seed": 70, "response_format": "base64",
            "output_format": output_format, "api_key": KEY}  # a key that slipped in
    store = ImageStore(tmp_path)
    plans = plan_batch({k: v for k, v in body.items() if k != "api_key"}, cap=2)
    run = ImageRun.from_plans(BATCH, body, plans, provider="Local", base_url=backend.base_url)

    def generate(request):
        with Client(api_key=KEY, base_url=backend.base_url) as client:
            return client.generate_images(request)

    for arrival in run_batch(batch_runner(generate, plans, store)):
        run.add(arrival)
    run.finish()
    return run, store


def test_each_png_carries_its_own_settings(fresh_backend, tmp_path):
    run, store = finished_run(fresh_backend, tmp_path, output_format="jpeg")
    assert run.status == OK and sorted(run.images) == [0, 1, 2]
    png = image_png(run, 2, store)
    restored = read_png_settings(png)
    assert restored.values["seed"] == 72 and restored.values["prompt"] == "a harbour"
    assert Image.open(io.BytesIO(png)).info["parameters"].endswith("Model: local/procedural-image")
    assert KEY.encode() not in png


def test_the_zip_holds_images_grid_and_the_exact_requests(fresh_backend, tmp_path):
    run, store = finished_run(fresh_backend, tmp_path)
    data = zip_bytes(run, store, EncodeCache())
    assert KEY.encode() not in data
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names == ["image_0001_seed70.png", "image_0002_seed71.png",
                     "image_0003_seed72.png", "grid.png", "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    assert [(r["n"], r["seed"]) for r in manifest["requests"]] == [(2, 70), (1, 72)]
    assert "api_key" not in manifest["request"]
    assert [i["file"] for i in manifest["images"]] == names[:3]
    assert read_png_settings(archive.read(names[1])).values["seed"] == 71
    assert Image.open(io.BytesIO(archive.read("grid.png"))).size == (64 * 2, 80 * 2)


def test_a_rerun_asks_again_and_encodes_nothing(fresh_backend, tmp_path):
    run, store = finished_run(fresh_backend, tmp_path)
    cache = EncodeCache()
    for _ in range(2):  # the second pass is what a rerun does
        cached(cache, run, "grid", lambda: grid_png(run, store))
        cached(cache, run, ("png", 0), lambda: image_png(run, 0, store))
    assert cache.encodes == 2 and cache.hits == 2


def test_a_stopped_run_says_what_it_kept(fresh_backend, tmp_path):
    run, _ = finished_run(fresh_backend, tmp_path, n=2)
    run.total = 4
    run.finish(STOPPED)
    assert run.summary().startswith("Stopped: kept the 2 of 4 images")
