"""A word-level tokenizer whose encoding of any Unicode string decodes back to it exactly.

Tokens are words with their leading space (``" the"``), single digits, punctuation marks
(optionally with a leading space), newlines and runs of spaces. Pieces the vocabulary
does not hold fall back to one token per character: characters the training text contained
have vocabulary ids, any other character ``c`` gets the id ``CHAR_BASE + ord(c)``, which is
the same on every machine and needs no table.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # imported where used: the model catalogue reads EOT_TEXT without numpy
    import numpy as np

EOT_ID = 0
EOT_TEXT = "<|endoftext|>"
CHAR_BASE = 1_000_000

# Every character matches one alternative: word characters (letters, underscore), digits,
# other non-space characters, runs of spaces (leaving one for the following word) and any
# other whitespace. That is what makes encoding lossless.
PIECES = re.compile(r"\n| ?[^\W\d]+| ?\d| ?[^\s\w]| +(?= \S)| +|\s")

_ALWAYS = [chr(c) for c in range(32, 127)] + ["\n", "\t"]


class Tokenizer:
    """Maps text to token ids and back; built once from training text."""

    def __init__(self, vocab: list[str]):
        if not vocab or vocab[0] != EOT_TEXT:
            raise ValueError("vocab[0] must be the end-of-text token")
        self.vocab = vocab
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        self._continuations: dict[str, np.ndarray] = {}

    @classmethod
    def train(cls, texts: Iterable[str], max_size: int = 12_000, min_count: int = 3
              ) -> "Tokenizer":
        """Most frequent pieces first, plus every single character seen (for the fallback)."""
        counts: Counter[str] = Counter()
        chars: set[str] = set(_ALWAYS)
        for text in texts:
            counts.update(PIECES.findall(text))
            chars.update(text)
        vocab = [EOT_TEXT]
        seen = {EOT_TEXT}
        for piece, count in counts.most_common(max_size):
            if count < min_count:
                break
            vocab.append(piece)
            seen.add(piece)
        vocab.extend(sorted(chars - seen))
        return cls(vocab)

    @property
    def size(self) -> int:
        return len(self.vocab)

    def split(self, text: str) -> list[str]:
        """The token strings of ``text``; ``"".join`` of the result is ``text``."""
        out: list[str] = []
        ids = self.ids
        for piece in PIECES.findall(text):
            if piece in ids:
                out.append(piece)
            else:
                out.extend(piece)
        return out

    def encode(self, text: str) -> list[int]:
        ids = self.ids
        return [ids.get(piece, CHAR_BASE + ord(piece[0])) for piece in self.split(text)]

    def encode_pieces(self, text: str) -> tuple[list[int], list[str]]:
        pieces = self.split(text)
        ids = self.ids
        return [ids.get(p, CHAR_BASE + ord(p[0])) for p in pieces], pieces

    def token_text(self, token_id: int) -> str:
        """The text of one token; end-of-text has none."""
        if token_id >= CHAR_BASE:
            return chr(token_id - CHAR_BASE)
        if token_id == EOT_ID:
            return ""
        return self.vocab[token_id]

    def continuations(self, prefix: str) -> np.ndarray:
        """Mask of vocabulary tokens that start with ``prefix`` and go beyond it."""
        import numpy as np
        cached = self._continuations.get(prefix)
        if cached is None:
            cached = np.array([len(t) > len(prefix) and t.startswith(prefix)
                               for t in self.vocab])
            cached[EOT_ID] = False
            self._continuations[prefix] = cached
        return cached

    def label(self, token_id: int) -> str:
        """How a token is named in logprob maps: its text, or the end-of-text marker."""
        return EOT_TEXT if token_id == EOT_ID else self.token_text(token_id)

    def decode(self, token_ids: Iterable[int]) -> str:
        return "".join(self.token_text(t) for t in token_ids)
