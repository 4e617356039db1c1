"""Completions: a prompt, every parameter, n choices streaming live, token probabilities."""
import streamlit as st

from lib.api import snippets
from lib.catalogue import COMPLETIONS
from lib.text import StreamRun
from lib.ui import alerts, completions_view as view, share, state, stream_view
from lib.ui.model_picker import context_notice, find_model, model_picker
from lib.ui.presets_panel import presets_panel
from lib.ui.shell import page_shell
from lib.ui.text import shown
from lib.ui.form import param_form

PAGE = "completions"
RUN = f"{PAGE}:run"            # the StreamRun being shown (it outlives reruns)
RUN_MODEL = f"{PAGE}:run_model"  # the model's listing entry at start (for the cost)

conn = page_shell("completions")
if conn is None:
    st.stop()

share.apply_link(PAGE, COMPLETIONS)
values = state.page_values(PAGE, COMPLETIONS)
invalid: set[str] = set()
run: StreamRun | None = st.session_state.get(RUN)
running = run is not None and run.running

# ---------------------------------------------------------------- prompt and parameters
left, right = st.columns([3, 2], gap="large")
with right:
    view.parameter_tabs(PAGE, conn, invalid)
    presets_panel(PAGE, "completions")
    share.share_control(PAGE, values, st.session_state.get(state.pinned_key(PAGE), []),
                        conn.api_key)
with left:
    model_picker(PAGE, COMPLETIONS, conn)
    form = param_form(PAGE, COMPLETIONS, ["prompt"], invalid=invalid,
                      attempt=view.generate_pressed(), height=260, label="Prompt")
    body, problem = form.body, form.problem

    # Generate starts the run before the buttons are drawn, so this very run shows Stop.
    if view.generate_pressed() and not running:
        if body is None:
            alerts.error(f"Nothing was sent. {problem}", icon=":material/block:")
        else:
            model = find_model(conn, body["model"])
            record = view.history_recorder(conn, body, model)
            run = StreamRun(conn.client, body, on_finish=record).start()
            st.session_state[RUN], st.session_state[RUN_MODEL] = run, model
            running = True
    button_slot = view.action_buttons(PAGE, run, running)
    if body is not None:
        st.caption(shown(snippets.sent_summary(body)))
        context_notice(conn, body)
        view.code_expander(conn.base_url, body)
    elif form.attempted:
        st.caption(f"Not ready to send: {shown(problem)}")

# ---------------------------------------------------------------- the run
if run is not None:
    notice = st.empty()
    summary = st.container()  # error and metrics, above the cards, once the run is over
    if running:
        # No rerun at the end: the cards already hold the whole text, so only what is new
        # (Generate back in place of Stop, metrics, token view, board) is sent.
        cards = stream_view.draw_cards(len(run.snapshot(with_tokens=False).choices))
        stream_view.follow_cards(run, cards, notice)
        view.generate_button(button_slot)
        result = run.snapshot()
    else:
        result = run.snapshot()
        stream_view.show_finished(result)
    with summary:
        if result.error is not None:
            alerts.error(result.error.describe(), icon=":material/error:")
        view.run_metrics(result, st.session_state.get(RUN_MODEL))
    view.token_probabilities(PAGE, result, requested=bool(run.params.get("logprobs")))
    view.choices_board(PAGE, result)
