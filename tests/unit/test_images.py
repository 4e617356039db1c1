"""Settings in PNG metadata, grids, the download zip and the encode cache, on real images."""
from __future__ import annotations

import io
import json
import struct
import threading
import time
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from lib.api.redact import is_credential_name
from lib.images import EncodeCache, ZipImage, build_zip
from lib.images.grid import FAILED_FILL, display_copy, make_grid, make_xy_grid, preview_grid
from lib.images.png_settings import (ImageSettingsError, a1111_parameters, encode_png,
                                     parse_a1111_parameters, read_png_settings, with_png_settings)
from tests.support.png import chunk, insert_after_header, photo, png_bytes

SETTINGS = {
    "model": "black-forest-labs/FLUX.1-schnell",
    "prompt": "a red fox, sitting in snow\nstyle: ink wash, 35mm",
    "negative_prompt": "blurry, text: watermark",
    "seed": 42,
    "steps": 4,
    "width": 1024,
    "height": 768,
    "guidance_scale": 3.5,
    "n": 2,
    "response_format": "base64",
}
SECRET = "sk-live-0123456789abcdef"

# A real AUTOMATIC1111 1.9 infotext: multi-line prompt, quoted value holding commas.
A1111_TEXT = (
    "masterpiece, best quality, a castle on a hill,\n"
    "at sunset\n"
    "Negative prompt: lowres, bad anatomy\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, "
    "Size: 832x1216, Model hash: 6ce0161689, Model: sd_xl_base_1.0, "
    'Lora hashes: "detail: 1a2b3c, style: 4d5e6f", Version: v1.9.4'
)


def solid(colour, size=(64, 48), mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


# ---------------------------------------------------------------- metadata round trip

def test_our_png_gives_back_the_exact_settings_and_pixels():
    image = photo()
    data = encode_png(image, SETTINGS)
    restored = read_png_settings(data)
    assert restored.values == SETTINGS
    assert restored.dropped == {}
    assert restored.source == "together-playground"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), np.asarray(image))


def test_unicode_multiline_prompt_round_trips():
    settings = dict(SETTINGS, prompt="猫 — café 🐈\n  indented line\n", negative_prompt="")
    assert read_png_settings(encode_png(photo(), settings)).values == settings


def test_each_known_setting_has_its_own_chunk_and_a1111_text():
    info = Image.open(io.BytesIO(encode_png(photo(), SETTINGS))).info
    assert info["prompt"] == SETTINGS["prompt"]
    assert info["seed"] == "42" and info["steps"] == "4" and info["guidance_scale"] == "3.5"
    assert info["model"] == SETTINGS["model"]
    assert json.loads(info["together-playground"]) == SETTINGS
    assert info["parameters"] == a1111_parameters(SETTINGS)
    assert info["parameters"].splitlines()[-1] == (
        "Steps: 4, CFG scale: 3.5, Seed: 42, Size: 1024x768, "
        "Model: black-forest-labs/FLUX.1-schnell")


@pytest.mark.parametrize("name", ["api_key", "API_KEY", "apiKey", "x-api-key", "Authorization",
                                  "access_token", "token", "key", "TOGETHER_API_KEY", "secret"])
def test_credential_names_are_recognised(name):
    assert is_credential_name(name)


@pytest.mark.parametrize("name", ["max_tokens", "prompt_tokens", "monkey", "keyword", "seed",
                                  "negative_prompt", "together-playground"])
def test_ordinary_names_are_not_credentials(name):
    assert not is_credential_name(name)


def test_api_key_is_never_written_to_a_png():
    settings = dict(SETTINGS, api_key=SECRET, Authorization=f"Bearer {SECRET}",
                    extra={"token": SECRET, "headers": [{"x-api-key": SECRET}]})
    data = encode_png(photo(), settings)
    assert SECRET.encode() not in data
    info = Image.open(io.BytesIO(data)).info
    assert all(SECRET not in str(v) for v in info.values())
    assert "api_key" not in json.loads(info["together-playground"])
    restored = read_png_settings(data)
    assert restored.values == SETTINGS and set(restored.dropped) == {"extra"}


def test_a_png_written_by_a1111_restores_known_fields_and_reports_the_rest():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111_TEXT)
    restored = read_png_settings(png_bytes(photo(), info))
    assert restored.source == "parameters"
    assert restored.values == {
        "prompt": "masterpiece, best quality, a castle on a hill,\nat sunset",
        "negative_prompt": "lowres, bad anatomy", "steps": 28, "guidance_scale": 7.0,
        "seed": 1234567890, "width": 832, "height": 1216, "model": "sd_xl_base_1.0"}
    assert set(restored.dropped) == {"Sampler", "Schedule type", "Model hash", "Lora hashes",
                                     "Version"}
    assert "not a parameter" in restored.dropped["Sampler"]


def test_a1111_quoted_value_with_commas_is_unquoted():
    parsed = parse_a1111_parameters(A1111_TEXT)
    assert parsed["Lora hashes"] == "detail: 1a2b3c, style: 4d5e6f"
    assert parsed["Sampler"] == "DPM++ 2M"


def test_a1111_without_negative_prompt_or_parameter_line():
    assert parse_a1111_parameters("a cat\nSteps: 20, Seed: 1, Model: m") == {
        "prompt": "a cat", "steps": "20", "seed": "1", "model": "m"}
    # A last line that merely looks like "key: value" but names nothing A1111 writes.
    assert parse_a1111_parameters("a cat\nstyle: ink wash, mood: calm") == {
        "prompt": "a cat\nstyle: ink wash, mood: calm"}


def test_our_a1111_text_parses_back_to_the_same_fields():
    settings = dict(SETTINGS, model="org/model, v2: beta")  # needs quoting
    parsed = parse_a1111_parameters(a1111_parameters(settings))
    assert parsed == {"prompt": settings["prompt"], "negative_prompt": settings["negative_prompt"],
                      "steps": "4", "guidance_scale": "3.5", "seed": "42", "width": "1024",
                      "height": "768", "model": "org/model, v2: beta"}


def test_a1111_text_carries_effective_size_steps_and_cfg_left_at_defaults():
    assert a1111_parameters({"prompt": "a cat", "model": "m"}) == (
        "a cat\nSteps: 20, CFG scale: 3.5, Size: 1024x1024, Model: m")


def test_settings_appended_after_the_pixels_are_found():
    png = png_bytes(photo())
    iend = png.rindex(b"IEND") - 4
    data = png[:iend] + chunk(b"tEXt", b"parameters\0a cat\nSteps: 9, Model: m") + png[iend:]
    assert read_png_settings(data).values == {"prompt": "a cat", "steps": 9, "model": "m"}


# ---------------------------------------------------------------- hostile files

def test_not_a_png_is_refused_plainly():
    out = io.BytesIO()
    photo().save(out, format="JPEG")
    with pytest.raises(ImageSettingsError, match="not a PNG"):
        read_png_settings(out.getvalue())


def test_png_without_settings_is_refused_plainly():
    with pytest.raises(ImageSettingsError, match="no generation settings"):
        read_png_settings(png_bytes(photo()))


