"""Pillow helpers for generated images: safe decoding, settings carried in PNG metadata,
grids for the screen and for download, download archives and an encode cache.

The Images page must show a grid within 100 ms of the last decode and encode nothing for
download until asked (a default-level PNG of a 2x2 grid costs ~0.8 s). So the on-screen
path only shrinks and pastes, and every download builder here is a pure function of its
inputs that the page calls lazily through ``EncodeCache``.
"""
from __future__ import annotations

import io
import json
import math
import re
import struct
import threading
import time
import warnings
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Hashable, Iterator, Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from lib import catalogue
from lib.redact import is_credential_name, redact

# Largest image we accept from a server: a 2048 x 2048 tile is 4.2 Mpx; allow headroom for
# providers that return a little more, but far below Pillow's own bomb threshold.
MAX_PIXELS = 4096 * 4096
# What servers send and the image store keeps. Anything else Pillow can read (GIF, BMP,
# TIFF, ICO...) is refused by name rather than converted: its bytes could not be stored.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")


class ImageDecodeError(ValueError):
    """The bytes are not an image we can safely show."""


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully load image bytes, refusing decompression bombs, truncated files and
    formats other than IMAGE_FORMATS.

    Pillow opens lazily, so ``load()`` runs inside the guard: corrupt data fails here and
    not later while rendering. The bomb warning becomes an error only within this call.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in IMAGE_FORMATS:
                raise ImageDecodeError(f"it is a {image.format} image; the playground shows "
                                       f"only {', '.join(IMAGE_FORMATS)}")
            width, height = image.size
            if width * height > max_pixels:
                raise ImageDecodeError(
                    f"image is {width}x{height} pixels, more than the {max_pixels:,} allowed")
            image.load()
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image refused as a decompression bomb: {exc}") from None
    except Exception as exc:  # Pillow raises many types for bad data
        raise ImageDecodeError(f"not a readable image: {exc}") from None
    return image


# ---------------------------------------------------------------- settings <-> PNG metadata

SETTINGS_CHUNK = "together-playground"  # our full settings as JSON; read back first
A1111_CHUNK = "parameters"              # AUTOMATIC1111's "PNG info" text, read by many tools

# Caps for reading metadata from a file someone hands us. Pillow bounds *decompressed*
# zTXt/iTXt to MAX_TEXT_CHUNK each and all text to MAX_TEXT_MEMORY, but not the raw size
# of a tEXt chunk or the number of chunks, so those are checked first on the raw bytes.
MAX_PNG_BYTES = 64 * 1024 * 1024
MAX_CHUNKS = 20_000          # a 64 MB PNG cut into libpng's 8 kB IDATs has ~8,200
MAX_TEXT_CHUNKS = 256
MAX_SETTINGS_TEXT = 256 * 1024   # two 20,000-character prompts fit many times over
MAX_SETTINGS_FIELDS = 256
_TEXT_CHUNK_TYPES = (b"tEXt", b"zTXt", b"iTXt")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageSettingsError(ValueError):
    """A file we cannot restore settings from; the message is fit to show as it is."""


@dataclass
class RestoredSettings:
    """Settings read back from an image: ``values`` passed the catalogue checks; ``dropped``
    names each field left out and why, so the page can say what it ignored."""

    values: dict[str, Any]
    dropped: dict[str, str] = field(default_factory=dict)
    source: str = SETTINGS_CHUNK  # which chunk they came from


