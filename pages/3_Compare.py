"""Compare: one prompt against 2-4 models or parameter sets, all streaming at once."""
import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.ui import alerts, compare_view as view, share, state, stream_view
from lib.ui.model_picker import context_notice
from lib.ui.shell import RUN_START, page_shell
from lib.ui.text import shown
from lib.ui.widgets import param_widget

PAGE = view.PAGE

conn = page_shell("compare")
if conn is None:
    st.stop()

view.apply_extra(share.apply_link(PAGE, COMPLETIONS))
view.init_columns(conn)
running = view.any_running()
runs = st.session_state.get(view.RUNS) or []

# ---------------------------------------------------------------- prompt and controls
prompt = param_widget(PAGE, COMPLETIONS, "prompt", label="Prompt", height=100)
n = view.column_count()
bodies, problems = [], []
for i in range(n):
    form = view.column_body(i, prompt or "")
    bodies.append(form.body)
    problems.append(f"Column {i + 1}: {form.problem}" if form.body is None else "")

# Compare starts the runs before the button is drawn, so this very run shows Stop; in a
# container drawn every time, so what starting draws (a message, the model list's loading
# slot) moves nothing below it: the outputs keep their element positions (see Completions).
with st.container(key=RUN_START):
    if stream_view.pressed("compare-go") and not running:
        if any(b is None for b in bodies):
            alerts.error("Nothing was sent. " + " ".join(p for p in problems if p),
                         icon=":material/block:")
        else:
            view.start(conn, bodies)
            runs, running = st.session_state[view.RUNS], True
count, go, copy, link = st.columns([1.3, 1, 1.3, 1.6], vertical_alignment="bottom")
count.segmented_control("Columns", list(range(view.MIN_COLUMNS, view.MAX_COLUMNS + 1)),
                        key=state.persistent(view.COLUMNS, 3), on_change=state.sync,
                        args=(view.COLUMNS,), disabled=running)
with go:
    stream_view.action_button("compare-go", "Compare", view.stop_all, running, width="stretch",
                              stop_help="Stop every column; the text so far is kept.")
copy.button("Copy from Completions", key="compare-copy", width="stretch",
            on_click=view.copy_all_from_completions, disabled=running,
            help="Every column takes the Completions page's model and parameters again "
                 "(the prompt here is kept).")
with link:
    share.share_control(PAGE, state.page_values(PAGE, COMPLETIONS), [],
                        conn.api_key, view.share_extra())

# ---------------------------------------------------------------- columns
# Settings and outputs are two rows of columns, so every output starts at the same height
# however tall a column's header or warnings are.
for i, col in enumerate(st.columns(n, gap="medium")):
    with col:
        view.column_settings(i, conn, set(), running)
        if bodies[i] is not None:
            context_notice(conn, bodies[i])
slots = [col.container() for col in st.columns(n, gap="medium")]

# ---------------------------------------------------------------- output
if runs:
    models = st.session_state.get(view.MODELS) or [None] * len(runs)
    if running:
        cards = []
        for i, slot in enumerate(slots[:len(runs)]):
            with slot:
                cards.extend(stream_view.draw_cards(1, prefix=f"col{i}-"))
        view.follow_all(runs[:len(cards)], cards)
        st.rerun()  # redraw with Compare in place of Stop, and the metrics
    for i, (run, slot) in enumerate(zip(runs, slots)):
        with slot:
            result = run.snapshot(with_tokens=False)
            stream_view.show_finished(result, prefix=f"col{i}-")
            st.caption(shown(view.metrics_line(run, models[i])))
            if result.error is not None:
                alerts.error(result.error.describe(), icon=":material/error:")
