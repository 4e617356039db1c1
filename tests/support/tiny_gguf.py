"""A tiny llama-architecture GGUF model that the tests write themselves (issue 13 item 3).

No weights can be downloaded here, so the llama.cpp compatibility suite serves this: two
layers of random weights from a seeded generator (the same bytes every time) and a small
SentencePiece ("llama") vocabulary of characters and a few pieces, with no byte-fallback
tokens. What llama.cpp's loader needs for such a vocabulary (llama-vocab.cpp): the model
name "llama", the token list with scores and types, and BOS/EOS/UNK ids; a newline token
("\\n", since there is no "<0x0A>"). Its tokenizer cannot split a character that is not in
the vocabulary (it would look for a byte token and fail), so prompts keep to ``ALPHABET``.

The model never chooses a control token, so a run ends on ``max_tokens`` or a stop string
and never on EOS: hidden dimension 0 carries a constant that no layer writes to, and the
output rows of the control tokens weigh it strongly negative.
"""
from __future__ import annotations

import string
from pathlib import Path

import numpy as np

SPACE = "\u2581"  # SentencePiece's word-boundary mark
CONTROL = ("<unk>", "<s>", "</s>")
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
ALPHABET = string.ascii_letters + string.digits + " .,!?;:'\"-()\n"
PIECES = tuple(SPACE + ch for ch in string.ascii_lowercase) + (
    "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd")
N_EMBD, N_HEAD, N_FF, N_LAYER, N_CTX = 64, 2, 128, 2, 512
SEED = 13
# gguf's TokenType values, written as plain ints so this module imports without gguf.
NORMAL, UNKNOWN, CONTROL_TYPE = 1, 2, 3


def vocabulary() -> list[str]:
    """Control tokens, the word mark, one token per character of ``ALPHABET``, then pieces."""
    chars = [SPACE] + [ch for ch in ALPHABET if ch != " "]
    return list(CONTROL) + chars + list(PIECES)


def _token_types(tokens: list[str]) -> list[int]:
    kinds = {"<unk>": UNKNOWN, "<s>": CONTROL_TYPE, "</s>": CONTROL_TYPE}
    return [kinds.get(token, NORMAL) for token in tokens]


def _weights(n_vocab: int, seed: int) -> dict[str, np.ndarray]:
    """Every tensor of the model, in numpy's (rows = outputs) order, float32.

    Dimension 0 of the residual stream is a constant 4 (embeddings set it, no attention
    or feed-forward output row writes it); the control tokens' output rows weigh it -10,
    which puts their logits some 36 below the others'.
    """
    rng = np.random.default_rng(seed)

    def normal(*shape: int, scale: float) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    embd = normal(n_vocab, N_EMBD, scale=1.0)
    embd[:, 0] = 4.0
    output = normal(n_vocab, N_EMBD, scale=0.25)
    output[:, 0] = 0.0
    output[[UNK_ID, BOS_ID, EOS_ID], 0] = -10.0
    tensors = {"token_embd.weight": embd, "output.weight": output,
               "output_norm.weight": np.ones(N_EMBD, np.float32)}
    for i in range(N_LAYER):
        layer = {
            "attn_norm": np.ones(N_EMBD, np.float32),
            "ffn_norm": np.ones(N_EMBD, np.float32),
            "attn_q": normal(N_EMBD, N_EMBD, scale=0.2),
            "attn_k": normal(N_EMBD, N_EMBD, scale=0.2),
            "attn_v": normal(N_EMBD, N_EMBD, scale=0.2),
            "attn_output": normal(N_EMBD, N_EMBD, scale=0.2),
            "ffn_gate": normal(N_FF, N_EMBD, scale=0.2),
            "ffn_up": normal(N_FF, N_EMBD, scale=0.2),
            "ffn_down": normal(N_EMBD, N_FF, scale=0.2),
        }
        layer["attn_output"][0] = 0.0
        layer["ffn_down"][0] = 0.0
        tensors.update({f"blk.{i}.{name}.weight": value for name, value in layer.items()})
    return tensors


def write_tiny_llama(path: Path, seed: int = SEED) -> Path:
    """Write the model to ``path`` (same seed, same bytes) and return the path."""
    import gguf

    tokens = vocabulary()
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([-float(i) for i in range(len(tokens))])
    writer.add_token_types(_token_types(tokens))
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    for name, value in _weights(len(tokens), seed).items():
        writer.add_tensor(name, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
