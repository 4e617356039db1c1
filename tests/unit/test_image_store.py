"""The on-disk image store: content keys, round trips, pruning and refusing path tricks."""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from lib.images.store import ImageStore, default_root


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def store(tmp_path) -> ImageStore:
    return ImageStore(tmp_path / "images")


def test_put_get_round_trip_by_content(store):
    data = png("red")
    key = store.put(data, "png")
    assert key == hashlib.sha256(data).hexdigest() + ".png"
    assert store.get(key) == data
    assert store.path(key).read_bytes() == data
    assert key in store
    assert store.put(data, ".PNG") == key                       # same bytes, same key
    assert [p.name for p in store.root.iterdir()] == [key]      # one file, no temp left over
    assert Image.open(io.BytesIO(store.get(key))).getpixel((0, 0)) == (255, 0, 0)


def test_jpg_is_stored_as_jpeg_and_unknown_extensions_are_refused(store):
    assert store.put(b"\xff\xd8jpeg", "jpg").endswith(".jpeg")
    with pytest.raises(ValueError, match="extension"):
        store.put(b"x", "../../evil")


def test_missing_key_is_a_key_error(store):
    key = hashlib.sha256(b"never stored").hexdigest() + ".png"
    with pytest.raises(KeyError):
        store.get(key)
    assert key not in store


@pytest.mark.parametrize("key", [
    "../../etc/passwd",
    "/etc/passwd",
    "a" * 64 + ".png/../../../etc/passwd",
    "../" + "a" * 64 + ".png",
    "a" * 64 + ".png\x00",
    "A" * 64 + ".png",
    "a" * 64 + ".exe",
    "a" * 63 + ".png",
    "",
    None,
])
def test_keys_that_could_escape_the_store_are_refused(store, key):
    with pytest.raises(ValueError, match="not an image store key"):
        store.path(key)
    with pytest.raises(ValueError):
        store.get(key)
    assert key not in store


def test_prune_deletes_oldest_first_and_only_images(store):
    keys = [store.put(png(c), "png") for c in ("red", "lime", "blue")]
    for age, key in zip((300, 200, 100), keys):                 # red is the oldest
        os.utime(store.path(key), (1_000_000 - age, 1_000_000 - age))
    other = store.root / "notes.txt"
    other.write_text("not an image")
    size = store.path(keys[0]).stat().st_size
    total = sum(store.path(k).stat().st_size for k in keys)

    assert store.prune(total - size) == 1
    assert keys[0] not in store and keys[1] in store and keys[2] in store
    assert store.prune(0) == 2
    assert other.read_text() == "not an image"


def test_storing_again_makes_an_image_the_newest(store):
    old, new = store.put(png("red"), "png"), store.put(png("lime"), "png")
    os.utime(store.path(old), (1, 1))
    os.utime(store.path(new), (2, 2))
    store.put(png("red"), "png")
    assert store.prune(store.path(old).stat().st_size) == 1
    assert old in store and new not in store


def test_prune_of_a_store_never_written_is_harmless(tmp_path):
    assert ImageStore(tmp_path / "missing").prune(0) == 0


def test_default_root_follows_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "data"))
    assert ImageStore().root == tmp_path / "data" / "images"
    monkeypatch.delenv("PLAYGROUND_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_root() == tmp_path / "cache" / "together-playground" / "images"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_root() == Path.home() / ".cache" / "together-playground" / "images"
