"""A completion run as the history keeps it (``finished``), and the metrics the page and
history share. ``lib.saved.recorder`` writes it: when the run starts, and from the worker
thread when it ends, so a stopped, failed or abandoned run still keeps what it received.
"""
from __future__ import annotations

import math
from typing import Any

from lib.api.results import ModelInfo
from lib.page_registry import page
from lib.saved.recorder import Finished
from lib.text.stream_run import RunView, StreamRun

PAGE = page("completions").key  # the page a run is recorded under unless named


def estimated_cost(view: RunView, model: ModelInfo | None) -> float | None:
    """USD from the listing's prices and the usage the API reported; None when either is absent."""
    if model is None or view.usage is None:
        return None
    return model.cost(view.usage.prompt_tokens, view.usage.completion_tokens)


MIN_MONEY = 1e-6  # below this a cost is written "< $0.000001"


def money(usd: float | None) -> str:
    """A cost a reader can take in: "$0.0035", "$0.000012", "< $0.000001", never "$0.000000"."""
    if usd is None:
        return "—"
    if usd == 0:
        return "$0"
    if usd < MIN_MONEY:
        return "< $0.000001"
    if usd < 0.01:  # two significant digits, written out (no "1.2e-05")
        return f"${usd:.{1 - math.floor(math.log10(usd))}f}"
    return f"${usd:.4f}"


def metrics(view: RunView, model: ModelInfo | None) -> dict[str, Any]:
    """The run's numbers as plain JSON-able values."""
    usage = view.usage
    return {
        "ttft_s": view.ttft, "elapsed_s": view.elapsed, "tokens_per_s": view.tokens_per_s,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else view.token_count,
        "total_tokens": usage.total_tokens if usage else None,
        "cost_usd": estimated_cost(view, model), "request_id": view.request_id,
        "streamed": view.streaming,
    }


def outputs(view: RunView) -> list[dict[str, Any]]:
    return [{"index": c.index, "text": c.text, "finish_reason": c.finish_reason,
             "seed": c.seed, "tokens": c.token_count, "ttft_s": c.ttft,
             "tokens_per_s": c.tokens_per_s} for c in view.choices]


def finished(run: StreamRun, model: ModelInfo | None) -> Finished:
    """The ended run as its history row keeps it: every choice, the numbers, the stream."""
    view = run.snapshot(with_tokens=False)
    return Finished(status=view.status, error=view.error.describe() if view.error else None,
                    outputs=outputs(view), metrics=metrics(view, model), events=run.events())
