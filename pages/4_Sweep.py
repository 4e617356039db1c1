"""Sweep: a labelled grid of completions for one prompt, one or two parameters varied."""
import streamlit as st

from lib.catalogue import COMPLETIONS, COMPLETIONS_COMPACT
from lib.text import sweep as text_sweep
from lib.ui import share, state, stream_view, sweep_axes, sweep_view as view
from lib.ui.form import param_form
from lib.ui.model_picker import model_picker
from lib.ui.presets_panel import presets_panel
from lib.ui.shell import page_shell
from lib.ui.text import shown
from lib.ui.widgets import param_widget

PAGE = view.PAGE

conn = page_shell("sweep")
if conn is None:
    st.stop()

sweep_axes.set_axes(share.apply_link(PAGE, COMPLETIONS))
values = state.page_values(PAGE, COMPLETIONS)
run = st.session_state.get(view.RUN)
running = run is not None and run.running
invalid: set[str] = set()
go_pressed = stream_view.pressed("sweep-run")

# Both columns stay short, so the grid's first row starts in view.
settings, axes = st.columns([2, 3], gap="large")
with settings:
    model_picker(PAGE, COMPLETIONS, conn)
    param_widget(PAGE, COMPLETIONS, "prompt", label="Prompt", height=80, errors=invalid)
    with st.expander("Fixed parameters", icon=":material/tune:"):
        form = param_form(PAGE, COMPLETIONS, COMPLETIONS_COMPACT, invalid=invalid,
                          attempt=go_pressed)
    presets_panel(PAGE, "completions")
with axes:
    x_name, x_text, y_name, y_text = view.axes_inputs(running)
    plan, problem = None, form.problem
    try:
        if form.body is not None:
            plan = view.make_plan(form.body, x_name, x_text, y_name, y_text)
    except text_sweep.SweepError as exc:
        problem = str(exc)
    # Settings not yet filled in are no problem to point at until Run is first pressed.
    quiet = form.body is None and not form.attempted
    if plan is not None:
        st.markdown(view.estimate_line(plan, conn))
    elif not quiet:
        st.caption(f"Not ready to run: {shown(problem)}")
    # Run starts the sweep before the buttons are drawn, so this very run shows Stop.
    if view.may_start(plan, pressed=go_pressed, running=running):
        run, running = view.start(conn, plan), True
    go, link = st.columns([1, 2])
    with go:
        stream_view.action_button(
            "sweep-run", "Run sweep", run.stop if running else None, running, width="stretch",
            disabled=plan is None and not quiet,
            stop_help="Cells not yet sent are skipped; finished ones are kept.")
    with link:
        share.share_control(PAGE, values, st.session_state.get(state.pinned_key(PAGE), []),
                            conn.api_key, sweep_axes.share_extra())

if run is not None:
    if running:  # the grid is drawn at once and each cell filled as it lands
        bar = st.progress(0.0, text="starting…")
        view.follow(run, bar, view.grid(run.plan, run.results()))
        st.rerun()
    results = run.results()
    failed = sum(r.error is not None for r in results)
    st.caption(f"{run.plan.describe()} in {run.elapsed:.1f} s"
               + (f" · {failed} failed" if failed else "")
               + (" · stopped" if run.stopped else ""))
    view.grid(run.plan, results)
    view.downloads(run.plan, results)
