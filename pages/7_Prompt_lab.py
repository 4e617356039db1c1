"""Prompt lab: one template over a table of inputs, 1–4 variants side by side, every cell graded."""
import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.lab import graders as lab_graders, plan as lab_plan
from lib.lab.setup import LabSetup
from lib.ui import lab_view as view, share, stream_view
from lib.ui.shell import page_shell
from lib.ui.text import shown

PAGE = view.PAGE

conn = page_shell("lab")
if conn is None:
    st.stop()

view.apply_link_extra(share.apply_link(PAGE, COMPLETIONS))
run = st.session_state.get(view.RUN)
running = run is not None and run.running
go_pressed = stream_view.pressed("lab-run")
invalid: set[str] = set()

setup_col, run_col = st.columns([5, 2], gap="medium")
with setup_col:
    inputs_tab, variants_tab, graders_tab = st.tabs(
        ["Template and inputs", "Variants", "Graders"])
    with inputs_tab:
        template_col, table_col = st.columns([2, 3])
        with template_col:
            tmpl, template_text = view.template_box(running)
        with table_col:
            table = view.inputs_table(tmpl.variables if tmpl else (), running)
    with variants_tab:
        count = view.variant_count(running)
        variants = []
        for i, column in enumerate(st.columns(count)):
            with column:
                variants.append(view.variant_settings(i, conn, template_text, running, invalid,
                                                      variants[0] if variants else None))
    with graders_tab:
        graders = view.graders_editor(table.columns if table else (), running)

plan, problem = None, "fix the template and the inputs first."
if tmpl is not None and table is not None:
    try:
        checked = tuple(lab_graders.check(g, table.columns) for g in graders)
        plan = lab_plan.make_plan(LabSetup(template_text, table, tuple(variants), checked))
    except (lab_plan.PlanError, lab_graders.GraderError) as exc:
        problem = str(exc)

with run_col:
    if plan is not None:
        st.caption(view.estimate_line(plan, conn))
    else:
        st.caption(f"Not ready to run: {shown(problem)}")
    # Run starts the lab before the button is drawn, so this very run shows Stop.
    if view.may_start(plan, pressed=go_pressed, running=running):
        run, running = view.start(conn, plan), True
    again = view.pending_rerun()
    on_screen = view.shown_lab()
    if (again is not None and not running and on_screen is not None
            and 0 <= again < on_screen[0].request_count):
        run, running = view.start(conn, on_screen[0], on_screen[1], [again]), True
    stream_view.action_button(
        "lab-run", "Run lab", run.stop if running else None, running, width="stretch",
        disabled=plan is None,
        stop_help="Cells not yet sent are skipped; finished ones are kept.")
    link_col, earlier_col = st.columns(2)
    with link_col.popover("Link", icon=":material/link:", width="stretch"):
        if plan is None:
            st.caption("A link holds a lab that can run; fix the setup first.")
        else:
            share.share_control(PAGE, {}, [], conn.api_key, {"lab": plan.setup.to_json()})
    with earlier_col.popover("Earlier", icon=":material/history:", width="stretch",
                             help="Labs kept in your history"):
        view.restore_picker(running)

if running:  # the grid is drawn at once and each cell filled as it lands
    bar = st.progress(0.0, text="starting…")
    view.follow(run, bar, view.grid(run.plan, run.results(), final=False))
    st.rerun()
on_screen = view.shown_lab()
if on_screen is not None:
    lab, results, ended = on_screen
    failed = sum(r.error is not None for r in results)
    st.caption(f"{lab.describe()}" + (f" in {ended.elapsed:.1f} s" if ended else " · restored")
               + (f" · {failed} failed" if failed else "")
               + (" · stopped" if ended is not None and ended.stopped else ""))
    view.grid(lab, results, final=True)
    view.downloads(lab, results)
