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
            for name in ("keys", "indptr", "next_ids", "counts", "totals", "types"):
                out[f"o{i}_{name}"] = getattr(level, name)
        return out

    @classmethod
    def from_arrays(cls, arrays) -> "NgramModel":
        orders = []
        i = 0
        while f"o{i}_keys" in arrays:
            orders.append(_Order(*(arrays[f"o{i}_{name}"] for name in
                                   ("keys", "indptr", "next_ids", "counts", "totals", "types"))))
            i += 1
        return cls(int(arrays["vocab_size"][0]), arrays["unigram"], orders)
