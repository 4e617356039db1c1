"""Generating one choice token by token, with stop sequences, max_tokens and the guard.

A ``ChoiceGenerator`` advances one token per ``step()`` so streams generate lazily and
non-streamed requests simply run it to the end. Stop sequences are honoured in streams too:
text that might be the start of a stop sequence is held back until it is resolved, so no
byte past a stop sequence is ever sent.

Greedy decoding (temperature 0) carries a repetition guard, like Hugging Face's
``no_repeat_ngram_size``: it never emits a token that would repeat a ``NO_REPEAT_NGRAM``-token
sequence already in the prompt or output. A 4-gram model sees only 3 tokens back, so plain
arg-max falls into a cycle as soon as 3 tokens recur ("sectionsectionsection…"); the guard
takes the next most likely token instead. Reported logprobs are untouched, so the token
view shows where the guard passed over the favourite.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import guard
from .ngram import NgramModel
from .sampling import SamplingParams, sample
from .tokenizer import EOT_ID, Tokenizer

NO_REPEAT_NGRAM = 4  # the greedy guard's sequence length (the n-gram model's order)


@dataclass
class Token:
    id: int
    text: str
    logprob: float
    top: dict[str, float] | None  # alternatives by token text


@dataclass
class Emission:
    """What one step of one choice produced, for a stream chunk."""

    text: str                   # newly released text ("" while a stop sequence is unresolved)
    token: Token | None         # the token sampled at this step (None after the guard fired)
    finish_reason: str | None   # set on the choice's last step
    special: bool = False       # the end-of-text token


@dataclass
class ChoiceGenerator:
    tokenizer: Tokenizer
    model: NgramModel
    prompt_ids: list[int]
    params: SamplingParams
    max_tokens: int
    seed: int
    stop: list[str] = field(default_factory=list)
    guarded: bool = False

    def __post_init__(self):
        vocab = self.model.vocab_size
        self.rng = np.random.Generator(np.random.PCG64(self.seed))
        self.context = [EOT_ID] + list(self.prompt_ids)
        # Token healing: a prompt ending in bare spaces ("The function returns ") would leave
        # the model mid-token; the spaces are taken back out of the context and the first
        # token must start with them, its text then given without them.
        self.heal = ""
        last = self.tokenizer.token_text(self.prompt_ids[-1]) if self.prompt_ids else ""
        if (last and not last.strip(" ") and len(self.prompt_ids) > 1
                and self.tokenizer.continuations(last).any()):
            self.heal = last
            self.context.pop()
        self.seen = np.bincount([t for t in self.prompt_ids if t < vocab],
                                minlength=vocab).astype(np.float64)
        self.generated = np.zeros(vocab, dtype=np.float64)
        self.tokens: list[Token] = []
        self.token_ends: list[int] = []
        self.full = ""          # everything generated, before stop trimming
        self.released = 0       # characters of ``full`` already handed out
        self.finish_reason: str | None = None
        self.moderation: dict | None = None
        self._longest_stop = max((len(s) for s in self.stop), default=0)
        # (n-1)-token prefix -> tokens that followed it, for the greedy repetition guard
        self._followers: dict[tuple[int, ...], set[int]] = {}
        if self.params.temperature == 0:
            for end in range(NO_REPEAT_NGRAM, len(self.context) + 1):
                self._remember(self.context[end - NO_REPEAT_NGRAM:end])

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    @property
    def text(self) -> str:
        """The choice's text so far, as the client sees it."""
        return self.full[:self.released]

    def kept_tokens(self) -> list[Token]:
        """Tokens that lie wholly inside the returned text (stop trimming drops the rest)."""
        return [t for t, end in zip(self.tokens, self.token_ends) if end <= self.released]

    def run(self) -> "ChoiceGenerator":
        while not self.finished:
            self.step()
        return self

    def step(self) -> Emission:
        if self.finished:
            raise RuntimeError("choice already finished")
        tail = self.context[-(self.model.order - 1):]
        allowed = self.tokenizer.continuations(self.heal) if self.heal else None
        draw = sample(self.model.probabilities(tail), self.params, self.seen, self.generated,
                      self.rng, allowed, self._repeats())
        text = self.tokenizer.token_text(draw.token_id)[len(self.heal):]
        self.heal = ""
        top = None
        if draw.top is not None:
            top = {self.tokenizer.label(t): lp for t, lp in draw.top.items()}
        token = Token(draw.token_id, text, draw.logprob, top)
        if draw.token_id == EOT_ID:
            return self._finish("eos", token, special=True)
        blocked = guard.flagged(text) if self.guarded else None
        if blocked:
            self.moderation = {"model": "local/keyword-guard", "flagged": True,
                               "keyword": blocked}
            return self._finish("stop", None)
        self.tokens.append(token)
        self.full += text
        self.token_ends.append(len(self.full))
        self.context.append(draw.token_id)
        if self.params.temperature == 0:
            self._remember(self.context[-NO_REPEAT_NGRAM:])
        if draw.token_id < self.model.vocab_size:
            self.seen[draw.token_id] += 1
            self.generated[draw.token_id] += 1
        cut = self._stop_at(len(self.full) - len(text))
        if cut is not None:
            self.full = self.full[:cut]
            return self._release_to(cut, "stop", token)
        if len(self.tokens) >= self.max_tokens:
            return self._release_to(len(self.full), "length", token)
        return self._release_to(len(self.full) - self._held(), None, token)

    def _remember(self, ngram: list[int]) -> None:
        if len(ngram) == NO_REPEAT_NGRAM:
            self._followers.setdefault(tuple(ngram[:-1]), set()).add(ngram[-1])

    def _repeats(self) -> list[int]:
        """Tokens that would repeat a sequence already seen (greedy only; see the module)."""
        if self.params.temperature != 0:
            return []
        prefix = tuple(self.context[len(self.context) - NO_REPEAT_NGRAM + 1:])
        vocab = self.model.vocab_size
        return [t for t in self._followers.get(prefix, ()) if t < vocab]

    def _finish(self, reason: str, token: Token | None, special: bool = False) -> Emission:
        emission = self._release_to(len(self.full), reason, token)
        emission.special = special
        return emission

    def _release_to(self, end: int, reason: str | None, token: Token | None) -> Emission:
        text = self.full[self.released:end]
        self.released = max(self.released, end)
        self.finish_reason = reason
        return Emission(text, token, reason)

    def _stop_at(self, new_from: int) -> int | None:
        """Where the earliest stop sequence starts, if the text now holds one."""
        if not self.stop:
            return None
        start = max(0, new_from - self._longest_stop + 1)
        hits = [i for s in self.stop if (i := self.full.find(s, start)) >= 0]
        return min(hits) if hits else None

    def _held(self) -> int:
        """Length of the longest tail of the text that could still grow into a stop sequence."""
        full = self.full
        for size in range(min(self._longest_stop - 1, len(full)), 0, -1):
            tail = full[-size:]
            if any(s.startswith(tail) for s in self.stop):
                return size
        return 0


def prompt_logprobs(tokenizer: Tokenizer, model: NgramModel, prompt_ids: list[int],
                    pieces: list[str], k: int) -> dict:
    """Plain model logprobs of each prompt token given the ones before it (echo + logprobs).

    The first token has no context in the prompt, so its entries are null, as with OpenAI.
    """
    logprobs: list[float | None] = [None]
    tops: list[dict[str, float] | None] = [None]
    context = [EOT_ID]
    vocab = model.vocab_size
    for i, token in enumerate(prompt_ids):
        if i:
            lp = np.log(model.probabilities(context[-(model.order - 1):]))
            logprobs.append(float(lp[token]) if token < vocab else None)
            count = min(max(k, 1), vocab)
            best = np.argpartition(-lp, count - 1)[:count]
            best = best[np.argsort(-lp[best], kind="stable")]
            top = {tokenizer.label(int(t)): float(lp[t]) for t in best}
            if token < vocab and pieces[i] not in top:
                top.popitem()
                top[pieces[i]] = float(lp[token])
            tops.append(top)
        context.append(token)
    return {"tokens": pieces, "token_logprobs": logprobs, "token_ids": prompt_ids,
            "top_logprobs": tops}
