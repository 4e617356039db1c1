"""Images: settings carried in PNG metadata (``png_settings``), grids (``grid``), the
download archive (``archive``), the encode cache, the on-disk image store, batches of
requests (``batch``), one run's downloads (``run``) and the X/Y sweep (``sweep``).

Decoding lives in ``lib.api.image_decode``, below both the client and this package; it is
re-exported here for callers that show or store images.

The names below are imported on first use (PEP 562), not with the package: every page
imports ``lib.images.store`` through the account box, and should not pay for Pillow's
drawing and PNG code, which only the pages that make images use (issue 14).
"""
from __future__ import annotations

from lib.api.lazy import lazy_names

_HOMES = {"ImageDecodeError": "lib.api.image_decode", "decode_image": "lib.api.image_decode",
          "ZipImage": "lib.images.archive", "build_zip": "lib.images.archive",
          "EncodeCache": "lib.images.encode_cache",
          "make_grid": "lib.images.grid", "make_xy_grid": "lib.images.grid",
          "preview_grid": "lib.images.grid",
          "ImageSettingsError": "lib.images.png_settings",
          "RestoredSettings": "lib.images.png_settings", "encode_png": "lib.images.png_settings",
          "read_png_settings": "lib.images.png_settings"}

__all__ = sorted(_HOMES)

__getattr__ = lazy_names(__name__, _HOMES)
