"""The Images page's pieces: size controls, the grid that fills in, tiles, downloads, sweeps.

Drawing rules that keep the page fast (see bench/images_grid.py):
- the grid is tiles of small JPEGs made once when each image arrives, so st.image passes
  bytes through instead of encoding a full-size PIL image on every draw;
- every download is a callable, run only when clicked, through one EncodeCache, so
  nothing is encoded until asked for and a rerun re-encodes nothing;
- the finished results are a fragment: enlarging, downloading or paging through them
  reruns that fragment only, never the whole form.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import streamlit as st

from lib.api.image_decode import decode_image
from lib.catalogue import IMAGES, SEED_MAX
from lib.connection import Connection
from lib.images.archive import zip_name
from lib.images.batch import PlannedRequest, cap_for, plan_batch
from lib.images.encode_cache import EncodeCache
from lib.images.grid import display_copy
from lib.images.png_settings import ImageSettingsError, read_png_settings
from lib.images.run import (BATCH, FAILED, RUNNING, STOPPED, SWEEP, ImageBatchRun, ImageRun,
                            cached, grid_png, image_png, zip_bytes)
from lib.images.sweep import (AXES, CONFIRM_ABOVE, SEED, PlotLayout, SweepError, describe_plan,
                              layout_of, plan_from_text, sweep_plot)
from lib.images.store import ImageStore
from lib.param_settings import ParamSettings
from lib.ui import account, alerts, state, stream_view
from lib.ui.text import shown

PAGE = "images"
RUN = f"{PAGE}:run"
RESTORE_NOTE = f"{PAGE}:restore_note"
UPLOAD = f"{PAGE}:upload"
TILES_PER_ROW = 4
STYLE_PARAMS = ("image_loras", "reference_images")  # list parameters, drawn as rows
STORE_MAX_BYTES = 2 * 2**30
# (label, width : height) for the aspect buttons; the longer side is kept.
ASPECTS = (("1:1", 1, 1), ("4:3", 4, 3), ("3:4", 3, 4), ("3:2", 3, 2), ("2:3", 2, 3),
           ("16:9", 16, 9), ("9:16", 9, 16))


@st.cache_resource
def encode_cache() -> EncodeCache:
    """One per server process: keys carry the run's random id, so sessions never collide."""
    return EncodeCache(max_bytes=256 * 2**20, max_items=64)


# ---------------------------------------------------------------- size

def aspect_size(width: int, height: int, w_ratio: int, h_ratio: int) -> tuple[int, int]:
    """The size with this aspect whose longer side is the current longer side (multiples
    of 8, within the catalogue's range)."""
    side = max(width, height)
    lo, hi = int(IMAGES["width"].minimum), int(IMAGES["width"].maximum)

    def fit(x: float) -> int:
        return min(hi, max(lo, int(round(x / 8)) * 8))

    if w_ratio >= h_ratio:
        return fit(side), fit(side * h_ratio / w_ratio)
    return fit(side * w_ratio / h_ratio), fit(side)


def _set_aspect(w_ratio: int, h_ratio: int) -> None:
    values = state.page_values(PAGE, IMAGES)
    values["width"], values["height"] = aspect_size(int(values["width"]),
                                                    int(values["height"]), w_ratio, h_ratio)


def _swap() -> None:
    values = state.page_values(PAGE, IMAGES)
    values["width"], values["height"] = values["height"], values["width"]


def size_buttons() -> None:
    """Aspect presets and a swap, all as callbacks so the size fields redraw at once."""
    with st.container(horizontal=True, gap="small"):
        for label, w, h in ASPECTS:
            st.button(label, key=f"{PAGE}:aspect:{label}", on_click=_set_aspect, args=(w, h),
                      help=f"Width : height = {label}, keeping the longer side.")
        st.button("Swap", key=f"{PAGE}:swap", icon=":material/swap_horiz:", on_click=_swap,
                  help="Swap width and height.")


# ---------------------------------------------------------------- restore from a PNG

def _restore_from_png() -> None:
    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    try:
        restored = read_png_settings(upload.getvalue())
    except ImageSettingsError as exc:
        st.session_state[RESTORE_NOTE] = ("error", f"{upload.name}: {exc}")
        return
    state.restore(PAGE, IMAGES, restored.values)
    note = f"Restored {', '.join(restored.values)} from {upload.name}."
    if restored.dropped:
        note += " Left out: " + "; ".join(f"{k} ({why})" for k, why in restored.dropped.items())
    st.session_state[RESTORE_NOTE] = ("success", note)


