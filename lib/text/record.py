"""A completion run as the history stores it, and the metrics the page and history share.

The run is written when it starts (as "interrupted") and completed from the worker thread
when it ends, so a run that the user stopped, that failed, or whose page was closed
mid-stream is still recorded with everything it had received.
"""
from __future__ import annotations

from typing import Any, Mapping

from lib.api.results import ModelInfo
from lib.saved import history
from lib.text.stream_run import DONE, FAILED, STOPPED, RunView, StreamRun

PAGE = "completions"
_STATUS = {DONE: history.OK, STOPPED: history.STOPPED, FAILED: history.FAILED}


def estimated_cost(view: RunView, model: ModelInfo | None) -> float | None:
    """USD from the listing's prices and the usage the API reported; None when either is absent."""
    if model is None or view.usage is None:
        return None
    return model.cost(view.usage.prompt_tokens, view.usage.completion_tokens)


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


def record_start(store: history.History, body: Mapping[str, Any], provider: str,
                 base_url: str, secret: str | None, page: str = PAGE) -> int:
    run = history.Run(page=page, model=str(body.get("model", "")), request=dict(body),
                      provider=provider, base_url=base_url,
                      title=history.preview(body.get("prompt")))
    return store.record(run, secret=secret)


def record_finish(store: history.History, run_id: int, run: StreamRun,
                  model: ModelInfo | None, secret: str | None) -> None:
    view = run.snapshot(with_tokens=False)
    store.update(run_id, secret=secret, status=_STATUS[view.status],
                 error=view.error.describe() if view.error else None,
                 outputs=outputs(view), metrics=metrics(view, model), events=run.events())
