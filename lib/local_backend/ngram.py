"""An interpolated absolute-discounting n-gram language model over a fixed vocabulary.

Why this shape: it is small enough to train from scratch in a fraction of a second with
numpy, yet it gives a genuine probability for *every* vocabulary token at each step, which
is what sampling parameters (top-k, top-p, min-p, penalties, logit bias) and logprobs need
to mean something.

P_n(w | ctx) = max(c(ctx, w) - d, 0) / c(ctx) + d * types(ctx) / c(ctx) * P_{n-1}(w | ctx')
where ctx' drops the oldest token, down to an add-half-smoothed unigram distribution so no
token ever has probability zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DISCOUNT = 0.75


@dataclass
class _Order:
    """Counts of one order (2 = bigram, ...), as sorted context keys with CSR rows."""

    keys: np.ndarray      # sorted unique context keys (int64)
    indptr: np.ndarray    # row i spans next_ids[indptr[i]:indptr[i+1]]
    next_ids: np.ndarray  # int32
    counts: np.ndarray    # float64 count of (context, next)
    totals: np.ndarray    # float64 c(context)
    types: np.ndarray     # float64 number of distinct next tokens


class NgramModel:
    """Next-token distributions from counts; ``order`` tokens of context at most minus one."""

    def __init__(self, vocab_size: int, unigram: np.ndarray, orders: list[_Order]):
        self.vocab_size = vocab_size
        self.unigram = unigram
        self.orders = orders  # orders[0] is the bigram level

    @property
    def order(self) -> int:
        return len(self.orders) + 1

    @classmethod
    def train(cls, documents: list[np.ndarray], vocab_size: int, order: int = 4
              ) -> "NgramModel":
        """Each document is an id array; end-of-text (id 0) is put before and after each."""
        pieces = []
        for doc in documents:
            pieces.append(np.zeros(order - 1, dtype=np.int64))
            pieces.append(doc.astype(np.int64))
        pieces.append(np.zeros(1, dtype=np.int64))
        ids = np.concatenate(pieces)
        v = np.int64(vocab_size)
        counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
        unigram = (counts + 0.5) / (counts.sum() + 0.5 * vocab_size)
        orders = []
        for n in range(2, order + 1):
            key = np.zeros(len(ids) - n + 1, dtype=np.int64)
            for k in range(n):
                key = key * v + ids[k:len(ids) - n + 1 + k]
            uniq, cnt = np.unique(key, return_counts=True)
            ctx, nxt = np.divmod(uniq, v)
            ctx_keys, starts = np.unique(ctx, return_index=True)
            indptr = np.append(starts, len(uniq)).astype(np.int64)
            totals = np.add.reduceat(cnt, starts).astype(np.float64)
            orders.append(_Order(ctx_keys, indptr, nxt.astype(np.int32), cnt.astype(np.float64),
                                 totals, np.diff(indptr).astype(np.float64)))
        return cls(vocab_size, unigram, orders)

    def probabilities(self, context: list[int]) -> np.ndarray:
        """P(next | last tokens of ``context``) for every vocabulary id; sums to 1."""
        p = self.unigram.copy()
        v = self.vocab_size
        for n, level in enumerate(self.orders, start=2):
            if len(context) < n - 1:
                break
            key = 0
            for t in context[len(context) - (n - 1):]:
                if t >= v:  # a character outside the vocabulary: no statistics for it
                    key = -1
                    break
                key = key * v + t
            if key < 0:
                break
            row = int(np.searchsorted(level.keys, key))
            if row >= len(level.keys) or level.keys[row] != key:
                break
            lo, hi = level.indptr[row], level.indptr[row + 1]
            total = level.totals[row]
            p *= DISCOUNT * level.types[row] / total
            p[level.next_ids[lo:hi]] += (level.counts[lo:hi] - DISCOUNT) / total
        return p

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"unigram": self.unigram, "vocab_size": np.array([self.vocab_size])}
        for i, level in enumerate(self.orders):
            for name in _ORDER_FIELDS:
                out[f"o{i}_{name}"] = getattr(level, name)
        return out

    @classmethod
    def from_arrays(cls, arrays, max_order: int = 8) -> "NgramModel":
        """The model ``to_arrays`` wrote, from a source that may be damaged or foreign (a file
        on disk): every array's type, shape and range is checked so that ``probabilities``
        can neither index out of bounds nor return anything but a distribution. ValueError
        (or KeyError for a missing array) when one is wrong."""
        vocab_size = _checked(arrays["vocab_size"], np.int64, 1)
        if not 0 < vocab_size[0] < 2**20:
            raise ValueError("vocabulary size out of range")
        v = int(vocab_size[0])
        unigram = _checked(arrays["unigram"], np.float64, v)
        if not (np.all(unigram > 0) and abs(unigram.sum() - 1) < 1e-6):
            raise ValueError("unigram is not a distribution")
        orders = []
        while f"o{len(orders)}_keys" in arrays:
            if len(orders) + 2 > max_order:
                raise ValueError("too many orders")
            orders.append(_checked_order(arrays, len(orders), v))
        return cls(v, unigram, orders)


_ORDER_FIELDS = ("keys", "indptr", "next_ids", "counts", "totals", "types")


def _checked(array, dtype, length: int | None = None) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype != dtype or array.ndim != 1 or (length is not None and len(array) != length):
        raise ValueError(f"array of {array.dtype} {array.shape}, expected {dtype} of {length}")
    return array


def _checked_order(arrays, i: int, v: int) -> _Order:
    """Level ``i`` (bigram = 0): context keys of i + 1 tokens, CSR rows of next ids."""
    keys = _checked(arrays[f"o{i}_keys"], np.int64)
    rows = len(keys)
    key_bound = min(v ** (i + 1), np.iinfo(np.int64).max)
    indptr = _checked(arrays[f"o{i}_indptr"], np.int64, rows + 1)
    next_ids = _checked(arrays[f"o{i}_next_ids"], np.int32)
    entries = len(next_ids)
    counts = _checked(arrays[f"o{i}_counts"], np.float64, entries)
    totals = _checked(arrays[f"o{i}_totals"], np.float64, rows)
    types = _checked(arrays[f"o{i}_types"], np.float64, rows)
    if (rows and (keys[0] < 0 or keys[-1] >= key_bound or np.any(np.diff(keys) <= 0))) \
            or indptr[0] != 0 or indptr[-1] != entries or np.any(np.diff(indptr) <= 0) \
            or (entries and (next_ids.min() < 0 or next_ids.max() >= v)) \
            or np.any(counts < 1) or not np.array_equal(types, np.diff(indptr)) \
            or not np.allclose(totals, np.add.reduceat(counts, indptr[:-1]) if rows else totals):
        raise ValueError(f"order {i + 2} counts are inconsistent")
    return _Order(keys, indptr, next_ids, counts, totals, types)
