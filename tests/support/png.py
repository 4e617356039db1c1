"""PNG builders: a picture-like image, its PNG bytes, and raw chunks spliced in after the
header, for tests that bring crafted PNGs to the engine or a page."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def photo(size=(64, 48)) -> Image.Image:
    """A picture-like RGB image: gradients plus grain."""
    w, h = size
    return Image.merge("RGB", [Image.linear_gradient("L").resize(size),
                               Image.effect_noise(size, 40).convert("L"),
                               Image.radial_gradient("L").resize((w, h))])


def png_bytes(image: Image.Image, pnginfo=None) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=pnginfo)
    return out.getvalue()


def chunk(cid: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + cid + body + struct.pack(">I", zlib.crc32(cid + body))


def insert_after_header(png: bytes, extra: bytes) -> bytes:
    ihdr_end = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    return png[:ihdr_end] + extra + png[ihdr_end:]
