"""The Prompt lab page's regions: template, inputs, variants, graders, the grid, keeping it.

Everything a lab is lives in ``lib.lab``; this module draws it and keeps the page's state.
Each variant is a page of its own for ``lib.ui.state`` ("lab-v0", …), like Compare's
columns, so the catalogue's widgets and ``param_form`` work per variant unchanged. The
grid shows a ``LabRun`` while it runs and what it ended with (or a lab restored from the
history) afterwards; a failed cell's Re-run starts a run of that one cell that keeps the rest.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence

import streamlit as st

from lib.catalogue import COMPLETIONS, COMPLETIONS_COMPACT
from lib.connection import Connection
from lib.lab import export, graders as lab_graders, inputs, plan as lab_plan, setup as lab_setup
from lib.lab import template as lab_template
from lib.lab.plan import LabPlan, LabRun
from lib.lab.setup import VariantSetup
from lib.saved import history
from lib.text.sweep import CellResult
from lib.ui import account, alerts, run_estimate, state, stream_view
from lib.ui.lab_state import (COLUMNS, EDITED, GRADERS, PAGE, ROWS, RUN, SHOWN, TABLE_VERSION,
                              TEMPLATE, VARIANTS, apply_setup, columns_for, own_key, restore,
                              set_rows, variant_page)
from lib.ui.form import param_form
from lib.ui.model_picker import model_picker
from lib.ui.text import markdown_table, shown

UPLOADED = f"{PAGE}:uploaded"    # the file id last read, so a rerun does not re-read it
RERUN = f"{PAGE}:rerun"          # the cell index whose Re-run was pressed
CONFIRM = f"{PAGE}:confirm"
DEFAULT_TEMPLATE = "Explain {topic} in one line:"
DEFAULT_ROWS = [{"topic": "parsing", "expected": ""}, {"topic": "files", "expected": ""},
                {"topic": "threads", "expected": ""}]
DEFAULT_GRADERS = [lab_graders.Grader(lab_graders.MAX_WORDS, number=20).to_json()]
TEXT_COLUMN = "(text)"
EDITING = f"{PAGE}:editing"      # the inputs are an editable grid, not a read-only table
PREVIEW_CHARS = 80               # of a cell in the read-only table
FRAME_S = 0.5                    # seconds between frames while the grid fills
CELL_CSS = """<style>
[class*="st-key-lab-cell-"] .ct{max-height:9em;overflow-y:auto;font-size:.9rem}
[class*="st-key-lab-cell-"] p{margin-bottom:.2rem}
.lab-meta{font-size:.8rem;opacity:.8;margin-bottom:.2rem}
.lab-bd{border-radius:.25rem;padding:0 .3rem;white-space:nowrap}
.lab-pass{background:rgba(33,195,84,.18);color:rgb(21,130,61)}
.lab-fail{background:rgba(255,43,43,.15);color:rgb(200,40,40)}
</style>"""


# ---------------------------------------------------------------- template and inputs

def template_box(disabled: bool) -> tuple[lab_template.Template | None, str]:
    """The shared template and the variables it holds (or the error, said under it)."""
    text = st.text_area("Template", key=state.persistent(TEMPLATE, DEFAULT_TEMPLATE),
                        on_change=state.sync, args=(TEMPLATE,), height=90,
                        disabled=disabled,
                        help="{name} is filled from the inputs' column of that name; "
                             "{{ and }} are literal braces.")
    try:
        tmpl = lab_template.parse(text)
    except lab_template.TemplateError as exc:
        alerts.error(str(exc))
        return None, text
    names = ", ".join(f"`{{{v}}}`" for v in tmpl.variables)
    st.caption(f"Variables: {names}" if names else "No variables yet: add a {name}.")
    return tmpl, text


def inputs_table(variables: Sequence[str], disabled: bool) -> inputs.Table | None:
    """The editable table (typed, pasted or uploaded); None, with the reason, when unusable.

    A CSV that cannot be read leaves the table as it was."""
    columns = columns_for(variables)
    if ROWS not in st.session_state:
        set_rows(DEFAULT_ROWS, columns)
    elif st.session_state.get(COLUMNS) != columns:  # the template's variables changed
        set_rows(st.session_state.get(EDITED) or [], columns)
    table_tab, paste_tab, upload_tab = st.tabs(["Table", "Paste CSV", "Upload CSV"])
    with paste_tab:
        pasted = st.text_area("CSV with a header row", key=f"{PAGE}:paste", height=90,
                              disabled=disabled, placeholder=",".join(columns))
        if st.button("Use this CSV", key=f"{PAGE}:paste_go", disabled=disabled):
            load_csv(pasted, variables)
    with upload_tab:
        upload = st.file_uploader("CSV file (UTF-8)", type=["csv"], key=f"{PAGE}:upload",
                                  disabled=disabled)
        if upload is not None and st.session_state.get(UPLOADED) != upload.file_id:
            st.session_state[UPLOADED] = upload.file_id
            try:
                load_csv(inputs.decode(upload.getvalue()), variables)
            except inputs.InputError as exc:
                _load_failed(exc)
    with table_tab:
        editing = st.toggle("Edit in place", key=state.persistent(EDITING, False),
                            on_change=_switch_editing, args=(columns,), disabled=disabled,
                            help="An editable grid of the rows. It loads a table library "
                                 "the first time (a second or so); the rows shown are the "
                                 "ones the lab sends either way.")
        return _editor(columns, disabled) if editing else _preview(columns)


def load_csv(text: str, variables: Sequence[str]) -> None:
    try:
        table = inputs.read_csv(text, variables)
    except inputs.InputError as exc:
        _load_failed(exc)
        return
    set_rows(list(table.rows), columns_for(variables))
    st.toast(f"{len(table.rows)} rows of inputs loaded.", icon=":material/table:")


def _load_failed(exc: Exception) -> None:
    alerts.error(f"{exc} The table was kept as it was.", icon=":material/table:")


def _switch_editing(columns: Sequence[str]) -> None:
    """on_change of "Edit in place": either way, the rows as last edited become the table
    to start from (the grid's own edits go when it is not drawn)."""
    state.sync(EDITING)
    set_rows(st.session_state.get(EDITED) or [], columns)


def _preview(columns: Sequence[str]) -> inputs.Table | None:
    """The rows as a read-only table: no grid, so no pandas or pyarrow in the page's first
    draw (0.8 s of server CPU and 90 MB, issue 14)."""
    rows = st.session_state.get(EDITED) or []
    if not rows:
        st.caption("No rows yet: paste or upload a CSV, or edit in place.")
    else:
        st.markdown(markdown_table([shown(c) for c in columns],
                                   [[shown(r.get(c, ""), PREVIEW_CHARS) for c in columns]
                                    for r in rows]))
    return _checked(rows, columns)


def _editor(columns: Sequence[str], disabled: bool) -> inputs.Table | None:
    import pandas as pd  # ~0.6 s to import: paid only once the grid is asked for (issue 14)
    base = pd.DataFrame(st.session_state[ROWS], columns=list(columns), dtype=object)
    edited = st.data_editor(base, key=f"{PAGE}:table:{st.session_state[TABLE_VERSION]}",
                            num_rows="dynamic", hide_index=True, width="stretch",
                            height=min(36 + 35 * (len(base) + 1), 180), disabled=disabled,
                            column_config={c: st.column_config.TextColumn(c) for c in columns})
    return _checked(edited.to_dict("records"), columns)


def _checked(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> inputs.Table | None:
    """The rows as the lab's table, kept as the last edit; None after saying what is wrong."""
    try:
        table = inputs.check_rows(rows, columns)
    except inputs.InputError as exc:
        alerts.error(str(exc), icon=":material/table:")
        return None
    st.session_state[EDITED] = [dict(r) for r in table.rows]
    return table


# ---------------------------------------------------------------- variants

def variant_count(disabled: bool) -> int:
    return int(st.segmented_control(
        "Variants", [1, 2, 3, 4], key=state.persistent(VARIANTS, 2), on_change=state.sync,
        args=(VARIANTS,), disabled=disabled, selection_mode="single") or 1)


def variant_settings(i: int, conn: Connection, shared: str, disabled: bool,
                     invalid: set[str], first: VariantSetup | None) -> VariantSetup:
    """One variant's header (model, what differs from ``first``, variant 1) and its
    settings in a popover: its own template (or the shared one), model and parameters."""
    head = st.container()
    with st.popover("Template, model, parameters", icon=":material/tune:", width="stretch"):
        own = st.checkbox("Own template", key=state.persistent(own_key(i, "own"), False),
                          on_change=state.sync, args=(own_key(i, "own"),), disabled=disabled)
        text = st.text_area("Template of this variant", height=90, disabled=disabled or not own,
                            key=state.persistent(own_key(i, "template"), shared),
                            on_change=state.sync, args=(own_key(i, "template"),))
        model_picker(variant_page(i), COMPLETIONS, conn)
        form = param_form(variant_page(i), COMPLETIONS, COMPLETIONS_COMPACT, invalid=invalid,
                          disabled=disabled)
    values = {k: v for k, v in form.settings.values.items() if k != "prompt"}
    variant = VariantSetup(text if own else None, values, tuple(form.settings.pinned))
    with head:
        st.markdown(f"**V{i + 1} · {shown(values.get('model') or 'no model')}**")
        st.caption(shown(lab_setup.differences_line(i, variant, first or variant)))
    return variant


# ---------------------------------------------------------------- graders

def graders_editor(columns: Sequence[str], disabled: bool) -> list[lab_graders.Grader]:
    """Graders picked from a list with their arguments: nothing typed is ever run."""
    chosen = [lab_graders.Grader(**g) for g in st.session_state.setdefault(GRADERS, DEFAULT_GRADERS)]
    for n, g in enumerate(chosen):
        name, drop = st.columns([5, 1])
        name.markdown(f"{n + 1}. {shown(g.label())}")
        drop.button("Remove", key=f"{PAGE}:grader_drop:{n}", disabled=disabled,
                    on_click=_drop_grader, args=(n,))
    if len(chosen) >= lab_graders.MAX_GRADERS:
        st.caption(f"At most {lab_graders.MAX_GRADERS} graders.")
        return chosen
    kind = st.selectbox("Add a grader", lab_graders.KINDS, key=f"{PAGE}:g_kind",
                        format_func=lambda k: lab_graders.TITLES[k], disabled=disabled)
    new = lab_graders.Grader(kind, **_grader_arguments(kind, columns, disabled))
    if st.button("Add grader", key=f"{PAGE}:g_add", icon=":material/add:", disabled=disabled):
        try:
            lab_graders.check(new, columns)
        except lab_graders.GraderError as exc:
            alerts.error(str(exc))
        else:
            st.session_state[GRADERS] = [*st.session_state[GRADERS], new.to_json()]
            st.rerun()
    return chosen


def _grader_arguments(kind: str, columns: Sequence[str], disabled: bool) -> dict[str, Any]:
    if kind in (lab_graders.CONTAINS, lab_graders.NOT_CONTAINS):
        source = st.selectbox("Look for", (TEXT_COLUMN, *columns), key=f"{PAGE}:g_column",
                              disabled=disabled,
                              format_func=lambda c: c if c == TEXT_COLUMN else f"column {c}")
        if source != TEXT_COLUMN:
            return {"column": source}
        return {"text": st.text_input("Text", key=f"{PAGE}:g_text", disabled=disabled)}
    if kind == lab_graders.REGEX:
        return {"text": st.text_input("Pattern (Python re, searched anywhere)",
                                      key=f"{PAGE}:g_pattern", disabled=disabled)}
    if kind == lab_graders.EQUALS:
        return {"loose": st.checkbox("Trimmed and case-folded", key=f"{PAGE}:g_loose",
                                     disabled=disabled)}
    if kind in (lab_graders.MAX_WORDS, lab_graders.MAX_TOKENS):
        return {"number": float(st.number_input("N", min_value=0, value=20, step=1,
                                                key=f"{PAGE}:g_n", disabled=disabled))}
    if kind == lab_graders.LOGPROB:
        return {"number": float(st.number_input("X", min_value=-100.0, max_value=0.0,
                                                value=-2.0, step=0.1, key=f"{PAGE}:g_x",
                                                disabled=disabled))}
    return {}


def _drop_grader(n: int) -> None:
    graders = list(st.session_state.get(GRADERS, []))
    del graders[n]
    st.session_state[GRADERS] = graders


# ---------------------------------------------------------------- running

estimate_line = run_estimate.estimate_line


def may_start(p: LabPlan | None, *, pressed: bool, running: bool) -> bool:
    return run_estimate.may_start(p, CONFIRM, pressed=pressed, running=running, what="lab")


def start(conn: Connection, p: LabPlan, previous: Sequence[CellResult] | None = None,
          only: Sequence[int] | None = None) -> LabRun:
    """Run the lab (or only some of its cells), recorded in the history as a whole lab."""
    request = {**p.cells[0].body, "prompt": p.setup.template}
    record = stream_view.record_run(conn, PAGE, request, LabRun.finished,
                                    metrics={"lab": p.setup.to_json()})
    run = LabRun(conn.client, p, previous=previous, only=only, on_finish=record).start()
    st.session_state[RUN], st.session_state[SHOWN] = run, None
    return run


def press_rerun(index: int) -> None:
    st.session_state[RERUN] = index


def pending_rerun() -> int | None:
    return st.session_state.pop(RERUN, None)


def shown_lab() -> tuple[LabPlan, list[CellResult], LabRun | None] | None:
    """The grid on screen: the last run's, or a lab restored from the history."""
    run = st.session_state.get(RUN)
    if run is not None:
        return run.plan, run.results(), run
    restored = st.session_state.get(SHOWN)
    return (restored[0], restored[1], None) if restored else None


# ---------------------------------------------------------------- the grid

@dataclass
class Grid:
    """The slots of a drawn grid: a header per variant and a cell per (row, variant)."""

    plan: LabPlan
    headers: list[Any]
    cells: list[Any]
    header_texts: dict[int, str] = field(default_factory=dict)
    cell_results: dict[int, CellResult] = field(default_factory=dict)
    grades: dict[int, list[lab_graders.Grade] | None] = field(default_factory=dict)

    def update(self, results: Sequence[CellResult], final: bool = False) -> None:
        """Draw what changed since the last frame: a cell whose result did (graded then,
        once), a header whose figures moved. Every element sent is re-rendered by the
        browser, and a filling grid is mostly cells still waiting: redrawing those each
        frame cost the browser 4-6× drawing the finished grid once (bench.lab_grid)."""
        changed = [i for i, r in enumerate(results) if self.cell_results.get(i) != r]
        graded = lab_plan.grade_results(self.plan, [results[i] for i in changed])
        for i, g in zip(changed, graded):
            self.cell_results[i], self.grades[i] = results[i], g
            self._draw_cell(i, results[i], g, final)
        grades = [self.grades[i] for i in range(len(results))]
        for v, (slot, summary) in enumerate(zip(self.headers, lab_plan.summarise(
                self.plan, results, grades))):
            text = header_text(self.plan, v, summary)
            if self.header_texts.get(v) != text:
                slot.markdown(text)
                self.header_texts[v] = text

    def _draw_cell(self, i: int, r: CellResult, grades: list[lab_graders.Grade] | None,
                   final: bool) -> None:
        if r.error is None:
            self.cells[i].html(cell_html(r, grades, self.plan))
            return
        with self.cells[i].container():
            _failed_cell(i, r.error, final)


def header_text(p: LabPlan, v: int, s: lab_plan.VariantSummary) -> str:
    model = p.setup.variants[v].values.get("model") or "no model"
    rate = f"pass {s.passed}/{s.done} ({s.pass_rate:.0%})" if s.pass_rate is not None else "pass —"
    latency = f"{s.mean_latency_s * 1000:.0f} ms mean" if s.mean_latency_s is not None else "— ms"
    failed = f" · {s.failed} failed" if s.failed else ""
    return f"**V{v + 1} · {shown(model)}**  \n{rate} · {latency}{failed}"


def grid(p: LabPlan, results: Sequence[CellResult], *, final: bool) -> Grid:
    """Rows of inputs by variants; ``final`` draws each cell once with its Re-run button."""
    st.html(stream_view.CSS + CELL_CSS)
    widths = [1.2] + [3] * p.variants
    top = st.columns(widths)
    top[0].markdown("**Inputs**")
    headers = [top[v + 1].empty() for v in range(p.variants)]
    cells: list[Any] = [None] * p.request_count
    for r, row in enumerate(p.setup.table.rows):
        line = st.columns(widths)
        line[0].html(_inputs_html(r, row))
        for v in range(p.variants):
            with line[v + 1]:
                with st.container(key=f"lab-cell-{r}-{v}", border=True):
                    cells[p.index(r, v)] = st.empty()
    g = Grid(p, headers, cells)
    g.update(results, final=final)
    return g


def _inputs_html(r: int, row: dict[str, str]) -> str:
    parts = "".join(f"<div><b>{html.escape(k)}</b>: {html.escape(v[:200])}</div>"
                    for k, v in row.items() if v)
    return f'<div class="ct" style="font-size:.85rem">#{r + 1}{parts}</div>'


def cell_html(r: CellResult, grades: list[lab_graders.Grade] | None, p: LabPlan) -> str:
    """A cell that is waiting or has its output, as one element: its latency, tokens and
    grade badges over its text, all escaped (one element per cell keeps a frame cheap)."""
    if not r.done:
        return stream_view.note_html("waiting…")
    marks = "".join(grade_badge(p.setup.graders[n], g) for n, g in enumerate(grades or []))
    latency = f"{r.latency_s * 1000:.0f} ms" if r.latency_s is not None else "—"
    tokens = r.tokens if r.tokens is not None else "—"
    return (f'<div class="lab-meta">{latency} · {tokens} tokens{marks}</div>'
            + (stream_view.text_html(r.text) if r.text else stream_view.note_html("(no text)")))


def _failed_cell(i: int, error: str, final: bool) -> None:
    """A failed cell keeps its error; the finished grid offers to send it again, alone."""
    alerts.error(error, icon=":material/error:")
    if final:
        st.button("Re-run", key=f"{PAGE}:rerun:{i}", icon=":material/refresh:",
                  on_click=press_rerun, args=(i,), help="Send this cell again, alone.")


def grade_badge(grader: lab_graders.Grader, g: lab_graders.Grade) -> str:
    """A green "pass: …" or red "fail: … (why)" badge: said in words, not by colour alone."""
    words = f"{'pass' if g.passed else 'fail'}: {grader.label()}"
    if g.note and not g.passed:
        words += f" ({g.note})"
    kind = "pass" if g.passed else "fail"
    return f' <span class="lab-bd lab-{kind}">{html.escape(words, quote=True)}</span>'


def follow(run: LabRun, bar, g: Grid) -> None:
    """The progress bar and the grid, redrawn as cells land, until the run ends.

    A cell lands whole (it is not streamed token by token) and a pool of workers lands a
    few a second, so a frame every ``FRAME_S`` batches the cells that landed meanwhile
    into one update: each frame costs the browser a render of the page whatever it holds,
    and half a second is still prompt for a cell that itself took a second or more. (bench.lab_grid
    measures what filling costs the browser against drawing the finished grid once.)"""
    total = run.sending
    shown_done = [-1]

    def frame(quiet: bool) -> float:
        results = run.results()
        done = max(sum(r.done for r in results) - (run.plan.request_count - total), 0)
        if done != shown_done[0]:
            bar.progress(min(1.0, done / total), text=f"{done} of {total} cells")
            shown_done[0] = done
        g.update(results)
        return FRAME_S

    stream_view.follow([run], frame)


def downloads(p: LabPlan, results: Sequence[CellResult]) -> None:
    grades = lab_plan.grade_results(p, results)
    csv_col, json_col = st.columns(2)
    csv_col.download_button("Export CSV", export.to_csv(p, results, grades), "lab.csv",
                            "text/csv", key=f"{PAGE}:csv", on_click="ignore",
                            icon=":material/download:")
    json_col.download_button("Export JSON", export.to_json(p, results, grades), "lab.json",
                             "application/json", key=f"{PAGE}:json", on_click="ignore",
                             icon=":material/download:")


# ---------------------------------------------------------------- keeping it

def apply_link_extra(extra: dict[str, Any] | None) -> None:
    """A share link's lab, checked, into the page; a bad one is said and changes nothing."""
    if not extra or "lab" not in extra:
        return
    try:
        apply_setup(lab_setup.from_json(extra["lab"]))
    except lab_setup.SetupError as exc:
        alerts.error(f"This link's lab could not be opened: {exc}", icon=":material/link_off:")


def earlier_labs() -> list[history.Run]:
    try:
        return account.history_store().list(page=PAGE, limit=20)
    except history.HistoryError as exc:
        alerts.warning(f"Earlier labs cannot be listed: {exc}")
        return []


def restore_picker(disabled: bool) -> None:
    """Pick one of this person's recorded labs and put it back, grid and all."""
    runs = earlier_labs()
    if not runs:
        st.caption("Labs you run are kept in the history and can be restored here.")
        return
    by_id = {r.id: r for r in runs}
    pick = st.selectbox("Earlier labs", list(by_id), key=f"{PAGE}:earlier",
                        format_func=lambda i: _run_label(by_id[i]), disabled=disabled)
    if st.button("Restore", key=f"{PAGE}:restore", icon=":material/restore:",
                 disabled=disabled, help="Template, inputs, variants, graders and the grid."):
        if restore(by_id[pick]):
            st.rerun()


def _run_label(run: history.Run) -> str:
    metrics = run.metrics if isinstance(run.metrics, dict) else {}
    failed = metrics.get("failed")
    return (f"#{run.id} · {run.status} · {metrics.get('requests', '?')} cells"
            + (f", {failed} failed" if failed else "") + f" · {run.title or ''}")
