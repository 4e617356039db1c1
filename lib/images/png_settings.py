"""Settings carried in PNG metadata: our full settings as JSON in one text chunk and
AUTOMATIC1111's "parameters" text in another, written into a PNG and read back from one,
with every chunk and field bounded before it is parsed.
"""
from __future__ import annotations

import io
import json
import re
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from PIL import Image, PngImagePlugin

from lib import catalogue
from lib.api.image_decode import ImageDecodeError, decode_image
from lib.api.redact import is_credential_name, redact
from lib.param_settings import ParamSettings

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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
    if not data.startswith(PNG_SIGNATURE):
        raise ImageSettingsError("This file is not a PNG.")
    pos, count = len(PNG_SIGNATURE), 0
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

    The fields go through ``ParamSettings.keep_valid``, as every saved setting does, so one
    bad value (or a field this playground has no use for) is dropped and reported instead
    of losing the rest.
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
    known: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    for key, value in raw.items():
        name = str(key) if len(str(key)) <= 60 else str(key)[:57] + "..."
        if is_credential_name(key):
            dropped[name] = "looks like a credential, so it is never restored"
        elif key not in catalogue.IMAGES.names:
            dropped[name] = f"not a parameter of {catalogue.IMAGES.path}"
        else:
            known[key] = value
    settings, problems = ParamSettings.keep_valid(catalogue.IMAGES, known)
    dropped.update((p.field, p.message) for p in problems)
    values = dict(settings.values)
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

    Size, Steps and CFG scale are always written, at their effective value (the catalogue
    default when the body left them out): A1111 readers expect them, and a reader of the
    file should not have to know which defaults applied. The seed is written only when one
    was sent (a random seed is not known here).
    """
    s = redact(settings)
    effective = ParamSettings(catalogue.IMAGES, s).effective
    fields = [("Steps", effective("steps")), ("CFG scale", effective("guidance_scale")),
              ("Seed", s.get("seed")),
              ("Size", f"{effective('width')}x{effective('height')}"),
              ("Model", s.get("model") or None)]
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
