"""Generated image bytes kept on disk, named by their SHA-256.

Image URLs from the provider expire after about an hour, so the bytes are kept once
fetched; on disk rather than in session memory, where a few 1024² PNGs per rerun would
pile up. Content addressing makes a second ``put`` of the same image free, and the strict
key format means no key can name a file outside the store.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from lib.saved.datadir import write_private

# Extensions a key may carry, with the spelling we store.
EXTENSIONS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp"}
_KEY = re.compile(r"[0-9a-f]{64}\.(?:png|jpeg|webp)")


def default_root() -> Path:
    """``$PLAYGROUND_DATA_DIR/images`` when set, else the user's cache folder."""
    data_dir = os.environ.get("PLAYGROUND_DATA_DIR")
    if data_dir:
        return Path(data_dir).expanduser() / "images"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "together-playground" / "images"


class ImageStore:
    """Image bytes by key ``<sha256 hex>.<ext>``; the oldest go first when pruned."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()

    def path(self, key: str) -> Path:
        """Where ``key`` lives; ValueError for anything that is not a key we make."""
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            shown = repr(key) if len(repr(key)) <= 80 else repr(key)[:77] + "..."
            raise ValueError(f"not an image store key: {shown}")
        return self.root / key

    def put(self, data: bytes, ext: str) -> str:
        """Store ``data`` and return its key; storing the same bytes again only refreshes
        its age, so a re-fetched image is the last to be pruned."""
        suffix = EXTENSIONS.get(ext.lower().lstrip("."))
        if suffix is None:
            raise ValueError(f"image extension must be one of {', '.join(EXTENSIONS)}, "
                             f"got {ext!r}")
        key = f"{hashlib.sha256(data).hexdigest()}.{suffix}"
        target = self.path(key)
        if target.exists():
            os.utime(target)
            return key
        write_private(target, data, temp_prefix=".incoming-")  # not named like a key
        return key

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; KeyError when they are gone (pruned)."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(_KEY.fullmatch(key)) and self.path(key).exists()

    def prune(self, max_bytes: int) -> int:
        """Delete the oldest images until the store holds at most ``max_bytes``.

        Only files named like keys are counted or deleted, so pointing the store at a
        folder that holds anything else never loses that. Returns how many were deleted.
        """
        if not self.root.is_dir():
            return 0
        entries = []
        for entry in os.scandir(self.root):
            if _KEY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                entries.append((stat.st_mtime, entry.name, stat.st_size))
        total = sum(size for _, _, size in entries)
        removed = 0
        for _, name, size in sorted(entries):
            if total <= max_bytes:
                break
            (self.root / name).unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed
