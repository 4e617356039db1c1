"""Safe image decoding: bytes from a server, a URL or an upload become a fully loaded Pillow
image, or a clear refusal. It sits below both the HTTP client, which checks every image
it returns, and the image features (grids, archives, PNG settings) that show or store them.
"""
from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported by the first decode, not by every page (issue 14)
    from PIL import Image

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
    from PIL import Image
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
