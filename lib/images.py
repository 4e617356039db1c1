"""Pillow helpers for generated images: safe decoding (more to come: grids, metadata, zips)."""
from __future__ import annotations

import io
import warnings

from PIL import Image

# Largest image we accept from a server: a 2048 x 2048 tile is 4.2 Mpx; allow headroom for
# providers that return a little more, but far below Pillow's own bomb threshold.
MAX_PIXELS = 4096 * 4096


class ImageDecodeError(ValueError):
    """The bytes are not an image we can safely show."""


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully load image bytes, refusing decompression bombs and truncated files.

    Pillow opens lazily, so ``load()`` runs inside the guard: corrupt data fails here and
    not later while rendering. The bomb warning becomes an error only within this call.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
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
