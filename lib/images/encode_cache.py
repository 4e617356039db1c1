"""The encode cache: downloads are encoded on first ask, once, and kept for the page's
next rerun, since a default-level PNG of a 2x2 grid costs ~0.8 s.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable


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