def test_truncated_png_is_refused():
    data = encode_png(photo(), SETTINGS)
    with pytest.raises(ImageSettingsError, match="truncated"):
        read_png_settings(data[: len(data) // 2])


def test_a_50_mb_text_chunk_is_refused():
    body = b"together-playground\0" + b"x" * (50 * 2**20)
    data = insert_after_header(png_bytes(photo()), chunk(b"tEXt", body))
    with pytest.raises(ImageSettingsError, match="text chunk of"):
        read_png_settings(data)


def test_ten_thousand_text_chunks_are_refused():
    extra = chunk(b"tEXt", b"k\0v") * 10_000
    data = insert_after_header(encode_png(photo(), SETTINGS), extra)
    with pytest.raises(ImageSettingsError, match="text chunks"):
        read_png_settings(data)


def test_compressed_text_bomb_is_refused():
    bomb = zlib.compress(b" " * (50 * 2**20), 9)  # ~50 kB that inflates to 50 MB
    data = insert_after_header(png_bytes(photo()),
                               chunk(b"zTXt", b"together-playground\0\0" + bomb))
    with pytest.raises(ImageSettingsError, match="cannot be read"):
        read_png_settings(data)


def test_png_claiming_too_many_pixels_is_refused():
    png = png_bytes(photo())
    ihdr = struct.pack(">II", 100_000, 100_000) + png[24:29]
    data = png[:8] + chunk(b"IHDR", ihdr) + png[33:]
    data = insert_after_header(data, chunk(b"tEXt", b"parameters\0a cat\nSteps: 9"))
    with pytest.raises(ImageSettingsError, match="too many pixels"):
        read_png_settings(data)


def with_json_chunk(text: str, parameters: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("together-playground", text)
    if parameters is not None:
        info.add_text("parameters", parameters)
    return png_bytes(photo(), info)


def test_invalid_fields_are_dropped_and_reported_without_the_key():
    tampered = dict(SETTINGS, steps="many", width=1001, seed=-1, guidance_scale="NaN",
                    sampler="Euler", api_key=SECRET)
    restored = read_png_settings(with_json_chunk(json.dumps(tampered)))
    assert set(restored.dropped) == {"steps", "width", "seed", "guidance_scale", "sampler",
                                     "api_key"}
    assert "multiple of 8" in restored.dropped["width"]
    assert restored.values == {k: v for k, v in SETTINGS.items()
                               if k not in ("steps", "width", "seed", "guidance_scale")}
    assert all(SECRET not in reason for reason in restored.dropped.values())


def test_oversized_a1111_text_is_refused():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat " * 100_000 + "\nSteps: 9, Model: m")
    with pytest.raises(ImageSettingsError, match="too large"):
        read_png_settings(png_bytes(photo(), info))


def test_broken_json_falls_back_to_the_a1111_text():
    restored = read_png_settings(with_json_chunk("{not json", "a cat\nSteps: 9, Model: m"))
    assert restored.source == "parameters" and restored.values["steps"] == 9


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[" * 200_000 + "]" * 200_000, "too large"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),      # nesting deeper than Python's stack
    ('["a list"]', "not a JSON object"),
    (json.dumps({f"f{i}": i for i in range(10_000)}), "fields; refused"),
    (json.dumps({"sampler": "Euler", "api_key": SECRET}), "no usable generation settings"),
])
def test_malicious_or_useless_json_is_refused(text, message):
    with pytest.raises(ImageSettingsError, match=message):
        read_png_settings(with_json_chunk(text))


# ---------------------------------------------------------------- grids

def test_make_grid_geometry_and_centring():
    red, green, blue = solid("red", (100, 80)), solid("lime", (60, 40)), solid("blue", (100, 80))
    grid = make_grid([red, green, blue], cols=2, gap=10, background="white")
    assert grid.size == (2 * 100 + 10, 2 * 80 + 10)
    px = grid.load()
    assert px[50, 40] == (255, 0, 0)
    assert px[110 + 50, 40] == (0, 255, 0)          # centred in its 100x80 cell
    assert px[110 + 5, 5] == (255, 255, 255)        # cell corner around the small image
    assert px[105, 40] == (255, 255, 255)           # the gap
    assert px[50, 90 + 40] == (0, 0, 255)
    assert px[110 + 50, 90 + 40] == (255, 255, 255)  # empty last cell


def test_make_grid_default_columns_and_transparency():
    tiles = [solid((0, 0, 0, 0), (10, 10), "RGBA")] + [solid("red", (10, 10))] * 4
    grid = make_grid(tiles, background=(9, 9, 9))
    assert grid.size == (30, 20)                     # ceil(sqrt(5)) = 3 columns
    assert grid.getpixel((5, 5)) == (9, 9, 9)        # transparent pixels show the background


def test_make_grid_shrinks_images_larger_than_the_tile():
    grid = make_grid([solid("red", (200, 100))], tile=(50, 50))
    assert grid.size == (50, 50)
    assert grid.getpixel((25, 25)) == (255, 0, 0) and grid.getpixel((25, 5)) == (255, 255, 255)


def test_make_grid_needs_an_image():
    with pytest.raises(ValueError):
        make_grid([])


def test_display_copy_shrinks_only_wide_images():
    wide = solid("red", (4096, 2048))
    shown = display_copy(wide)
    assert shown.size == (1460, 730)
    small = solid("red", (800, 600))
    assert display_copy(small) is small


def test_preview_grid_is_the_full_grid_layout_at_screen_size():
    colours = ["red", "lime", "blue", "yellow", "cyan", "magenta", "black", "gray"]
    tiles = [solid(c, (1024, 1024)) for c in colours]
    preview = preview_grid(tiles, cols=4)
    assert preview.size == (4 * 365, 2 * 365)
    full = make_grid(tiles, cols=4)
    for i in range(8):
        row, col = divmod(i, 4)
        assert preview.getpixel((col * 365 + 182, row * 365 + 182)) == \
            full.getpixel((col * 1024 + 512, row * 1024 + 512))


def ink(image: Image.Image, box) -> int:
    """How many dark pixels (text) lie in ``box``."""
    return int((np.asarray(image.crop(box).convert("L")) < 100).sum())


def bbox_of(image: Image.Image, colour) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.all(np.asarray(image) == colour, axis=-1))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_xy_grid_has_labels_titles_and_a_failed_tile():
    colours = {(0, 0): (255, 0, 0), (0, 1): (0, 255, 0), (0, 2): (0, 0, 255),
               (1, 0): (255, 255, 0), (1, 2): (0, 255, 255)}
    cells = {rc: solid(c, (256, 256)) for rc, c in colours.items()}
    cells[(1, 1)] = None
    plot = make_xy_grid(cells, ["steps 4", "steps 8"], ["cfg 1", "cfg 3.5", "cfg 7"],
                        "Guidance scale", "Steps", tile_max=128)
    boxes = {rc: bbox_of(plot, c) for rc, c in colours.items()}
    for (r, c), (x0, y0, x1, y1) in boxes.items():
        assert (x1 - x0, y1 - y0) == (128, 128)  # shrunk to tile_max
    failed = (boxes[(0, 1)][0], boxes[(1, 0)][1], boxes[(0, 1)][2], boxes[(1, 0)][3])
    grey = np.all(np.asarray(plot.crop(failed)) == FAILED_FILL, axis=-1)
    assert grey.mean() > 0.8                                        # a grey tile...
    assert ink(plot, failed) > 20                                   # ...saying "failed"
    first_col_x = boxes[(0, 0)][0]
    for r in (0, 1):                                                # row labels, left
        _, y0, _, y1 = boxes[(r, 0)]
        assert ink(plot, (first_col_x - 60, y0, first_col_x, y1)) > 20
    top = boxes[(0, 0)][1]
    for c in range(3):                                              # column labels, above
        x0, _, x1, _ = boxes[(0, c)]
        assert ink(plot, (x0, top - 20, x1, top)) > 20
    bare = make_xy_grid(cells, ["steps 4", "steps 8"], ["cfg 1", "cfg 3.5", "cfg 7"], "", "",
                        tile_max=128)
    assert plot.width > bare.width and plot.height > bare.height   # room for both titles
    assert ink(plot, (0, top, first_col_x - 60, plot.height)) > 20  # title_y, rotated
    assert ink(plot, (first_col_x, 0, plot.width, top - 25)) > 20   # title_x


