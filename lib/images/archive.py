"""The download archive: every image as a PNG that carries its settings, the grid and a
manifest, in a ZIP whose bytes depend only on its inputs.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from PIL import Image

from lib.api.redact import redact
from lib.images.png_settings import (PNG_SIGNATURE, ImageSettingsError, encode_png,
                                     with_png_settings)

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
    if item.data is not None and item.data.startswith(PNG_SIGNATURE):
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