def png_restore() -> None:
    """Drop a PNG made here (or by A1111) to put its settings back into the widgets."""
    st.file_uploader("Restore settings from a PNG", type=["png"], key=UPLOAD,
                     on_change=_restore_from_png,
                     help="A PNG downloaded from this page (or with A1111-style "
                          "parameters) puts its prompt, size, seed and model back.")
    kind, text = st.session_state.get(RESTORE_NOTE, (None, ""))
    if kind == "error":
        alerts.error(text, icon=":material/error:")
    elif kind:
        alerts.success(text, icon=":material/settings_backup_restore:")


# ---------------------------------------------------------------- the request

def batch_plans(body: dict[str, Any]) -> list[PlannedRequest]:
    return plan_batch(body, cap_for(body["model"]))


def request_summary(body: dict[str, Any]) -> str | None:
    """What Generate will do, said before it is pressed; None while a sweep is shown, whose
    results this line (one image of the base size) would seem to describe."""
    job = current()
    if job is not None and job.snapshot().kind == SWEEP:
        return None
    settings = ParamSettings(IMAGES, body)
    n, cap = int(settings.effective("n")), cap_for(body["model"])
    requests = -(-n // cap)
    return (f"{n} image{'s' if n != 1 else ''} of {settings.effective('width')}×"
            f"{settings.effective('height')} from {shown(body['model'])} in {requests} "
            f"request{'s' if requests != 1 else ''}"
            + (f" (at most {cap} images each)." if requests > 1 else "."))


# ---------------------------------------------------------------- running

def _client_call(conn: Connection) -> Callable[[dict], Any]:
    """A fresh client per request: requests run in several threads at once."""
    def generate(body: dict) -> Any:
        with conn.client() as client:
            return client.generate_images(body)
    return generate


def current() -> ImageBatchRun | None:
    """The page's last batch or sweep, running or not; it outlives reruns and page changes."""
    return st.session_state.get(RUN)


def running() -> bool:
    job = current()
    return job is not None and job.running


def start(run: ImageRun, plans: list[PlannedRequest], conn: Connection) -> ImageBatchRun:
    """Send the run's requests on a worker thread, recorded in the history from the start.

    The page only follows it (``follow``): a click elsewhere reruns the page, which finds
    the run here and follows it again, so only Stop ends it.
    """
    store = account.image_store()
    store.prune(STORE_MAX_BYTES)
    record = stream_view.record_run(conn, PAGE, run.request, ImageBatchRun.finished,
                                    metrics=run.start_metrics())
    job = ImageBatchRun(run, plans, _client_call(conn), store, on_finish=record).start()
    st.session_state[RUN] = job
    return job


def follow(job: ImageBatchRun, stop_slot, progress_slot, grid_slot) -> None:
    """Stop, the progress line and the grid filling in, until the run ends."""
    stop_slot.button("Stop", key=f"{PAGE}:stop", icon=":material/stop_circle:",
                     width="stretch", on_click=job.stop,
                     help="Send no further requests; keep what arrived.")
    store = account.image_store()
    drawn: list[tuple[int, int] | None] = [None]

    def frame(quiet: bool) -> float:
        run = job.snapshot()
        arrived = (len(run.images), len(run.failures))
        if arrived != drawn[0]:
            with grid_slot.container():
                draw_results(run, store, interactive=False)
            drawn[0] = arrived
        done = len(run.images) + sum(len(f.positions) for f in run.failures)
        progress_slot.progress(done / max(1, run.total),
                               text=f"{len(run.images)} of {run.total} images · "
                                    f"{job.elapsed:.1f} s")
        return stream_view.frame_interval(0, 0.0)

    stream_view.follow([job], frame)


def start_batch(body: dict[str, Any], conn: Connection) -> tuple[ImageRun, list]:
    plans = batch_plans(body)
    # The batch seed drawn for "random" is part of what was asked: history and the
    # manifest can then make the whole batch again.
    asked = dict(body, seed=plans[0].body["seed"])
    run = ImageRun.from_plans(BATCH, asked, plans, provider=conn.provider,
                              base_url=conn.base_url)
    return run, plans


# ---------------------------------------------------------------- drawing results

def _thumb(store: ImageStore, key: str) -> bytes | None:
    try:
        return store.get(key)
    except KeyError:
        return None


def draw_results(run: ImageRun, store: ImageStore, interactive: bool) -> None:
    """The grid (or a sweep's plot) with each image's seed; buttons only when finished."""
    if run.kind == SWEEP and run.status != RUNNING:
        _draw_plot(run, store)  # while running, cells not yet arrived would read "failed"
    per_row = tiles_per_row(run.total)
    failed = {p: f for f in run.failures for p in f.positions}
    for row_start in range(0, run.total, per_row):
        cols = st.columns(per_row)
        for p in range(row_start, min(run.total, row_start + per_row)):
            with cols[p - row_start]:
                _tile(run, p, store, failed.get(p), interactive)


def tiles_per_row(count: int) -> int:
    """Two across up to 4 images, three up to 9, then four: tiles stay big enough to judge
    and their buttons fit on one line."""
    return 2 if count <= 4 else 3 if count <= 9 else TILES_PER_ROW


def _tile(run: ImageRun, position: int, store: ImageStore, failure, interactive: bool) -> None:
    image = run.images.get(position)
    if image is None:
        if failure is not None:
            alerts.error(f"Image {position + 1} failed.", icon=":material/broken_image:")
        elif run.status == RUNNING:
            st.info(f"Image {position + 1}: waiting…", icon=":material/hourglass_top:")
        else:
            st.caption(f"Image {position + 1}: not received (stopped).")
        return
    thumb = _thumb(store, image.thumb_key)
    seed = "random" if image.seed is None else image.seed
    caption = f"#{position + 1} · " + (f"{cell_values(run.layout, position)} · "
                                        if run.layout else "") + f"seed {shown(seed)}"
    if thumb is None:
        st.caption(f"{caption} — no longer on disk.")
        return
    st.image(thumb, caption=caption, width="stretch")
    if interactive:
        _tile_actions(run, position, store)


def cell_values(layout: PlotLayout, position: int) -> str:
    """A sweep tile's axis values, as the plot's edges name them: "Steps 8 · Seed 2"."""
    row, col = divmod(position, layout.cols)
    text = f"{layout.title_x} {layout.col_labels[col]}"
    if layout.title_y:
        text += f" · {layout.title_y} {layout.row_labels[row]}"
    return shown(text)


def _reuse_seed(seed: int) -> None:
    state.page_values(PAGE, IMAGES)["seed"] = seed


def _use_image(url: str) -> None:
    state.page_values(PAGE, IMAGES)["image_url"] = url


def _tile_actions(run: ImageRun, position: int, store: ImageStore) -> None:
    image = run.images[position]
    key = f"{PAGE}:{run.id}:{position}"
    with st.container(horizontal=True, gap="small"):
        if image.seed is not None and 0 <= image.seed <= SEED_MAX:
            if st.button("Reuse seed", key=f"{key}:seed", type="tertiary",
                         icon=":material/replay:", help=f"Set the seed to {image.seed}"):
                _reuse_seed(image.seed)
                st.rerun()  # leave the fragment: the seed field is outside it
        if st.button("Enlarge", key=f"{key}:big", type="tertiary", icon=":material/zoom_in:"):
            enlarge(run, position)
        st.download_button(
            "PNG", data=lambda: cached(encode_cache(), run, ("png", position),
                                       lambda: image_png(run, position, store)),
            file_name=zip_name(position + 1, image.seed), mime="image/png",
            key=f"{key}:png", on_click="ignore", icon=":material/download:", type="tertiary",
            help="This image as a PNG with its settings embedded (prompt, seed, size…).")
        if image.url:
            if st.button("Use image", key=f"{key}:url", type="tertiary", icon=":material/input:",
                         help="Put this image's URL into Image URL, as a starting image."):
                _use_image(image.url)
                st.rerun()


@st.dialog("Image", width="large")
def enlarge(run: ImageRun, position: int) -> None:
    image = run.images[position]
    store = account.image_store()
    try:
        data = store.get(image.key)
    except KeyError:
        alerts.error("This image is no longer on disk.")
        return
    st.image(display_copy(decode_image(data)), width="stretch",
             caption=f"#{position + 1} · seed {shown(image.seed)} · "
                     f"{image.width}×{image.height}")
    st.json(image.settings, expanded=False)


def _draw_plot(run: ImageRun, store: ImageStore) -> None:
    """The sweep's labelled plot from the small copies, sized for the screen."""
    thumbs: dict[int, Any] = {p: None for p in range(run.total) if p not in run.images}
    for p, image in run.images.items():
        data = _thumb(store, image.thumb_key)
        thumbs[p] = decode_image(data) if data else None
    if not thumbs or run.layout is None:
        return
    plot = sweep_plot(run.layout, thumbs, tile_max=256)
    st.image(display_copy(plot), caption=f"X/Y plot: {run.layout.title_x}"
             + (f" × {run.layout.title_y}" if run.layout.title_y else ""), width="content")


@st.fragment
def results() -> None:
    """The last run, once it has ended: its summary, errors, downloads and grid; a
    fragment of its own."""
    job = current()
    if job is None or job.running:
        return
    run = job.snapshot()
    store = account.image_store()
    (st.warning if run.status in (STOPPED, FAILED) or run.failures else st.caption)(
        run.summary())
    for failure in run.failures:
        where = ", ".join(str(p + 1) for p in failure.positions)
        alerts.error(f"Image{'s' if len(failure.positions) > 1 else ''} {where}: "
                 f"{failure.message}", icon=":material/error:")
    if run.images:
        grid_name = "xy_plot.png" if run.kind == SWEEP else "grid.png"
        with st.container(horizontal=True, gap="small"):
            st.download_button(
                "Download grid (PNG)", key=f"{PAGE}:{run.id}:grid", file_name=grid_name,
                data=lambda: cached(encode_cache(), run, "grid", lambda: grid_png(run, store)),
                mime="image/png", on_click="ignore", icon=":material/grid_view:")
            st.download_button(
                "Download all (ZIP)", key=f"{PAGE}:{run.id}:zip",
                file_name=f"images_{time.strftime('%Y%m%d_%H%M%S', time.localtime(run.started))}.zip",
                data=lambda: cached(encode_cache(), run, "zip",
                                    lambda: zip_bytes(run, store, encode_cache())),
                mime="application/zip", on_click="ignore", icon=":material/folder_zip:",
                help="Every image as a PNG with its settings, the grid, and manifest.json "
                     "with the exact requests.")
    draw_results(run, store, interactive=True)


# ---------------------------------------------------------------- sweep

SWEEP_X, SWEEP_X_VALUES = f"{PAGE}:sweep_x", f"{PAGE}:sweep_x_values"
SWEEP_Y, SWEEP_Y_VALUES = f"{PAGE}:sweep_y", f"{PAGE}:sweep_y_values"
SWEEP_CONFIRM = f"{PAGE}:sweep_confirm"
NO_AXIS = ""


def _axis_fields(label: str, kind_key: str, values_key: str, default: str,
                 optional: bool) -> tuple[str, str]:
    options = ([NO_AXIS] if optional else []) + list(AXES)
    kind = st.selectbox(label, options, key=state.persistent(kind_key, default),
                        on_change=state.sync, args=(kind_key,),
                        format_func=lambda k: "none" if k == NO_AXIS else AXES[k].label)
    if kind == NO_AXIS:
        return NO_AXIS, ""
    text = st.text_area(f"{label} values", key=state.persistent(values_key, ""),
                        on_change=state.sync, args=(values_key,), height=68,
                        help=AXES[kind].help, placeholder=AXES[kind].help)
    return kind, text


def sweep_section(body: dict[str, Any] | None, problem: str, conn: Connection) -> None:
    """Pick one or two axes, see how many requests that is, confirm a big one, run it."""
    left, right = st.columns(2)
    with left:
        x_kind, x_text = _axis_fields("X axis", SWEEP_X, SWEEP_X_VALUES, "seed", False)
    with right:
        y_kind, y_text = _axis_fields("Y axis", SWEEP_Y, SWEEP_Y_VALUES, NO_AXIS, True)
    if body is None:
        st.caption(f"Not ready: {shown(problem)}")
        return
    if not x_text.strip():
        st.caption("Enter the X axis values to see how many requests the sweep needs.")
        return
    try:
        plan = plan_from_text(body, x_kind, x_text, y_kind, y_text)
    except SweepError as exc:
        alerts.error(str(exc), icon=":material/error:")
        return
    seed_swept = SEED in (x_kind, y_kind)
    st.markdown(f"**{describe_plan(plan)}**, one image each; everything else as set above"
                + ("" if seed_swept or body.get("seed") is not None
                   else ", with one random seed for all") + ".")
    confirmed = True
    if plan.needs_confirm:
        confirmed = st.checkbox(f"Yes, send {plan.request_count} requests "
                                f"(more than {CONFIRM_ABOVE})", key=SWEEP_CONFIRM)
    if st.button("Run sweep", key=f"{PAGE}:sweep_go", icon=":material/grid_on:",
                 disabled=not confirmed or running()):
        plans = plan.requests()
        start(ImageRun.from_plans(SWEEP, body, plans, provider=conn.provider,
                                  base_url=conn.base_url, layout=layout_of(plan)), plans, conn)
