"""The Sweep page's regions: axes, the pre-run estimate, the running pool, the grid, exports.

The axes' state (and how links and history put it back) is in ``lib.ui.sweep_axes``.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.connection import Connection
from lib.text import sweep as text_sweep
from lib.text.sweep import CellResult, Plan, SweepRun
from lib.ui import alerts, run_estimate, state, stream_view
from lib.ui.sweep_axes import NONE, X_NAME, X_TEXT, Y_NAME, Y_TEXT
from lib.ui.text import shown

PAGE = "sweep"
RUN = f"{PAGE}:run"
CONFIRM = f"{PAGE}:confirm"


def axes_inputs(disabled: bool) -> tuple[str, str, str, str]:
    """X and Y: a parameter and its values each (Y may be none)."""
    x_col, y_col = st.columns(2)
    with x_col:
        x_name = st.selectbox("X axis (columns)", text_sweep.SWEEPABLE, disabled=disabled,
                              format_func=axis_title,
                              key=state.persistent(X_NAME, "temperature"),
                              on_change=state.sync, args=(X_NAME,))
        x_text = st.text_input("X values", disabled=disabled,
                               key=state.persistent(X_TEXT, "0, 0.7, 1.4"),
                               on_change=state.sync, args=(X_TEXT,),
                               help="Comma separated, or a range like 0 to 1 (+0.25).")
    with y_col:
        y_name = st.selectbox("Y axis (rows)", (NONE, *text_sweep.SWEEPABLE), disabled=disabled,
                              format_func=axis_title,
                              key=state.persistent(Y_NAME, NONE), on_change=state.sync,
                              args=(Y_NAME,))
        y_text = st.text_input("Y values", disabled=disabled or y_name == NONE,
                               key=state.persistent(Y_TEXT, ""), on_change=state.sync,
                               args=(Y_TEXT,), help="Comma separated, or a range.")
    return x_name, x_text, ("" if y_name == NONE else y_name), y_text


def axis_title(name: str) -> str:
    """A parameter as the grid's headers name it ("Top k", not "top_k")."""
    return name if name == NONE else COMPLETIONS[name].title


def make_plan(base: dict[str, Any], x_name: str, x_text: str, y_name: str,
              y_text: str) -> Plan:
    x = text_sweep.parse_axis(x_name, x_text)
    y = text_sweep.parse_axis(y_name, y_text) if y_name else None
    return text_sweep.plan(base, x, y)


estimate_line = run_estimate.estimate_line


def may_start(p: Plan | None, *, pressed: bool, running: bool) -> bool:
    return run_estimate.may_start(p, CONFIRM, pressed=pressed, running=running, what="sweep")


def start(conn: Connection, p: Plan) -> SweepRun:
    record = stream_view.record_run(conn, PAGE, p.base, SweepRun.finished,
                                    metrics=text_sweep.axes_json(p))
    run = SweepRun(conn.client, p, on_finish=record).start()
    st.session_state[RUN] = run
    return run


def follow(run: SweepRun, bar, cells: "Cells") -> None:
    """The progress bar and the grid's cells, redrawn as cells land, until the sweep ends."""
    total = run.plan.request_count

    def frame(quiet: bool) -> float:
        done = run.done_count()
        bar.progress(done / total, text=f"{done} of {total} cells")
        cells.update(run.results())
        return stream_view.frame_interval(0, 0.0)

    stream_view.follow([run], frame)


# A cell shows at most this much; longer text scrolls inside it, and "Whole text" opens it.
CELL_CSS = """<style>
[class*="st-key-sweep-cell-"] .ct{max-height:12em;overflow-y:auto}
</style>"""
# Offered from this length on: a narrow cell (4 columns) fills 12em with ~150 characters.
LONG_CELL_CHARS, LONG_CELL_LINES = 120, 7


class Cells:
    """The grid's cells by (row, column): drawn "waiting…", each filled once it is done."""

    def __init__(self) -> None:
        self.slots: dict[tuple[int, int], Any] = {}
        self.drawn: set[tuple[int, int]] = set()

    def add(self, r: int, c: int) -> None:
        with st.container(key=f"sweep-cell-{r}-{c}", border=True):
            self.slots[(r, c)] = st.empty()

    def update(self, results: list[CellResult]) -> None:
        for result in results:
            pos = (result.row, result.col)
            if pos in self.slots and pos not in self.drawn:
                with self.slots[pos].container():
                    _cell(result)
                if result.done:  # drawn for good; a waiting cell is redrawn when it lands
                    self.drawn.add(pos)


def grid(p: Plan, results: list[CellResult]) -> Cells:
    """Rows by columns, each header naming its parameter and value."""
    st.html(stream_view.CSS + CELL_CSS)
    widths = [1.5] + [3] * p.cols if p.y else [3] * p.cols
    header = st.columns(widths)  # the corner stays empty: every label names its axis
    for c, lab in enumerate(p.x.labels):
        header[c + (1 if p.y else 0)].markdown(f"**{p.x.title} = {shown(lab)}**")
    cells = Cells()
    for r in range(p.rows):
        row = st.columns(widths)
        if p.y:
            row[0].markdown(f"**{p.y.title} = {shown(p.y.labels[r])}**")
        for c in range(p.cols):
            with row[c + (1 if p.y else 0)]:
                cells.add(r, c)
    cells.update(results)
    return cells


def _cell(result: CellResult) -> None:
    if not result.done:
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
    if len(result.text) > LONG_CELL_CHARS or result.text.count("\n") >= LONG_CELL_LINES:
        with st.popover("Whole text", icon=":material/open_in_full:"):
            st.html(stream_view.text_html(result.text))


def downloads(p: Plan, results: list[CellResult]) -> None:
    csv_col, json_col = st.columns(2)
    csv_col.download_button("Export CSV", text_sweep.to_csv(p, results), "sweep.csv",
                            "text/csv", key="sweep-csv", on_click="ignore",
                            icon=":material/download:")
    json_col.download_button("Export JSON", text_sweep.to_json(p, results), "sweep.json",
                             "application/json", key="sweep-json", on_click="ignore",
                             icon=":material/download:")
