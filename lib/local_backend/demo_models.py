"""The local demo models: their catalogue entries and the trained text models behind them.

Names say plainly what they are (small local demos), so nobody mistakes their output for a
hosted model's. Training happens once per process, on first use, behind a lock.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .tokenizer import EOT_TEXT

if TYPE_CHECKING:  # numpy: only a server asked for a completion loads the models
    from .ngram import NgramModel
    from .tokenizer import Tokenizer

CONTEXT_LENGTH = 4096
# Greedy decoding carries a repetition guard (lib.local_backend.generation): the listing says so.
GREEDY_NOTE = "At temperature 0 it never repeats a 4-token sequence, to stop greedy loops."
CREATED = 1_735_689_600  # 2025-01-01: fixed, so listings are reproducible


@dataclass(frozen=True)
class ModelCard:
    id: str
    type: str                 # "language", "code", "image" or "moderation" (Together's enum)
    display_name: str
    description: str
    corpus: str | None = None  # which training corpus, for text models

    def listing(self) -> dict:
        """The ``GET /v1/models`` entry, with every field the v1 SDK requires."""
        return {
            "id": self.id, "object": "model", "created": CREATED, "type": self.type,
            "running": True, "display_name": self.display_name, "organization": "Local",
            "link": "", "license": "PSF-2.0 (training text)", "context_length": CONTEXT_LENGTH,
            "description": self.description,
            "config": {"chat_template": None, "stop": [EOT_TEXT], "bos_token": EOT_TEXT,
                       "eos_token": EOT_TEXT},
            "pricing": {"hourly": 0, "input": 0, "output": 0, "base": 0, "finetune": 0},
        }


CARDS = (
    ModelCard("local/ngram-docs", "language", "Local demo n-gram (stdlib docstrings)",
              "4-gram model trained on first use on Python standard-library docstrings. "
              + GREEDY_NOTE, "docs"),
    ModelCard("local/ngram-code", "code", "Local demo n-gram (stdlib code)",
              "4-gram model trained on first use on Python standard-library source lines. "
              + GREEDY_NOTE, "code"),
    ModelCard("local/procedural-image", "image", "Local demo procedural images",
              "Deterministic gradients, shapes and noise from the prompt, seed and settings."),
    ModelCard("local/keyword-guard", "moderation", "Local demo keyword guard",
              "Use as safety_model: ends a completion before a blocked keyword."),
)
BY_ID = {card.id: card for card in CARDS}
TEXT_TYPES = ("language", "code")


@dataclass
class TextModels:
    """One shared tokenizer (so token ids mean the same for every model) and a model per corpus."""

    tokenizer: Tokenizer
    by_corpus: dict[str, NgramModel]
    seconds: float  # how long training (or loading the cached models) took
    from_cache: bool  # loaded from the on-disk cache rather than trained

    def for_card(self, card: ModelCard) -> NgramModel:
        return self.by_corpus[card.corpus]


_lock = threading.Lock()
_trained: TextModels | None = None


def text_models() -> TextModels:
    """The trained models, loading (or training) them on first call: the first completion
    a server is asked for (from the disk cache a tenth of a second, trained about one)."""
    global _trained
    with _lock:
        if _trained is None:
            _trained = _train()
        return _trained


def _train() -> TextModels:
    from . import model_cache
    start = time.perf_counter()
    trained = model_cache.load_or_train()
    return TextModels(trained.tokenizer, trained.by_corpus, time.perf_counter() - start,
                      trained.from_cache)