def _metadata_text(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(keyword, text) pairs for a PNG: our JSON, the A1111 text, then one per known field.

    Written from whatever mapping the page holds, so it goes through ``lib.redact`` here: a
    key pasted into a prompt or a nested field can still never reach a file.
    """
    clean = redact(settings)
    pairs = [(SETTINGS_CHUNK, json.dumps(clean, ensure_ascii=False, default=str)),
             (A1111_CHUNK, a1111_parameters(clean))]
    for name in catalogue.IMAGES.names:
        value = clean.get(name)
        if value is not None:
            pairs.append((name, value if isinstance(value, str)
                          else json.dumps(value, ensure_ascii=False, default=str)))
    return pairs


def _png_info(pairs: list[tuple[str, str]]) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    for keyword, text in pairs:
        info.add_text(keyword, text)  # tEXt when Latin-1 fits, else UTF-8 iTXt
    return info


def encode_png(image: Image.Image, settings: Mapping[str, Any] | None = None,
               compress_level: int = 1) -> bytes:
    """PNG bytes carrying ``settings`` as text chunks (never a key: see ``_metadata_text``).

    Level 1 is the default because it is ~2.2x faster than Pillow's 6 for ~13% more bytes.
    """
    if image.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=compress_level,
               pnginfo=_png_info(_metadata_text(settings)) if settings else None)
    return out.getvalue()


def _chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk up to IEND, reading only the length fields."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ImageSettingsError("This file is not a PNG.")
    pos, count = len(_PNG_SIGNATURE), 0
    while pos + 12 <= len(data):
        count += 1
        if count > MAX_CHUNKS:
            raise ImageSettingsError(f"This PNG has more than {MAX_CHUNKS:,} chunks; refused.")
        length, cid = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            break
        yield cid, pos, end
        if cid == b"IEND":
            return
        pos = end
    raise ImageSettingsError("This PNG is truncated.")


def _raw_chunk(cid: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + cid + body + struct.pack(">I", zlib.crc32(cid + body))


def with_png_settings(png: bytes, settings: Mapping[str, Any]) -> bytes:
    """The same PNG with our settings chunks inserted after IHDR: no pixel is re-encoded.

    A PNG the server sent keeps its exact bytes this way, at the cost of a copy instead of
    a ~90 ms encode per 1024² tile. Text chunks whose keyword we write are replaced.
    """
    chunks = list(_chunks(png))
    if not chunks or chunks[0][0] != b"IHDR":
        raise ImageSettingsError("This PNG does not start with a header chunk.")
    pairs = _metadata_text(settings)
    ours = {keyword.encode("latin-1") for keyword, _ in pairs}
    new = b"".join(_raw_chunk(cid, body) for cid, body, *_ in _png_info(pairs).chunks)
    parts = [png[:chunks[0][2]], new]
    for cid, start, end in chunks[1:]:
        if cid in _TEXT_CHUNK_TYPES and png[start + 8:end - 4].split(b"\0", 1)[0] in ours:
            continue
        parts.append(png[start:end])
    return b"".join(parts)


def _png_text(data: bytes) -> dict[str, str]:
    """The text chunks of a PNG, bounded in size, count and time before Pillow parses any."""
    if len(data) > MAX_PNG_BYTES:
        raise ImageSettingsError(f"This file is larger than {MAX_PNG_BYTES // 2**20} MB; "
                                 "refused.")
    texts, after_idat, seen_idat = 0, False, False
    for cid, start, end in _chunks(data):
        if cid == b"IDAT":
            seen_idat = True
        elif cid in _TEXT_CHUNK_TYPES:
            texts += 1
            after_idat |= seen_idat
            if texts > MAX_TEXT_CHUNKS:
                raise ImageSettingsError(
                    f"This PNG has more than {MAX_TEXT_CHUNKS} text chunks; refused.")
            if end - start - 12 > PngImagePlugin.MAX_TEXT_CHUNK:
                raise ImageSettingsError(
                    f"This PNG holds a text chunk of {end - start - 12:,} bytes, more than "
                    f"the {PngImagePlugin.MAX_TEXT_CHUNK:,} allowed; refused.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                found = {k: str(v) for k, v in image.info.items() if isinstance(v, str)}
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageSettingsError("This PNG claims too many pixels; refused.") from None
    except Exception as exc:  # Pillow's text limits raise ValueError, bad chunks others
        raise ImageSettingsError(f"This PNG cannot be read: {exc}") from None
    if after_idat and SETTINGS_CHUNK not in found and A1111_CHUNK not in found:
        # Some tools append text after the pixels; only loading reads it (bounded).
        try:
            found.update({k: str(v) for k, v in decode_image(data).text.items()})
        except ImageDecodeError as exc:
            raise ImageSettingsError(f"This PNG cannot be read: {exc}") from None
    return found


def read_png_settings(data: bytes) -> RestoredSettings:
    """Generation settings from a PNG ours or AUTOMATIC1111-style, checked field by field.

    Each field goes through ``catalogue.check`` on its own, so one bad value (or a field
    this playground has no use for) is dropped and reported instead of losing the rest.
    """
    text = _png_text(data)
    problem = "This PNG carries no generation settings."
    if SETTINGS_CHUNK in text:
        try:
            return _restore(_settings_json(_bounded(text[SETTINGS_CHUNK])), SETTINGS_CHUNK)
        except ImageSettingsError as exc:
            problem = str(exc)
    if A1111_CHUNK in text:
        return _restore(parse_a1111_parameters(_bounded(text[A1111_CHUNK])), A1111_CHUNK)
    raise ImageSettingsError(problem)


def _bounded(text: str) -> str:
    if len(text) > MAX_SETTINGS_TEXT:
        raise ImageSettingsError("The settings in this PNG are too large; refused.")
    return text


def _settings_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ImageSettingsError("The settings in this PNG are not valid JSON.") from None
    if not isinstance(value, dict):
        raise ImageSettingsError("The settings in this PNG are not a JSON object.")
    return value


def _restore(raw: Mapping[str, Any], source: str) -> RestoredSettings:
    if len(raw) > MAX_SETTINGS_FIELDS:
        raise ImageSettingsError(f"The settings in this PNG have {len(raw):,} fields; refused.")
    values: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    for key, value in raw.items():
        name = str(key) if len(str(key)) <= 60 else str(key)[:57] + "..."
        if is_credential_name(key):
            dropped[name] = "looks like a credential, so it is never restored"
        elif key not in catalogue.IMAGES.names:
            dropped[name] = f"not a parameter of {catalogue.IMAGES.path}"
        else:
            try:
                values[key] = catalogue.check(catalogue.IMAGES[key], value)
            except ValueError as exc:
                dropped[name] = str(exc)
    if not values:
        raise ImageSettingsError("This PNG carries no usable generation settings.")
    return RestoredSettings(values, dropped, source)


# ---------------------------------------------------------------- AUTOMATIC1111 "parameters"

# A1111's own pattern (modules/infotext_utils.py): `Key: value` or `Key: "json, string"`.
_A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_A1111_SIZE = re.compile(r"^(\d+)x(\d+)$")
_A1111_NAMES = {"Steps": "steps", "CFG scale": "guidance_scale", "Seed": "seed",
                "Model": "model"}
_A1111_KNOWN = set(_A1111_NAMES) | {"Size", "Sampler", "Schedule type", "Model hash",
                                    "Denoising strength", "Clip skip", "Version"}
_NEGATIVE = "Negative prompt:"


def _a1111_quote(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ",\n:") else text


def a1111_parameters(settings: Mapping[str, Any]) -> str:
    """AUTOMATIC1111's infotext, so other tools' "PNG info" shows our settings.

    Only fields present are written: an omitted parameter took the API's own default,
    which this playground does not know, so writing ours would misstate the run.
    """
    s = redact(settings)
    fields = [("Steps", s.get("steps")), ("CFG scale", s.get("guidance_scale")),
              ("Seed", s.get("seed"))]
    if s.get("width") is not None and s.get("height") is not None:
        fields.append(("Size", f"{s['width']}x{s['height']}"))
    fields.append(("Model", s.get("model") or None))
    lines = [str(s.get("prompt") or "")]
    if s.get("negative_prompt"):
        lines.append(f"{_NEGATIVE} {s['negative_prompt']}")
    lines.append(", ".join(f"{k}: {_a1111_quote(v)}" for k, v in fields if v is not None))
    return "\n".join(lines).strip()


def _a1111_pairs(line: str) -> list[tuple[str, str]] | None:
    """The `Key: value` pairs of a whole line, or None when any part of it is not one."""
    pairs, pos = [], 0
    while pos < len(line):
        match = _A1111_PAIR.match(line, pos)
        if not match or match.end() == pos:
            return None
        pairs.append((match.group(1).strip(), match.group(2).strip()))
        pos = match.end()
    return pairs if any(k in _A1111_KNOWN for k, _ in pairs) else None


def parse_a1111_parameters(text: str) -> dict[str, Any]:
    """Our field names from an AUTOMATIC1111 infotext; other fields keep A1111's labels.

    The last line is the parameter line only if all of it parses as `Key: value` pairs
    with a key A1111 writes, so a prompt ending in "style: ink" stays part of the prompt.
    Values stay strings: the catalogue checks convert and range-check them.
    """
    lines = text.replace("\r\n", "\n").strip().split("\n")
    pairs = _a1111_pairs(lines[-1].strip())
    if pairs is not None:
        lines.pop()
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if not negative and line.startswith(_NEGATIVE):
            negative.append(line[len(_NEGATIVE):].lstrip(" "))
        else:
            (negative if negative else prompt).append(line)
    result: dict[str, Any] = {}
    if "\n".join(prompt).strip():
        result["prompt"] = "\n".join(prompt).strip()
    if negative:
        result["negative_prompt"] = "\n".join(negative).strip()
    for key, value in pairs or []:
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                pass
        size = _A1111_SIZE.match(value) if key == "Size" else None
        if size:
            result["width"], result["height"] = size.group(1), size.group(2)
        else:
            result[_A1111_NAMES.get(key, key)] = value
    return result


# ---------------------------------------------------------------- grids

WHITE = (255, 255, 255)
DISPLAY_WIDTH = 1460  # st.image re-encodes anything wider (2 x 730 px)


def _shrink(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """``image`` fitted inside ``box``, aspect kept, never enlarged.

    ``reducing_gap=1.0`` lets Pillow box-reduce by an integer factor before the bilinear
    pass, which halves the cost of shrinking a 1024² tile to a grid cell.
    """
    scale = min(box[0] / image.width, box[1] / image.height)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)


def _paste(canvas: Image.Image, image: Image.Image, xy: tuple[int, int]) -> None:
    mask = image.getchannel("A") if "A" in image.getbands() else None
    canvas.paste(image.convert("RGB") if image.mode != "RGB" else image, xy, mask)


def _columns(count: int, cols: int | None) -> int:
    if count < 1:
        raise ValueError("a grid needs at least one image")
    return max(1, min(cols or math.ceil(math.sqrt(count)), count))


def make_grid(images: Sequence[Image.Image], cols: int | None = None,
              tile: tuple[int, int] | None = None, gap: int = 0,
              background: Any = WHITE) -> Image.Image:
    """All images in one RGB image, each centred in a ``tile``-sized cell.

    Cells default to the largest width and height, so nothing is scaled: this is the
    full-resolution grid for download. Images larger than a given ``tile`` are shrunk.
    """
    cols = _columns(len(images), cols)
    rows = math.ceil(len(images) / cols)
    tw, th = tile or (max(im.width for im in images), max(im.height for im in images))
    grid = Image.new("RGB", (cols * tw + (cols - 1) * gap, rows * th + (rows - 1) * gap),
                     background)
    for i, image in enumerate(images):
        image = _shrink(image, (tw, th))
        row, col = divmod(i, cols)
        _paste(grid, image, (col * (tw + gap) + (tw - image.width) // 2,
                             row * (th + gap) + (th - image.height) // 2))
    return grid


def display_copy(image: Image.Image, max_width: int = DISPLAY_WIDTH) -> Image.Image:
    """``image`` no wider than ``max_width`` (itself when it already is), so st.image
    never encodes a huge grid twice to throw most of it away."""
    return _shrink(image, (max_width, image.height))


def preview_grid(images: Sequence[Image.Image], cols: int | None = None,
                 max_width: int = DISPLAY_WIDTH, gap: int = 0,
                 background: Any = WHITE) -> Image.Image:
    """The ``make_grid`` layout at screen size, built from tiles shrunk *before* pasting.

    Shrinking each tile first touches every source pixel once with a cheap filter and
    pastes a fraction of the pixels; composing full size and shrinking after costs more.
    """
    cols = _columns(len(images), cols)
    tw, th = max(im.width for im in images), max(im.height for im in images)
    scale = min(1.0, (max_width - (cols - 1) * gap) / (cols * tw))
    cell = (max(1, int(tw * scale)), max(1, int(th * scale)))
    return make_grid([_shrink(im, cell) for im in images], cols, cell, gap, background)


# ---------------------------------------------------------------- X/Y plot

FAILED_FILL = (190, 190, 190)
INK = (0, 0, 0)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: Any, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; over-long words are cut; overflow ends in '...'.

    Stops measuring once ``max_lines`` are full, so a 10,000-character label costs no more
    than a short one.
    """
    lines: list[str] = []
    current = ""
    for word in " ".join(str(text).split()).split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while len(current) > 1 and font.getlength(current) > width:
            cut = _fitting_prefix(current, font, width)
            lines.append(current[:cut])
            current = current[cut:]
        if len(lines) >= max_lines:
            break
    lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "...") > width:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last.rstrip() + "..."]
    return lines


