"""Presenter mode: large type, no sidebar and no key, presets as scenes, recorded playback.

The page never draws the connection sidebar (the key field does not exist on it, not
merely hidden); it uses the connection the other pages last chose. A playback of a
recorded run is labelled as such on screen the whole time it plays.

Keys, for a speaker with a clicker: PageDown/PageUp step through the scenes (clickers send
those), Esc stops a streaming scene. These are st.button shortcuts, no script of our own.
"""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from lib.catalogue import COMPLETIONS
from lib.page_registry import page
from lib.param_settings import ParamSettings
from lib.saved import history
from lib.saved.presets import Preset, PresetError
from lib.text import StreamRun, replay
from lib.ui import account, alerts, state, stream_view
from lib.ui.model_picker import TEXT_TYPES, list_models
from lib.ui.text import shown

PAGE = page("presenter").key
SOURCE_PAGE = page("completions").key  # where first settings and recorded runs come from
SCENE = f"{PAGE}:scene"
GENERATE = "presenter-generate"
PLAYBACK = f"{PAGE}:playback"
NEXT_KEY, PREVIOUS_KEY, STOP_KEY = "PageDown", "PageUp", "Esc"
MAX_PLAYBACK_GAP_S = 1.0
CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stSidebarNav"], header[data-testid="stHeader"] {display:none !important}
.stApp, .stApp p, .stApp textarea, .stApp button {font-size:1.45rem !important}
.stApp h1 {font-size:3rem !important}
.ct {font-size:1.6rem !important; line-height:1.7 !important}
</style>"""


def hide_chrome() -> None:
    st.html(CSS)


def scenes() -> list[Preset]:
    try:
        return account.preset_store().list("completions")
    except PresetError as exc:
        alerts.warning(str(exc))
        return []


def init_values(conn) -> None:
    """First visit: start from the Completions page's settings, with a model that exists."""
    if state.values_key(PAGE) not in st.session_state:
        source = st.session_state.get(state.values_key(SOURCE_PAGE)) or {}
        state.restore(PAGE, COMPLETIONS, source)
        first = scenes()[:1]
        if first:  # the title says "Scene 1": its settings must be the ones in force
            apply_scene(first[0])
    values = state.page_values(PAGE, COMPLETIONS)
    if not values.get("model"):
        models = list_models(conn, TEXT_TYPES)
        local = [m.id for m in models if m.id.startswith("local/")]
        values["model"] = (local or [m.id for m in models] or [""])[0]


def step(delta: int, count: int) -> None:
    st.session_state[SCENE] = (st.session_state.get(SCENE, 0) + delta) % max(count, 1)
    apply_scene(scenes()[st.session_state[SCENE]])


def apply_scene(preset: Preset) -> None:
    values = state.page_values(PAGE, COMPLETIONS)
    state.restore(PAGE, COMPLETIONS, preset.apply_to(values), preset.pinned)


def generate_pressed() -> bool:
    """Whether Generate was clicked, read before the button is drawn (so Stop can be)."""
    return stream_view.pressed(GENERATE)


def action_button(run: StreamRun | None, running: bool) -> None:
    """Generate, or Stop (also Esc) while a scene streams: one button in one place."""
    stream_view.action_button(GENERATE, "Generate", run.stop if running else None, running,
                              shortcut=STOP_KEY)


def recorded_runs() -> list[history.Run]:
    """Finished runs that can be played back: streamed, with at least one token recorded."""
    try:
        return [r for r in account.history_store().list(page=SOURCE_PAGE, limit=20)
                if r.status == history.OK and _has_stream(r)]
    except history.HistoryError:
        return []


def _has_stream(run: history.Run) -> bool:
    # ``list`` leaves events out (they can be long); a streamed run with tokens has them.
    return bool(run.metrics.get("streamed")) and any(o.get("tokens") for o in run.outputs)


def playback_picker(recorded: list[history.Run]) -> None:
    """The fallback for a failing network: pick a recorded run, play it under its prompt."""
    with st.expander("Network or quota trouble? Play back a recorded run"):
        by_id = {r.id: r for r in recorded}
        # Keyed by the newest run: after a new run the picker starts on it again, instead
        # of keeping a choice made before that run existed.
        pick = st.selectbox("Recorded run", list(by_id),
                            key=f"{PAGE}:recorded:{recorded[0].id}",
                            format_func=lambda i: f"#{i} · {by_id[i].model} · {by_id[i].title}")
        st.button("Play back at recorded pace", key="presenter-playback",
                  on_click=_choose_playback, args=(by_id.get(pick),))


def title_line(scenes: list[Preset], index: int) -> str:
    """The line over the prompt: the scene's, or during a playback the playback's own (the
    box then holds the recorded run's prompt, not the scene's)."""
    playback = st.session_state.get(PLAYBACK)
    if playback is not None:
        return f"**Playback of recorded run #{shown(playback)}** — not a live request"
    scene = scenes[index]
    return (f"**Scene {index + 1} of {len(scenes)}: {shown(scene.name)}**"
            + (f" — {shown(scene.description)}" if scene.description else ""))


def _choose_playback(run: history.Run | None) -> None:
    """Before the page draws: the prompt box shows the recorded prompt, not today's."""
    if run is None:
        return
    values = state.page_values(PAGE, COMPLETIONS)
    state.restore(PAGE, COMPLETIONS, {**values, "prompt": str(run.request.get("prompt", ""))},
                  st.session_state.get(state.pinned_key(PAGE), []))
    st.session_state[PLAYBACK] = run.id


def leave_link() -> None:
    """Back to Completions in this tab (a Markdown link opened a new one)."""
    try:
        st.page_link(page(SOURCE_PAGE).file, label="Leave presenter mode",
                     icon=":material/logout:")
    except StreamlitPageNotFoundError:  # the page run alone (AppTest): nowhere to go
        return


def play_back(run_id: int) -> None:
    """A recorded run at its recorded pace (long pauses shortened), marked as a replay."""
    try:
        run = account.history_store().get(run_id)
    except history.HistoryError as exc:
        alerts.error(str(exc))
        return
    if run is None or not run.events:
        alerts.warning("That run has no recorded stream to play back.")
        return
    st.info(f"Replay of recorded run #{run.id} ({shown(run.model)}) — not a live request.",
            icon=":material/replay:")
    n = max(int(ParamSettings(COMPLETIONS, run.request).effective("n")),
            1 + max(e[1] for e in run.events))
    cards = stream_view.draw_cards(n, prefix="replay-")
    texts = [""] * n
    for _, index, text in replay.paced_events(run.events, max_gap=MAX_PLAYBACK_GAP_S):
        texts[index] += text
        cards[index].tail.html(stream_view.text_html(texts[index]))
    for card, out in zip(cards, sorted(run.outputs, key=lambda o: o.get("index", 0))):
        card.header.markdown(f"Choice {shown(out.get('index'))} · "
                             f"**{shown(out.get('finish_reason'))}** · replay")
