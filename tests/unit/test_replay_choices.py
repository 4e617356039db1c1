"""Replaying an n>1 run against the local backend over real HTTP (issue 11 item 5).

Without a seed in the request each choice gets its own server-drawn seed; a replay must
re-run each choice with its own, and say "cannot be reproduced" rather than "differs"
for a choice nothing can bring back.
"""
from __future__ import annotations

import requests

from lib.text.replay import ReplayPlan, compare_outputs, replay_plan

NO_EOS = {"0": -100}  # bans end-of-text, so every choice has words to compare


def complete(backend, body: dict) -> list[dict]:
    response = requests.post(f"{backend.base_url}/completions", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["choices"]


def replay(backend, plan: ReplayPlan):
    texts = [[c["text"] for c in complete(backend, r.body)] for r in plan.requests]
    return compare_outputs(plan.recorded, plan.replayed(texts), plan.unreproducible)


def recorded_run(backend, **extra) -> tuple[dict, list[dict]]:
    request = {"model": "local/ngram-docs", "prompt": "The function returns", "n": 2,
               "max_tokens": 20, "temperature": 1.0, "logit_bias": NO_EOS, **extra}
    return request, complete(backend, request)


def test_each_choice_of_an_unseeded_run_replays_with_its_own_seed(fresh_backend):
    request, outputs = recorded_run(fresh_backend)
    assert outputs[0]["text"] != outputs[1]["text"]
    plan = replay_plan(request, outputs)
    assert [(r.body["n"], r.body["seed"]) for r in plan.requests] == [
        (1, outputs[0]["seed"]), (1, outputs[1]["seed"])]
    verdict = replay(fresh_backend, plan)
    assert verdict.identical and verdict.summary == "identical: 2 of 2 choices match"


def test_a_choice_without_a_seed_is_called_unreproducible_not_different(fresh_backend):
    request, outputs = recorded_run(fresh_backend)
    outputs[1]["seed"] = None  # a server that reported no seed for it
    verdict = replay(fresh_backend, replay_plan(request, outputs))
    assert verdict.identical and "differs" not in verdict.summary
    assert verdict.summary == ("identical: 1 of 1 choice match; choice 2 cannot be "
                               "reproduced (no seed was reported and temperature is above 0)")
    assert not verdict.choices[1].reproducible


def test_a_greedy_run_without_seeds_replays_and_a_seeded_run_is_resent_whole(fresh_backend):
    request, outputs = recorded_run(fresh_backend, temperature=0)
    for output in outputs:
        output["seed"] = None
    assert replay(fresh_backend, replay_plan(request, outputs)).identical
    request, outputs = recorded_run(fresh_backend, seed=7)
    plan = replay_plan(request, outputs)
    assert [(r.body, r.choices) for r in plan.requests] == [(request, [0, 1])]
    assert replay(fresh_backend, plan).identical