def test_xy_grid_long_labels_are_bounded():
    label = "word " * 2000 + "x" * 10_000
    plot = make_xy_grid({(0, 0): photo((128, 128))}, [label], [label], label, label,
                        tile_max=128)
    assert plot.width < 128 * 3 and plot.height < 128 * 3


def test_xy_grid_refuses_cells_outside_the_plot():
    with pytest.raises(ValueError, match="outside"):
        make_xy_grid({(2, 0): photo()}, ["a"], ["b"], "x", "y")


# ---------------------------------------------------------------- zip

def test_build_zip_contents():
    png_image, jpeg_image = photo((64, 64)), photo((64, 64))
    received_png = png_bytes(png_image)
    out = io.BytesIO()
    jpeg_image.save(out, format="JPEG")
    items = [ZipImage(png_image, dict(SETTINGS, seed=7), received_png),
             ZipImage(Image.open(io.BytesIO(out.getvalue())), dict(SETTINGS, seed=8),
                      out.getvalue())]
    grid = encode_png(make_grid([i.image for i in items]))
    manifest = {"requests": [dict(SETTINGS, seed=7), dict(SETTINGS, seed=8)],
                "connection": {"base_url": "http://127.0.0.1:1/v1", "api_key": SECRET,
                               "headers": {"Authorization": f"Bearer {SECRET}"}}}
    data = build_zip(items, grid, manifest)

    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["image_0001_seed7.png", "image_0002_seed8.png", "grid.png",
                                  "manifest.json"]
    assert all(archive.getinfo(n).compress_type == zipfile.ZIP_STORED
               for n in archive.namelist()[:3])
    for name, item in zip(archive.namelist()[:2], items):
        member = archive.read(name)
        assert read_png_settings(member).values == item.settings
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(member)).convert("RGB")),
                              np.asarray(item.image.convert("RGB")))
    assert archive.read("grid.png") == grid
    assert json.loads(archive.read("manifest.json")) == {
        "requests": manifest["requests"],
        "connection": {"base_url": "http://127.0.0.1:1/v1", "headers": {}}}
    assert archive.read("manifest.json").startswith(b"{\n  ")  # pretty
    assert all(SECRET.encode() not in archive.read(n) for n in archive.namelist())
    assert build_zip(items, grid, manifest) == data            # a pure function of its inputs


