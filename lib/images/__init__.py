"""Images: settings carried in PNG metadata (``png_settings``), grids (``grid``), the
download archive (``archive``), the encode cache, the on-disk image store, batches of
requests (``batch``), one run's downloads (``run``) and the X/Y sweep (``sweep``).

Decoding lives in ``lib.api.image_decode``, below both the client and this package; it is
re-exported here for callers that show or store images.
"""
from lib.api.image_decode import ImageDecodeError, decode_image
from lib.images.archive import ZipImage, build_zip
from lib.images.encode_cache import EncodeCache
from lib.images.grid import make_grid, make_xy_grid, preview_grid
from lib.images.png_settings import (ImageSettingsError, RestoredSettings, encode_png,
                                     read_png_settings)

__all__ = ["EncodeCache", "ImageDecodeError", "ImageSettingsError", "RestoredSettings",
           "ZipImage", "build_zip", "decode_image", "encode_png", "make_grid", "make_xy_grid",
           "preview_grid", "read_png_settings"]
