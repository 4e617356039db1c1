"""The local models' on-disk cache: a second start loads instead of training, and a cache
file that is damaged, foreign or inconsistent is never trusted (the models are retrained)."""
from __future__ import annotations

import stat

import numpy as np
import pytest

from lib.local_backend import corpus, model_cache
from lib.local_backend.ngram import NgramModel


@pytest.fixture(scope="module")
def trained():
    """One training for the module: (key, tokenizer, models)."""
    sources = corpus.source_texts()
    return (model_cache.cache_key(sources), *model_cache.train(sources))


def probe(models: dict[str, NgramModel]) -> np.ndarray:
    return models["docs"].probabilities([5, 6, 7])


def test_a_second_start_loads_the_models_the_first_trained(trained):
    _, _, models = trained
    first = model_cache.load_or_train()
    second = model_cache.load_or_train()
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.tokenizer.vocab == first.tokenizer.vocab
    np.testing.assert_array_equal(probe(second.by_corpus), probe(models))
    files = list(model_cache.cache_path("x").parent.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_a_corrupt_cache_is_retrained_and_replaced(trained):
    key = trained[0]
    path = model_cache.cache_path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not a zip at all" * 100)
    assert model_cache.load_or_train().from_cache is False
    assert model_cache.load(path, key) is not None   # rewritten whole


def damaged(arrays: dict) -> None:
    arrays["docs.o0_next_ids"] = arrays["docs.o0_next_ids"].copy()
    arrays["docs.o0_next_ids"][-1] = 10**6        # a next token outside the vocabulary


def truncated_counts(arrays: dict) -> None:
    arrays["code.o1_counts"] = arrays["code.o1_counts"][:-1]


def not_a_distribution(arrays: dict) -> None:
    arrays["docs.unigram"] = arrays["docs.unigram"] * 2


def pickled_vocab(arrays: dict) -> None:
    arrays["vocab"] = np.array([{"x": 1}], dtype=object)


def repeated_piece(arrays: dict) -> None:
    arrays["vocab"] = np.frombuffer(b'["<|endoftext|>", "a", "a"]', dtype=np.uint8)


@pytest.mark.parametrize("spoil", [damaged, truncated_counts, not_a_distribution,
                                   pickled_vocab, repeated_piece])
def test_an_inconsistent_cache_file_is_ignored(trained, spoil, tmp_path):
    key, tok, models = trained
    path = tmp_path / "models.npz"
    model_cache.save(path, key, tok, models)
    assert model_cache.load(path, key) is not None
    with np.load(path, allow_pickle=True) as npz:
        arrays = {name: npz[name] for name in npz.files}
    spoil(arrays)
    np.savez(path, **arrays)
    assert model_cache.load(path, key) is None


def test_a_cache_made_for_another_python_or_corpus_is_ignored(trained, tmp_path):
    key, tok, models = trained
    path = tmp_path / "models.npz"
    model_cache.save(path, "0" * 32, tok, models)
    assert model_cache.load(path, key) is None


def test_a_cache_that_is_too_big_is_not_read(trained, tmp_path, monkeypatch):
    key, tok, models = trained
    path = tmp_path / "models.npz"
    model_cache.save(path, key, tok, models)
    monkeypatch.setattr(model_cache, "MAX_BYTES", path.stat().st_size - 1)
    assert model_cache.load(path, key) is None


def test_the_key_changes_with_the_corpus():
    sources = corpus.source_texts()
    assert model_cache.cache_key(sources) != model_cache.cache_key(sources[:-1])