def test_png_from_the_server_keeps_its_pixel_data():
    received = png_bytes(photo())
    spliced = with_png_settings(received, SETTINGS)
    idat = received.index(b"IDAT") - 4
    assert received[idat:] in spliced                           # pixel chunks copied verbatim
    again = with_png_settings(spliced, dict(SETTINGS, seed=5))   # replaces, not duplicates
    assert read_png_settings(again).values["seed"] == 5
    assert again.count(b"together-playground") == 1


def test_zip_without_grid_and_unnamed_seed():
    data = build_zip([ZipImage(photo(), {"prompt": "a", "model": "m"})], None, {})
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["image_0001.png", "manifest.json"]


# ---------------------------------------------------------------- encode cache

def test_encode_cache_encodes_once_per_key():
    cache = EncodeCache()
    calls = []

    def producer(tag):
        return lambda: calls.append(tag) or tag.encode()

    assert cache.encodes == 0 and len(cache) == 0              # nothing until asked
    assert cache.get(("gen1", "zip"), producer("a")) == b"a"
    assert cache.get(("gen1", "zip"), producer("b")) == b"a"   # a rerun: no new encode
    assert cache.get(("gen1", "grid"), producer("c")) == b"c"
    assert (cache.encodes, cache.hits, calls) == (2, 1, ["a", "c"])
    assert ("gen1", "zip") in cache


def test_encode_cache_evicts_least_recently_used():
    cache = EncodeCache(max_bytes=10, max_items=2)
    cache.get("a", lambda: b"1234")
    cache.get("b", lambda: b"1234")
    cache.get("a", lambda: b"")                                  # a is now the newest
    cache.get("c", lambda: b"12")
    assert "b" not in cache and "a" in cache and "c" in cache
    cache.get("d", lambda: b"123456789")
    assert cache.size <= 10 and "d" in cache


def test_encode_cache_does_not_keep_failures():
    cache = EncodeCache()
    with pytest.raises(RuntimeError):
        cache.get("k", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert cache.get("k", lambda: b"ok") == b"ok" and cache.encodes == 1


def test_encode_cache_concurrent_asks_encode_once():
    cache = EncodeCache()
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return b"zip"

    first = threading.Thread(target=cache.get, args=("k", slow))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=cache.get, args=("k", slow)) for _ in range(3)]
    for t in others:
        t.start()
    time.sleep(0.05)  # let the others reach the per-key lock
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert cache.encodes == 1 and cache.hits == 3
