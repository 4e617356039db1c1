"""Presenter mode: for demos. Large type; no sidebar, key or knobs; presets as scenes."""
import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.text import StreamRun
from lib.ui import alerts, completions_view, presenter_view as view, stream_view
from lib.ui.form import param_form
from lib.ui.model_picker import find_model
from lib.ui.sidebar import current_connection
from lib.ui.text import shown

PAGE = view.PAGE
RUN = f"{PAGE}:run"

st.set_page_config(page_title="Presenter · Together Playground", page_icon=":material/slideshow:",
                   layout="wide", initial_sidebar_state="collapsed")
view.hide_chrome()
conn = current_connection()
if conn is None:
    alerts.error("The connection is not set up: choose a provider on another page first.")
    st.stop()
view.init_values(conn)

scenes = view.scenes()
if scenes:
    index = st.session_state.get(view.SCENE, 0) % len(scenes)
    prev, title, nxt = st.columns([1, 6, 1])
    prev.button("◀ Previous", key="presenter-prev", on_click=view.step, args=(-1, len(scenes)),
                width="stretch")
    nxt.button("Next ▶", key="presenter-next", on_click=view.step, args=(1, len(scenes)),
               width="stretch")
    title.markdown(f"**Scene {index + 1} of {len(scenes)}: {shown(scenes[index].name)}**"
                   + (f" — {shown(scenes[index].description)}" if scenes[index].description
                      else ""))

form = param_form(PAGE, COMPLETIONS, ["prompt"], label="Prompt", height=160)
run = st.session_state.get(RUN)
running = run is not None and run.running
if running:
    st.button("Stop", key="presenter-stop", type="primary", on_click=run.stop)
elif st.button("Generate", key="presenter-generate", type="primary"):
    body = form.body
    if body is None:
        alerts.error(form.problem)
    else:
        record = completions_view.history_recorder(conn, body, find_model(conn, body["model"]))
        run = StreamRun(conn.client, body, on_finish=record).start()
        st.session_state[RUN], running = run, True

playback = st.session_state.pop(f"{PAGE}:playback", None)
if playback is not None:
    view.play_back(playback)
elif run is not None:
    if running:
        cards = stream_view.draw_cards(len(run.snapshot(with_tokens=False).choices))
        stream_view.follow(run, cards, st.empty())
        st.rerun()
    result = run.snapshot(with_tokens=False)
    if result.error is not None:
        alerts.error(result.error.describe())
    stream_view.show_finished(result)

recorded = view.recorded_runs()
if recorded:
    with st.expander("Network or quota trouble? Play back a recorded run"):
        by_id = {r.id: r for r in recorded}
        pick = st.selectbox("Recorded run", list(by_id), key=f"{PAGE}:recorded",
                            format_func=lambda i: f"#{i} · {by_id[i].model} · {by_id[i].title}")
        if st.button("Play back at recorded pace", key="presenter-playback"):
            st.session_state[f"{PAGE}:playback"] = pick
            st.rerun()

st.markdown("[Leave presenter mode](Completions)")  # a plain link: the sidebar is hidden
