"""Images: every image parameter, a grid that fills in as requests land, per-image seeds,
downloads that carry their settings, PNG drop-in restore and X/Y sweeps."""
import streamlit as st

from lib.catalogue import IMAGES
from lib.ui import alerts, images_view as view, share, state
from lib.ui.model_picker import IMAGE_TYPES, model_picker
from lib.ui.presets_panel import presets_panel
from lib.ui.shell import page_shell
from lib.ui.text import shown
from lib.ui.widgets import param_widget
from lib.ui.form import param_form

PAGE = view.PAGE

conn = page_shell("images")
if conn is None:
    st.stop()

share.apply_link(PAGE, IMAGES)
state.page_values(PAGE, IMAGES)
invalid: set[str] = set()
settings, output = st.columns([2, 3], gap="large")

# ---------------------------------------------------------------- where results go
with output:
    go, stop = st.columns(2)
    generate = go.button("Generate images", key=f"{PAGE}:generate", type="primary",
                         icon=":material/auto_awesome:", width="stretch",
                         disabled=view.running())
    stop_slot = stop.empty()
    summary_slot, progress_slot, grid_slot = st.empty(), st.empty(), st.empty()

# ---------------------------------------------------------------- settings
with settings:
    with st.expander("Restore settings from a PNG"):
        view.png_restore()
    presets_panel(PAGE, "images")
    model_picker(PAGE, IMAGES, conn, IMAGE_TYPES)
    param_widget(PAGE, IMAGES, "prompt", errors=invalid, label="Prompt")
    param_widget(PAGE, IMAGES, "negative_prompt", errors=invalid)
    view.size_buttons()
    width, height = st.columns(2)
    with width:
        param_widget(PAGE, IMAGES, "width", errors=invalid)
    with height:
        param_widget(PAGE, IMAGES, "height", errors=invalid)
    for name in ("steps", "guidance_scale", "seed", "n"):
        param_widget(PAGE, IMAGES, name, errors=invalid)
    fmt, resp = st.columns(2)
    with fmt:
        param_widget(PAGE, IMAGES, "output_format", errors=invalid)
    with resp:
        param_widget(PAGE, IMAGES, "response_format", errors=invalid)
    param_widget(PAGE, IMAGES, "disable_safety_checker", errors=invalid)
    param_widget(PAGE, IMAGES, "image_url", errors=invalid)
    for name in view.STYLE_PARAMS:
        param_widget(PAGE, IMAGES, name, errors=invalid)
    form = param_form(PAGE, IMAGES, invalid=invalid, attempt=generate)
    body, problem = form.body, form.problem
    share.share_control(PAGE, state.page_values(PAGE, IMAGES),
                        st.session_state.get(state.pinned_key(PAGE), []), conn.api_key)
    with st.expander("Sweep (X/Y plot)", icon=":material/grid_on:"):
        view.sweep_section(body, problem, conn)

# ---------------------------------------------------------------- generate
with output:
    if body is not None:
        if summary := view.request_summary(body):
            summary_slot.caption(summary)
    elif form.attempted:
        summary_slot.caption(f"Not ready to send: {shown(problem)}")
    if generate:
        if body is None:
            alerts.error(f"Nothing was sent. {problem}", icon=":material/block:")
        else:
            view.start(*view.start_batch(body, conn), conn)
    job = view.current()
    if job is not None and job.running:  # a click elsewhere lands here: follow it again
        view.follow(job, stop_slot, progress_slot, grid_slot)
        st.rerun()  # draw the finished grid with its buttons and downloads
    view.results()
