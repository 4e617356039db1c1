"""Presenter mode: for demos. Large type; no sidebar, key or knobs; presets as scenes."""
import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.text import StreamRun
from lib.ui import alerts, presenter_view as view, stream_view
from lib.ui.form import param_form
from lib.ui.model_picker import find_model
from lib.ui.shell import RUN_START, page_shell

PAGE = view.PAGE
RUN = f"{PAGE}:run"

conn = page_shell("presenter", sidebar=False)
view.hide_chrome()
if conn is None:
    alerts.error("The connection is not set up: choose a provider on another page first.")
    st.stop()
view.init_values(conn)

scenes = view.scenes()
if scenes:
    index = st.session_state.get(view.SCENE, 0) % len(scenes)
    prev, title, nxt = st.columns([2, 5, 2])  # wide enough for the label and its key
    prev.button("◀ Previous", key="presenter-prev", on_click=view.step, args=(-1, len(scenes)),
                width="stretch", shortcut=view.PREVIOUS_KEY)
    nxt.button("Next ▶", key="presenter-next", on_click=view.step, args=(1, len(scenes)),
               width="stretch", shortcut=view.NEXT_KEY)
    title.markdown(view.title_line(scenes, index))

form = param_form(PAGE, COMPLETIONS, ["prompt"], label="Prompt", height=160)
run = st.session_state.get(RUN)
running = run is not None and run.running
# Generate starts the run before the button is drawn, so this very run shows Stop; what
# starting draws (a message, the model list's loading slot) sits in the run-start
# container, which takes no room unless it holds a message, so the button stays put.
with st.container(key=RUN_START):
    if view.generate_pressed() and not running:
        body = form.body
        if body is None:
            alerts.error(form.problem)
        else:
            record = stream_view.record_completion(conn, view.SOURCE_PAGE, body,
                                                  find_model(conn, body["model"]))
            run = StreamRun(conn.client, body, on_finish=record).start()
            st.session_state[RUN], running = run, True
view.action_button(run, running)

playback = st.session_state.pop(view.PLAYBACK, None)
if playback is not None:
    view.play_back(playback)
elif run is not None:
    if running:
        cards = stream_view.draw_cards(len(run.snapshot(with_tokens=False).choices))
        stream_view.follow_cards(run, cards, st.empty())
        st.rerun()
    result = run.snapshot(with_tokens=False)
    if result.error is not None:
        alerts.error(result.error.describe())
    stream_view.show_finished(result)

recorded = view.recorded_runs()
if recorded:
    view.playback_picker(recorded)
view.leave_link()
