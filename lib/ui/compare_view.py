"""Compare: one prompt, 2-4 columns, each its own model and parameters, streaming together.

Each column is a page of its own for ``lib.ui.state`` ("compare-col0", ...), so the
catalogue widgets, presets-style restore and share links work per column unchanged; the
shared prompt lives in the "compare" page's values. Every column runs its own
``StreamRun`` and is recorded in the history under the page "compare".
"""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

from lib.api.results import ModelInfo
from lib.catalogue import COMPLETIONS, COMPLETIONS_COMPACT, ValidationError
from lib.connection import Connection
from lib.page_registry import page
from lib.param_settings import ParamSettings, describe
from lib.text import record as completion_record
from lib.text.stream_run import StreamRun
from lib.ui import alerts, state, stream_view
from lib.ui.form import Form, param_form
from lib.ui.model_picker import find_model, model_picker
from lib.ui.text import shown
from lib.ui.widgets import param_widget

PAGE = "compare"
MIN_COLUMNS, MAX_COLUMNS = 2, 4
COLUMNS = f"{PAGE}:columns"
RUNS = f"{PAGE}:runs"        # one StreamRun (or None) per column; they outlive reruns
MODELS = f"{PAGE}:models"    # the listing entry of each column's model, for the cost
SOURCE_PAGE = page("completions").key  # the page new columns copy their settings from


def column_page(i: int) -> str:
    return f"{PAGE}-col{i}"


def column_count() -> int:
    return int(st.session_state.get(COLUMNS, 3))


def init_columns(conn: Connection) -> None:
    """Columns not yet set up start from the Completions page's current values; the
    first time, an empty prompt box takes Completions' prompt too (the caption promises
    what is there is carried over)."""
    if state.values_key(column_page(0)) not in st.session_state:
        values = state.page_values(PAGE, COMPLETIONS)
        source = state.page_values(SOURCE_PAGE, COMPLETIONS)
        if not values.get("prompt") and source.get("prompt"):
            values["prompt"] = source["prompt"]
    for i in range(MAX_COLUMNS):
        if state.values_key(column_page(i)) not in st.session_state:
            copy_from_completions(i)


def copy_from_completions(i: int) -> None:
    source = dict(st.session_state.get(state.values_key(SOURCE_PAGE)) or COMPLETIONS.defaults())
    state.restore(column_page(i), COMPLETIONS, source,
                  list(st.session_state.get(state.pinned_key(SOURCE_PAGE), [])))


def copy_all_from_completions() -> None:
    for i in range(MAX_COLUMNS):
        copy_from_completions(i)


def column_settings(i: int, conn: Connection, invalid: set[str], disabled: bool) -> None:
    """The column's header (its model in full, what differs from column 1), then its
    model and parameters in a popover: one short row, so every output starts high up."""
    page = column_page(i)
    head = st.container()  # filled below, once the picker has settled the model
    with st.popover("Model and parameters", icon=":material/tune:", width="stretch"):
        model_picker(page, COMPLETIONS, conn)
        for name in COMPLETIONS_COMPACT:
            param_widget(page, COMPLETIONS, name, errors=invalid, disabled=disabled)
    values, first = (state.page_values(column_page(k), COMPLETIONS) for k in (i, 0))
    with head:
        st.markdown(f"**{i + 1} · {shown(values.get('model') or 'no model')}**")
        st.caption(shown(differences_line(i, values, first)))


def differences(values: dict[str, Any], first: dict[str, Any]) -> list[str]:
    """The parameters set differently from column 1, as "Title value"."""
    return [f"{COMPLETIONS[name].title} {json.dumps(values.get(name))}"
            for name in COMPLETIONS_COMPACT if values.get(name) != first.get(name)]


def differences_line(i: int, values: dict[str, Any], first: dict[str, Any]) -> str:
    if i == 0:
        return "the reference for the other columns"
    changed = differences(values, first)
    return ("vs column 1: " + ", ".join(changed)) if changed else "same parameters as column 1"


def column_body(i: int, prompt: str) -> Form:
    """The streamed request of one column (n = 1: one card per column), or why not."""
    return param_form(column_page(i), COMPLETIONS,
                      overrides={"prompt": prompt, "n": 1, "stream": True, "echo": False})


def start(conn: Connection, bodies: list[dict[str, Any]]) -> None:
    runs, models = [], []
    for body in bodies:
        model = find_model(conn, body["model"])
        record = stream_view.record_completion(conn, PAGE, body, model)
        runs.append(StreamRun(conn.client, body, on_finish=record).start())
        models.append(model)
    st.session_state[RUNS], st.session_state[MODELS] = runs, models


def stop_all() -> None:
    for run in st.session_state.get(RUNS) or []:
        run.stop()


def any_running() -> bool:
    return any(run.running for run in st.session_state.get(RUNS) or [])


def follow_all(runs: list[StreamRun], cards: list[stream_view.ChoiceCard]) -> None:
    """Update every column's card at the stream view's frame rate until all runs end."""
    def frame(quiet: bool) -> float:
        for run, card in zip(runs, cards):
            view = run.snapshot(with_tokens=False)
            if view.choices:
                card.update(view.choices[0], view.running, stream_view.error_text(view))
        return stream_view.frame_interval(0, 0.0)

    stream_view.follow(runs, frame)


def metrics_line(run: StreamRun, model: ModelInfo | None) -> str:
    view = run.snapshot(with_tokens=False)
    cost = completion_record.estimated_cost(view, model)
    usage = view.usage
    tokens = usage.completion_tokens if usage else view.token_count
    parts = [f"TTFT {view.ttft * 1000:.0f} ms" if view.ttft else "TTFT —",
             f"{view.tokens_per_s:.0f} tok/s" if view.tokens_per_s else "— tok/s",
             f"{tokens} tokens", completion_record.money(cost) if cost is not None
             else "no price"]
    return " · ".join(parts)


def share_extra() -> dict[str, Any]:
    """Every column's settings (the prompt is shared and travels in the values)."""
    columns = []
    for i in range(column_count()):
        page = column_page(i)
        values = {k: v for k, v in state.page_values(page, COMPLETIONS).items()
                  if k != "prompt"}
        columns.append({"values": values,
                        "pinned": list(st.session_state.get(state.pinned_key(page), []))})
    return {"columns": columns}


def apply_extra(extra: dict[str, Any] | None) -> None:
    """Columns from a link; a column that does not check out is left as it was."""
    columns = (extra or {}).get("columns")
    if not isinstance(columns, list) or not MIN_COLUMNS <= len(columns) <= MAX_COLUMNS:
        return
    for i, column in enumerate(columns):
        values = column.get("values", {}) if isinstance(column, dict) else None
        if not isinstance(values, dict):
            alerts.error(f"Column {i + 1} of the link holds no settings object; it was not "
                         "changed.")
            continue
        try:
            settings = ParamSettings(COMPLETIONS, values, column.get("pinned", [])).parse()
        except ValidationError as exc:
            alerts.error(f"Column {i + 1} of the link holds invalid settings "
                         f"({describe(exc.errors)}); it was not changed.")
            continue
        state.restore(column_page(i), COMPLETIONS, settings.values, list(settings.pinned))
    st.session_state[COLUMNS] = len(columns)
