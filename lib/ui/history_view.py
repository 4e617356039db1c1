"""The History page's regions: the list, one run opened, restore, replay, delete.

Outputs are shown as text (escaped), never as HTML; images by reference to the image
store. Any ``HistoryError`` is shown in its own words: the library never rewrites a file
it cannot read, so nothing recorded is lost by looking.
"""
from __future__ import annotations

import html
import json
import time
from datetime import datetime

import streamlit as st

from lib.catalogue import ENDPOINTS
from lib.connection import Connection
from lib.page_registry import Page, find, page
from lib.saved import history
from lib.saved.run_settings import settings_from_request
from lib.text import replay
from lib.text.stream_run import StreamRun
from lib.ui import account, alerts, lab_state, state, stream_view, sweep_axes
from lib.ui.text import shown

PAGE = "history"
RUN_PARAM = "run"  # ?run=ID opens that run, if it is the visitor's own
REPLAY_TIMEOUT_S = 120
_DIFF_CSS = ("<style>.rd{white-space:pre-wrap;word-break:break-word;line-height:1.6}"
             ".rd del{background:#fdd;text-decoration:line-through}"
             ".rd ins{background:#dfd;text-decoration:none}</style>")


def linked_run(store: history.History) -> int | None:
    """The run id a link names (``?run=ID``) when it is one of this visitor's runs.

    Otherwise says "not found", the same for another person's run as for one that never
    existed, so an id typed into the URL tells nothing about anyone else's history.
    """
    raw = st.query_params.get(RUN_PARAM)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        alerts.warning(f"The link's run id must be a whole number, got {raw[:40]!r}.")
        return None
    if store.get(int(raw)) is None:
        alerts.warning(f"Run {int(raw)} not found.")
        return None
    return int(raw)


def restore_target(run: history.Run) -> Page | None:
    """The page "Restore" opens the run in (the registry's ``restores_into``), or None.

    ``run.page`` comes from the database: a name that is no page restores nowhere."""
    source = find(run.page)
    return page(source.restores_into) if source and source.restores_into else None


def replayable(run: history.Run) -> bool:
    source = find(run.page)
    return source is not None and source.replayable


def label(run: history.Run) -> str:
    """Plain text (a selectbox option); through ``shown`` where Markdown renders it."""
    when = datetime.fromtimestamp(run.created).strftime("%Y-%m-%d %H:%M:%S")
    return f"#{run.id} · {when} · {run.page} · {run.model} · {run.title or '(no prompt)'}"


def table(runs: list[history.Run]) -> None:
    st.dataframe([{"id": r.id,
                   "when": datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M:%S"),
                   "page": r.page, "model": r.model, "status": r.status, "prompt": r.title}
                  for r in runs], hide_index=True, width="stretch")


def show_run(run: history.Run) -> None:
    status = run.status + (f": {run.error}" if run.error else "")
    st.caption(shown(f"{run.provider or '—'} · {run.base_url or '—'} · {status}"))
    request, outputs, metrics = st.tabs(["Request", "Outputs", "Metrics"])
    with request:
        st.json(run.request)
    with outputs:
        _outputs(run)
    with metrics:
        st.json(run.metrics)


def _outputs(run: history.Run) -> None:
    st.html(stream_view.CSS)
    if not run.outputs:
        st.caption("No outputs were recorded.")
    store = account.image_store()
    for out in run.outputs:
        if "file" in out:
            try:
                st.image(str(store.path(out["file"])), caption=f"seed {shown(out.get('seed'))}",
                         width=256)
            except (ValueError, OSError, FileNotFoundError):
                st.caption(f"Image {shown(out.get('index'))}: the file is no longer in the "
                           "store.")
            continue
        head = " · ".join(f"{k} {out[k]}" for k in ("x", "y", "finish_reason", "seed", "tokens")
                          if out.get(k) is not None)
        st.markdown(f"**Output {shown(out.get('index', ''))}** · {shown(head)}")
        if out.get("error"):
            alerts.error(out["error"])
        st.html(stream_view.text_html(str(out.get("text") or "")))


def restore(run: history.Run) -> bool:
    """Button callback target: the run's settings into its page; True when the page may
    go there, False (having said why) for an unreadable row."""
    if _refused(run, "restored"):
        return False
    target = restore_target(run)
    if target.key == lab_state.PAGE:  # a whole lab (template, table, grid), not one request
        return lab_state.restore(run)
    endpoint = ENDPOINTS[target.endpoint]
    values, pinned = settings_from_request(endpoint, run.request)
    state.restore(target.key, endpoint, values, pinned)
    if run.page == "sweep":
        sweep_axes.set_axes(sweep_axes.axes_from_history(run.metrics))
    return True


def _refused(run: history.Run, action: str) -> bool:
    """True, with a message, when the run's row could not be read: its settings are unknown."""
    if run.unreadable:
        alerts.error(f"{run.error} It cannot be {action}.")
    return run.unreadable


def replay_run(run: history.Run, conn: Connection) -> None:
    """Re-run each choice with what reproduces it and show the verdict and a word diff."""
    if _refused(run, "replayed"):
        return
    try:
        plan = replay.replay_plan(run.request, run.outputs)
    except replay.ReplayError as exc:
        alerts.error(str(exc))
        return
    with st.spinner("Re-running with the recorded seeds…"):
        reruns = [StreamRun(conn.client, r.body).start() for r in plan.requests]
        deadline = time.monotonic() + REPLAY_TIMEOUT_S
        for rerun in reruns:
            rerun.join(max(0.0, deadline - time.monotonic()))
    results = [rerun.snapshot(with_tokens=False) for rerun in reruns]
    failed = next((r.error for r in results if r.error is not None), None)
    if failed is not None:
        alerts.error(f"The re-run failed: {failed.describe()}")
        return
    verdict = replay.compare_outputs(
        plan.recorded, plan.replayed([[c.text for c in r.choices] for r in results]),
        plan.unreproducible)
    (alerts.success if verdict.identical else alerts.warning)(
        f"Replay {_seeds_label(plan.seeds)}: {verdict.summary}")
    for choice in verdict.choices:
        if choice.reproducible and not choice.identical:
            st.html(diff_html(choice.segments))


def _seeds_label(seeds: list[int]) -> str:
    if not seeds:
        return "at temperature 0"
    if len(seeds) == 1:
        return f"with seed {seeds[0]}"
    return f"with each choice's own seed ({', '.join(map(str, seeds))})"


def diff_html(segments: list[replay.Segment]) -> str:
    """Recorded vs replayed words; every piece escaped, so output cannot become markup."""
    tags = {replay.EQUAL: "span", replay.DELETE: "del", replay.INSERT: "ins"}
    body = "".join(f"<{tags[op]}>{html.escape(text)}</{tags[op]}>" for op, text in segments)
    return f'{_DIFF_CSS}<div class="rd">{body}</div>'


def request_json(run: history.Run) -> str:
    return json.dumps(run.request, ensure_ascii=False, indent=2)
