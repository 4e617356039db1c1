"""Turning a model's next-token distribution into one sampled token, the way hosted APIs do.

Order of operations (each one is real, none is cosmetic):
1. logit_bias is added to the log-probabilities (-100 in effect bans a token, +100 forces it);
2. repetition_penalty (Hugging Face style) over tokens already in the prompt or the output;
3. presence_penalty and frequency_penalty (OpenAI style) over the generated tokens only;
   -> the *reported* logprobs are the log-softmax at this point, i.e. after bias and
      penalties but before temperature and truncation, so they describe the distribution
      the request shaped rather than an artefact of the sampler settings;
4. temperature (0 means greedy: the arg-max is taken and 5-6 are skipped; the caller may
   name tokens greedy decoding must pass over, see ``generation``'s repetition guard);
5. top_k, then top_p (nucleus), then min_p truncation;
6. one uniform draw from ``numpy.random.Generator(PCG64(seed))``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 1.0
    top_k: int | None = None
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logit_bias: dict[int, float] = field(default_factory=dict)
    logprobs: int = 0  # number of alternatives to report per position


@dataclass
class Draw:
    token_id: int
    logprob: float                 # reported logprob of the sampled token
    top: dict[int, float] | None   # up to ``logprobs`` alternatives, sampled token included


def log_softmax(logits: np.ndarray) -> np.ndarray:
    m = logits.max()
    shifted = logits - m
    return shifted - np.log(np.exp(shifted).sum())


def shaped_logits(probs: np.ndarray, params: SamplingParams, seen: np.ndarray,
                  generated: np.ndarray) -> np.ndarray:
    """Steps 1-3: log-probabilities adjusted by bias and penalties.

    ``seen`` counts each token in prompt + output, ``generated`` in the output alone; both
    are dense per-vocabulary arrays kept up to date by the caller.
    """
    logits = np.log(probs)
    vocab = len(logits)
    for token, bias in params.logit_bias.items():
        if token < vocab:
            logits[token] += bias
    if params.repetition_penalty != 1.0:
        mask = seen > 0
        hit = logits[mask]
        logits[mask] = np.where(hit > 0, hit / params.repetition_penalty,
                                hit * params.repetition_penalty)
    if params.presence_penalty or params.frequency_penalty:
        logits -= params.presence_penalty * (generated > 0) + params.frequency_penalty * generated
    return logits


def _top_alternatives(logprobs: np.ndarray, k: int, chosen: int) -> dict[int, float]:
    k = min(k, len(logprobs))
    best = np.argpartition(-logprobs, k - 1)[:k]
    best = best[np.argsort(-logprobs[best], kind="stable")]
    ids = [int(t) for t in best if np.isfinite(logprobs[t])]
    if chosen not in ids:
        ids[-1] = chosen  # the sampled token is always shown, within the k requested
    return {t: float(logprobs[t]) for t in ids}


def choose(logits: np.ndarray, params: SamplingParams, temperature: float,
           rng: np.random.Generator, avoid: list[int] = ()) -> int:
    """Steps 4-6 on already shaped logits; sorts only when top_p needs an order.

    ``avoid`` only acts at temperature 0: the arg-max among the other tokens is taken
    (unless that leaves none), so the reported logprobs stay the model's own.
    """
    if temperature == 0:
        if len(avoid):
            passed = logits.copy()
            passed[list(avoid)] = -np.inf
            if np.isfinite(passed).any():
                return int(np.argmax(passed))
        return int(np.argmax(logits))
    scaled = logits / temperature
    candidates = None
    if params.top_k is not None and params.top_k < len(scaled):
        candidates = np.argpartition(-scaled, params.top_k - 1)[:params.top_k]
        scaled = scaled[candidates]
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if params.top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        # the smallest prefix whose mass reaches top_p (always at least one token)
        keep = int(np.searchsorted(np.cumsum(probs[order]), params.top_p)) + 1
        dropped = order[keep:]
        probs[dropped] = 0.0
    if params.min_p > 0.0:
        probs[probs < params.min_p * probs.max()] = 0.0
    cumulative = np.cumsum(probs)
    pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    pick = min(pick, len(probs) - 1)
    while probs[pick] == 0.0:  # only reachable through float rounding at the very top
        pick -= 1
    return int(candidates[pick]) if candidates is not None else pick


def sample(probs: np.ndarray, params: SamplingParams, seen: np.ndarray, generated: np.ndarray,
           rng: np.random.Generator, allowed: np.ndarray | None = None,
           avoid: list[int] = ()) -> Draw:
    """``allowed`` (a boolean mask) restricts the draw, e.g. for token healing; ``avoid``
    is what a greedy draw passes over (see ``choose``)."""
    logits = shaped_logits(probs, params, seen, generated)
    if allowed is not None:
        logits[~allowed] = -np.inf
    token = choose(logits, params, params.temperature, rng, avoid)
    reported = log_softmax(logits)
    top = _top_alternatives(reported, params.logprobs, token) if params.logprobs else None
    return Draw(token, float(reported[token]), top)
