"""The demo text models, trained once and kept on disk: later starts load them in milliseconds.

Training (extracting the corpora, building the tokenizer, counting n-grams) takes about a
second of CPU, and it runs when a server's first completion asks for the models. The result depends only on the Python
version (whose standard library is the training text) and on the corpus, so it is cached in
the private data folder under a key made of both (``corpus.corpus_hash`` also covers the code
that makes the corpora, and ``CODE_FILES`` the code that trains).

The cache is a file read from disk, so nothing in it is trusted: its size is bounded before
it is read, it must be a plain ``.npz`` (no pickles) whose key is this start's key, and every
array is checked (``NgramModel.from_arrays``) before a model is built from it. A file that
fails any check is ignored and the models are trained (and the file replaced) as if it were
not there.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.saved import datadir

from . import corpus, ngram, tokenizer
from .ngram import NgramModel
from .tokenizer import Tokenizer

FOLDER = "cache"
PREFIX = "text-models-"
MAX_BYTES = 128 * 2**20      # the models take about 25 MB; anything far bigger is not ours
MAX_PIECE_CHARS = 256        # the longest vocabulary piece a file may hold
CODE_FILES = (Path(tokenizer.__file__), Path(ngram.__file__), Path(__file__))
log = logging.getLogger(__name__)


@dataclass
class Trained:
    """A shared tokenizer and a model per corpus, and whether they came from the cache."""

    tokenizer: Tokenizer
    by_corpus: dict[str, NgramModel]
    from_cache: bool


def cache_key(sources: list[str]) -> str:
    """What the models depend on: the Python version, the corpus, and the training code."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update(corpus.corpus_hash(sources).encode())
    for path in CODE_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def cache_path(key: str) -> Path:
    return datadir.data_dir() / FOLDER / f"{PREFIX}{key}.npz"


def train(sources: list[str]) -> tuple[Tokenizer, dict[str, NgramModel]]:
    """Train the tokenizer on every corpus together, then one n-gram model per corpus."""
    corpora = corpus.load_corpora(sources)
    tok = Tokenizer.train([doc for docs in corpora.values() for doc in docs])
    models = {}
    for name, docs in corpora.items():
        encoded = [np.asarray(tok.encode(doc), dtype=np.int64) for doc in docs]
        models[name] = NgramModel.train(encoded, tok.size)
    return tok, models


def load_or_train() -> Trained:
    """The models from the cache when it holds this start's valid file, else freshly trained
    (and cached for the next start; a cache that cannot be written only costs that)."""
    sources = corpus.source_texts()
    key = cache_key(sources)
    path = cache_path(key)
    loaded = load(path, key)
    if loaded is not None:
        return Trained(*loaded, from_cache=True)
    tok, models = train(sources)
    try:
        save(path, key, tok, models)
    except OSError as exc:
        log.warning("could not cache the local models in %s: %s", path.parent, exc)
    return Trained(tok, models, from_cache=False)


def save(path: Path, key: str, tok: Tokenizer, models: dict[str, NgramModel]) -> None:
    """Write the models atomically as a private file, and drop caches of other keys."""
    arrays = {"key": np.frombuffer(key.encode(), dtype=np.uint8),
              "vocab": np.frombuffer(json.dumps(tok.vocab).encode(), dtype=np.uint8)}
    for name, model in models.items():
        arrays.update({f"{name}.{field}": a for field, a in model.to_arrays().items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    datadir.write_private(path, buffer.getvalue(), temp_prefix=f".{PREFIX}")
    for old in path.parent.glob(f"{PREFIX}*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def load(path: Path, key: str) -> tuple[Tokenizer, dict[str, NgramModel]] | None:
    """The cached tokenizer and models, or None when the file is missing, too big, damaged,
    of another key, or inconsistent in any array (logged: a bad cache is worth knowing of)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("ignoring the local model cache %s: %s", path, exc)
        return None
    try:
        return _parse(data, key)
    except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile) as exc:
        log.warning("ignoring the local model cache %s: %s", path, exc)
        return None


def _parse(data: bytes, key: str) -> tuple[Tokenizer, dict[str, NgramModel]]:
    if len(data) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_BYTES:
            raise ValueError(f"unpacks to more than {MAX_BYTES} bytes")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    if bytes(arrays.pop("key")) != key.encode():
        raise ValueError("made for another Python version, corpus or training code")
    tok = _tokenizer(bytes(arrays.pop("vocab")))
    models = {}
    for name in corpus.CORPORA:
        own = {field.split(".", 1)[1]: a for field, a in arrays.items()
               if field.startswith(name + ".")}
        models[name] = NgramModel.from_arrays(own)
        if models[name].vocab_size != tok.size:
            raise ValueError(f"the {name} model's vocabulary is not the tokenizer's")
    return tok, models


def _tokenizer(raw: bytes) -> Tokenizer:
    vocab = json.loads(raw.decode("utf-8"))
    if not (isinstance(vocab, list) and all(isinstance(p, str) and 0 < len(p) <= MAX_PIECE_CHARS
                                            for p in vocab)):
        raise ValueError("the vocabulary is not a list of short strings")
    if len(set(vocab)) != len(vocab):
        raise ValueError("the vocabulary repeats a piece")
    return Tokenizer(vocab)
