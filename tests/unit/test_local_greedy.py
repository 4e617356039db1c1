"""The local backend's greedy decoding (temperature 0) over real HTTP: its repetition guard.

A 4-gram model sees 3 tokens back, so plain arg-max cycles as soon as 3 tokens recur
(Presenter's "Deterministic" scene printed "annectionsectionsection…"). The guard passes
over a token that would repeat a 4-token sequence, and says so only through the logprobs,
which stay the model's own.
"""
from __future__ import annotations

import requests

from lib.local_backend.generation import NO_REPEAT_NGRAM

NO_EOS = {"0": -100}  # bans end-of-text, so the run reaches max_tokens


def greedy(backend, prompt: str, **body) -> dict:
    response = requests.post(f"{backend.base_url}/completions", timeout=30, json={
        "model": "local/ngram-docs", "prompt": prompt, "temperature": 0, "max_tokens": 80,
        "logit_bias": NO_EOS, **body})
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]


def ngrams(ids: list[int]) -> list[tuple[int, ...]]:
    return [tuple(ids[i:i + NO_REPEAT_NGRAM]) for i in range(len(ids) - NO_REPEAT_NGRAM + 1)]


def test_greedy_output_never_repeats_a_sequence_and_does_not_loop(fresh_backend):
    choice = greedy(fresh_backend, "conn", logprobs=1)
    seen = ngrams(choice["logprobs"]["token_ids"])
    assert len(seen) > 40 and len(set(seen)) == len(seen)
    assert "sectionsection" not in choice["text"]


def test_the_guard_shows_in_the_logprobs_which_stay_the_models_own(fresh_backend):
    tokens = greedy(fresh_backend, "conn", logprobs=2)["logprobs"]
    passed_over = [(lp, top) for lp, top in zip(tokens["token_logprobs"],
                                                tokens["top_logprobs"])
                   if max(top.values()) > lp]
    assert passed_over  # the favourite was skipped where it would have repeated
    for lp, top in passed_over:
        assert len(top) == 2 and lp in top.values()