def _fitting_prefix(text: str, font: Any, width: float) -> int:
    """Length of the longest prefix of ``text`` (at least 1 character) within ``width``."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(text[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], font: Any,
                box: tuple[int, int, int, int], line_height: int) -> None:
    """Lines centred horizontally and vertically in ``box`` (left, top, right, bottom)."""
    left, top, right, bottom = box
    y = top + (bottom - top - line_height * len(lines)) // 2
    for line in lines:
        draw.text((left + (right - left - font.getlength(line)) / 2, y), line, fill=INK,
                  font=font)
        y += line_height


def make_xy_grid(cells: Mapping[tuple[int, int], Image.Image | None], row_labels: list[str],
                 col_labels: list[str], title_x: str = "", title_y: str = "",
                 tile_max: int = 512) -> Image.Image:
    """An X/Y plot like A1111's: tiles in rows and columns, each axis labelled and titled.

    A cell that is missing or None (its request failed) is a grey "failed" tile, so the
    plot keeps its shape and the comparison still reads across.
    """
    rows, cols = len(row_labels), len(col_labels)
    if not rows or not cols:
        raise ValueError("an X/Y plot needs at least one row and one column label")
    for r, c in cells:
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(f"cell {(r, c)} is outside the {rows}x{cols} plot")
    tiles = {rc: _shrink(im, (tile_max, tile_max)) for rc, im in cells.items() if im is not None}
    tw = max((t.width for t in tiles.values()), default=tile_max)
    th = max((t.height for t in tiles.values()), default=tile_max)
    size = max(12, min(tw, th) // 16)
    font, title_font = _font(size), _font(round(size * 1.25))
    line_h, title_h = round(size * 1.3), round(size * 1.6)
    pad, gap = size // 2, max(2, tw // 128)

    longest = max(font.getlength(" ".join(str(t).split())[:200]) for t in row_labels)
    label_w = int(min(tw // 2, max(size * 3, longest + 2 * pad)))
    row_lines = [_wrap(t, font, label_w - 2 * pad, max(1, (th - 2 * pad) // line_h))
                 for t in row_labels]
    col_lines = [_wrap(t, font, tw - 2 * pad, 3) for t in col_labels]
    label_h = max(len(lines) for lines in col_lines) * line_h + 2 * pad
    left = (title_h + pad if title_y else 0) + label_w
    top = (title_h + pad if title_x else 0) + label_h
    width = left + cols * tw + (cols - 1) * gap
    height = top + rows * th + (rows - 1) * gap
    plot = Image.new("RGB", (width + pad, height + pad), WHITE)
    draw = ImageDraw.Draw(plot)

    if title_x:
        _draw_lines(draw, _wrap(title_x, title_font, width - left, 1), title_font,
                    (left, pad, width, pad + title_h), title_h)
    if title_y:
        strip = Image.new("RGB", (height - top, title_h), WHITE)
        _draw_lines(ImageDraw.Draw(strip), _wrap(title_y, title_font, height - top, 1),
                    title_font, (0, 0, strip.width, title_h), title_h)
        plot.paste(strip.rotate(90, expand=True), (pad, top))
    for c, lines in enumerate(col_lines):
        x = left + c * (tw + gap)
        _draw_lines(draw, lines, font, (x, top - label_h, x + tw, top), line_h)
    for r, lines in enumerate(row_lines):
        y = top + r * (th + gap)
        _draw_lines(draw, lines, font, (left - label_w, y, left, y + th), line_h)
        for c in range(cols):
            x = left + c * (tw + gap)
            tile = tiles.get((r, c))
            if tile is None:
                draw.rectangle((x, y, x + tw - 1, y + th - 1), fill=FAILED_FILL)
                _draw_lines(draw, ["failed"], font, (x, y, x + tw, y + th), line_h)
            else:
                _paste(plot, tile, (x + (tw - tile.width) // 2, y + (th - tile.height) // 2))
    return plot


# ---------------------------------------------------------------- downloads

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ZipImage:
    """One image for the archive with the exact settings that made it (seed included).

    ``data`` is the bytes as received: when they are a PNG, settings are spliced in and
    the pixels are not re-encoded. Anything else (JPEG) is encoded to PNG from ``image``.
    """

    image: Image.Image
    settings: Mapping[str, Any]
    data: bytes | None = None

    @property
    def seed(self) -> Any:
        return self.settings.get("seed")


def png_with_settings(item: ZipImage) -> bytes:
    """The image as a PNG carrying its settings, re-using the received PNG when possible."""
    if item.data is not None and item.data.startswith(_PNG_SIGNATURE):
        try:
            return with_png_settings(item.data, item.settings)
        except ImageSettingsError:
            pass  # a malformed PNG from the server: encode the decoded pixels instead
    return encode_png(item.image, item.settings)


def zip_name(index: int, seed: Any = None) -> str:
    """``image_0001_seed42.png``: sorts in generation order and names the seed to reuse."""
    suffix = f"_seed{seed}" if isinstance(seed, int) and not isinstance(seed, bool) else ""
    return f"image_{index:04d}{suffix}.png"


def build_zip(items: Sequence[ZipImage], grid_png: bytes | None, manifest: Mapping[str, Any],
              timestamp: float | None = None) -> bytes:
    """A zip of each image as a PNG with its settings, ``grid.png`` and ``manifest.json``.

    Images are stored, not deflated: PNG is already compressed, and deflating it again
    costs time for nothing. Entries are dated ``timestamp`` (the fixed 1980 epoch when
    None), so the same inputs always give the same bytes. The manifest goes through
    ``lib.redact`` (keys removed at any depth, by name and by value).
    """
    date = time.localtime(timestamp)[:6] if timestamp is not None else _ZIP_EPOCH
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        def add(name: str, data: bytes, compress: int) -> None:
            info = zipfile.ZipInfo(name, date_time=date)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        for index, item in enumerate(items, start=1):
            add(zip_name(index, item.seed), png_with_settings(item), zipfile.ZIP_STORED)
        if grid_png is not None:
            add("grid.png", grid_png, zipfile.ZIP_STORED)
        text = json.dumps(redact(manifest), indent=2, ensure_ascii=False, default=str)
        add("manifest.json", text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return out.getvalue()


class EncodeCache:
    """Encoded download bytes by key, e.g. ``(generation_id, "zip")``, built on first ask.

    A rerun that changes no image asks for the same keys and encodes nothing; ``encodes``
    counts producer calls so tests and benchmarks can check exactly that. Least recently
    used entries go first once ``max_bytes`` or ``max_items`` is exceeded. Streamlit runs
    download callables in another thread, so each key is produced at most once at a time
    while other keys stay available.
    """

    def __init__(self, max_bytes: int = 256 * 2**20, max_items: int = 32):
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.encodes = 0
        self.hits = 0
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def size(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._items.values())

    def _lookup(self, key: Hashable) -> bytes | None:
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
            self.hits += 1
        return data

    def get(self, key: Hashable, producer: Callable[[], bytes]) -> bytes:
        """The bytes for ``key``, calling ``producer`` only if they are not cached."""
        with self._lock:
            data = self._lookup(key)
            if data is not None:
                return data
            key_lock = self._pending.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                data = self._lookup(key)
                if data is not None:
                    return data
            try:
                data = producer()
            except BaseException:
                with self._lock:
                    self._pending.pop(key, None)
                raise
            with self._lock:
                self.encodes += 1
                self._pending.pop(key, None)
                self._items[key] = data
                total = sum(len(v) for v in self._items.values())
                while len(self._items) > 1 and (total > self.max_bytes
                                               or len(self._items) > self.max_items):
                    _, old = self._items.popitem(last=False)
                    total -= len(old)
        return data
