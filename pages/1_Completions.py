"""Completions: a prompt, every parameter, n choices streaming live, token probabilities."""
import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.text import StreamRun
from lib.ui import alerts, completions_view as view, share, state, stream_view
from lib.ui.model_picker import find_model, model_picker
from lib.ui.presets_panel import presets_panel
from lib.ui.shell import RUN_START, page_shell
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
# As in Together's and OpenAI's playgrounds: prompt, button and output share the main
# column, so the streaming text starts right under the button; parameters sit beside.
main, side = st.columns([7, 3], gap="large")
go = view.generate_pressed()
with side:
    view.parameter_panel(PAGE, conn, invalid)
    presets_panel(PAGE, "completions")
    share.share_control(PAGE, values, st.session_state.get(state.pinned_key(PAGE), []),
                        conn.api_key)
with main:
    model_picker(PAGE, COMPLETIONS, conn)
    form = param_form(PAGE, COMPLETIONS, ["prompt"], invalid=invalid, attempt=go,
                      height=150, label="Prompt")
    body, problem = form.body, form.problem

    # Generate starts the run before the button is drawn, so this very run shows Stop. It
    # does so in a container of its own, drawn every time: what starting draws (a message,
    # the model list's loading slot) then shifts nothing below, and the output stays at
    # the same element position running or finished (else the last run's cards stay above
    # the new ones until the run ends).
    with st.container(key=RUN_START):
        if go and not running:
            if body is None:
                alerts.error(f"Nothing was sent. {problem}", icon=":material/block:")
            else:
                model = find_model(conn, body["model"])
                record = stream_view.record_completion(conn, PAGE, body, model)
                run = StreamRun(conn.client, body, on_finish=record).start()
                st.session_state[RUN], st.session_state[RUN_MODEL] = run, model
                running = True
    view.action_buttons(PAGE, run, running)
    view.show_settings_notices(PAGE, conn, form)

    # ------------------------------------------------------------ the run, under its button
    # One slot, at the same place running or finished, whose content is replaced: a new
    # run's cards then take the last run's place at once instead of queueing below them.
    output = st.container()
    if run is not None:
        with output:
            notice = st.empty()
            summary = st.container()  # a failure is said above the cards, once it is over
            if running:
                cards = stream_view.draw_cards(len(run.snapshot(with_tokens=False).choices))
                stream_view.follow_cards(run, cards, notice)
                st.rerun()  # Generate back in place of Stop (one widget), metrics, token view
            result = run.snapshot()
            stream_view.show_finished(result)
            if result.error is not None:
                with summary:
                    alerts.error(result.error.describe(), icon=":material/error:")
            view.run_metrics(result, st.session_state.get(RUN_MODEL))  # under: text stays
            view.token_probabilities(PAGE, conn, run.params, result,
                                     st.session_state.get(RUN_MODEL))
            view.choices_board(PAGE, result)
