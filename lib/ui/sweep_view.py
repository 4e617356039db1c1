"""The Sweep page's regions: axes, the pre-run estimate, the running pool, the grid, exports.

The axes live under "sweep:…" keys (page-level state), so restoring the fixed
parameters from a preset or a link leaves them alone; links and history carry them as
extras and put them back with ``set_axes``.
"""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from lib.connection import Connection
from lib.text import sweep as text_sweep
from lib.text.sweep import CellResult, Plan, SweepRun
from lib.ui import alerts, state, stream_view
from lib.ui.model_picker import list_models
from lib.ui.text import shown

PAGE = "sweep"
RUN = f"{PAGE}:run"
X_NAME, X_TEXT, Y_NAME, Y_TEXT = (f"{PAGE}:x_name", f"{PAGE}:x_text", f"{PAGE}:y_name",
                                  f"{PAGE}:y_text")
CONFIRM = f"{PAGE}:confirm"
NONE = "—"


def axes_inputs(disabled: bool) -> tuple[str, str, str, str]:
    """X and Y: a parameter and its values each (Y may be none)."""
    x_col, y_col = st.columns(2)
    with x_col:
        x_name = st.selectbox("X axis (columns)", text_sweep.SWEEPABLE, disabled=disabled,
                              key=state.persistent(X_NAME, "temperature"),
                              on_change=state.sync, args=(X_NAME,))
        x_text = st.text_input("X values", disabled=disabled,
                               key=state.persistent(X_TEXT, "0, 0.7, 1.4"),
                               on_change=state.sync, args=(X_TEXT,),
                               help="Comma separated, or a range like 0 to 1 (+0.25).")
    with y_col:
        y_name = st.selectbox("Y axis (rows)", (NONE, *text_sweep.SWEEPABLE), disabled=disabled,
                              key=state.persistent(Y_NAME, NONE), on_change=state.sync,
                              args=(Y_NAME,))
        y_text = st.text_input("Y values", disabled=disabled or y_name == NONE,
                               key=state.persistent(Y_TEXT, ""), on_change=state.sync,
                               args=(Y_TEXT,), help="Comma separated, or a range.")
    return x_name, x_text, ("" if y_name == NONE else y_name), y_text


def make_plan(base: dict[str, Any], x_name: str, x_text: str, y_name: str,
              y_text: str) -> Plan:
    x = text_sweep.parse_axis(x_name, x_text)
    y = text_sweep.parse_axis(y_name, y_text) if y_name else None
    return text_sweep.plan(base, x, y)


def estimate_line(p: Plan, conn: Connection) -> str:
    e = text_sweep.estimate(p, {m.id: m for m in list_models(conn)})
    cost = f"at most ${e.cost_usd:.6f}" if e.cost_usd is not None else "cost unknown (no price)"
    return (f"**{p.describe()}** · about {e.prompt_tokens:,} prompt tokens and at most "
            f"{e.max_completion_tokens:,} completion tokens · {cost}")


def confirmed(p: Plan) -> bool:
    if not p.needs_confirm:
        return True
    return st.checkbox(f"Yes, send {p.request_count} requests", key=CONFIRM)


def start(conn: Connection, p: Plan) -> SweepRun:
    record = stream_view.record_run(conn, PAGE, p.base, SweepRun.finished,
                                    metrics=text_sweep.axes_json(p))
    run = SweepRun(conn.client, p, on_finish=record).start()
    st.session_state[RUN] = run
    return run


def follow(run: SweepRun, bar) -> None:
    """The progress bar, redrawn as cells land, until the sweep ends."""
    total = run.plan.request_count

    def frame(quiet: bool) -> float:
        done = run.done_count()
        bar.progress(done / total, text=f"{done} of {total} cells")
        return stream_view.frame_interval(0, 0.0)

    stream_view.follow([run], frame)


def grid(p: Plan, results: list[CellResult]) -> None:
    """Rows by columns, each header naming its parameter and value."""
    st.html(stream_view.CSS)
    by_pos = {(r.row, r.col): r for r in results}
    widths = [1.5] + [3] * p.cols if p.y else [3] * p.cols
    header = st.columns(widths)
    if p.y:
        header[0].markdown(f"**{p.y.title} ↓ · {p.x.title} →**")
    for c, lab in enumerate(p.x.labels):
        header[c + (1 if p.y else 0)].markdown(f"**{p.x.title} = {shown(lab)}**")
    for r in range(p.rows):
        row = st.columns(widths)
        if p.y:
            row[0].markdown(f"**{p.y.title} = {shown(p.y.labels[r])}**")
        for c in range(p.cols):
            with row[c + (1 if p.y else 0)]:
                _cell(r, c, by_pos.get((r, c)))


def _cell(r: int, c: int, result: CellResult | None) -> None:
    with st.container(key=f"sweep-cell-{r}-{c}", border=True):
        if result is None or not result.done:
            st.caption("waiting…")
            return
        if result.error:
            alerts.error(result.error, icon=":material/error:")
            return
        lp = f"{result.mean_logprob:.3f}" if result.mean_logprob is not None else "—"
        st.caption(f"**{shown(result.finish_reason or '—')}** · {result.tokens} tokens · "
                   f"{(result.latency_s or 0) * 1000:.0f} ms · mean logprob {lp}")
        st.html(stream_view.text_html(result.text) if result.text else
                '<div class="ct ct-wait">(no text)</div>')


def downloads(p: Plan, results: list[CellResult]) -> None:
    csv_col, json_col = st.columns(2)
    csv_col.download_button("Export CSV", text_sweep.to_csv(p, results), "sweep.csv",
                            "text/csv", key="sweep-csv", on_click="ignore",
                            icon=":material/download:")
    json_col.download_button("Export JSON", text_sweep.to_json(p, results), "sweep.json",
                             "application/json", key="sweep-json", on_click="ignore",
                             icon=":material/download:")


def share_extra() -> dict[str, Any]:
    return {"x": {"name": st.session_state.get(X_NAME), "text": st.session_state.get(X_TEXT)},
            "y": {"name": st.session_state.get(Y_NAME), "text": st.session_state.get(Y_TEXT)}}


def set_axes(extra: Mapping[str, Any] | None) -> None:
    """Axes from a link or a history run; anything not an axis name is ignored."""
    for (name_key, text_key), which in (((X_NAME, X_TEXT), "x"), ((Y_NAME, Y_TEXT), "y")):
        axis = (extra or {}).get(which)
        if not isinstance(axis, dict):
            continue
        name, text = axis.get("name"), axis.get("text")
        if name in (*text_sweep.SWEEPABLE, NONE) and isinstance(text, str):
            st.session_state[name_key], st.session_state[text_key] = name, text


def axes_from_history(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded sweep's axes in the shape ``set_axes`` takes."""
    out: dict[str, Any] = {"y": {"name": NONE, "text": ""}}
    for which in ("x", "y"):
        axis = metrics.get(which)
        if isinstance(axis, dict) and isinstance(axis.get("values"), list):
            out[which] = {"name": axis.get("name"),
                          "text": text_sweep.axis_text(axis["values"])}
    return out
