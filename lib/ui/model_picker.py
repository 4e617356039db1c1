"""The live model list, cached for a few minutes per connection."""
from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from lib import catalogue
from lib.api.errors import TogetherError
from lib.api.results import ModelInfo
from lib.catalogue import Endpoint
from lib.connection import Connection
from lib.ui import alerts, state
from lib.ui.widgets import param_widget

TEXT_TYPES = ("language", "code", "chat")
IMAGE_TYPES = ("image",)


@st.cache_data(ttl=300, show_spinner="Loading models…")
def _models(base_url: str, key_fingerprint: str, _conn: Connection) -> list[ModelInfo]:
    # The key itself is kept out of the cache key: only a fingerprint is hashed.
    return _conn.client().list_models()


def list_models(conn: Connection, types: tuple[str, ...] | None = None) -> list[ModelInfo]:
    """Models of the given types; an error is shown in place and an empty list returned."""
    fingerprint = hashlib.sha256((conn.api_key or "").encode()).hexdigest()[:16]
    try:
        models = _models(conn.base_url, fingerprint, conn)
    except TogetherError as exc:
        alerts.warning(f"Could not list models: {exc.describe()} You can still type a model id.")
        return []
    return [m for m in models if types is None or m.type in types]


OTHER = "Other…"


def _default_model(conn: Connection, ids: list[str]) -> str:
    """First local model on the Local provider (the demo should work at once), else the first."""
    local = [i for i in ids if i.startswith("local/")]
    if conn.provider == "Local" and local:
        return local[0]
    return ids[0] if ids else ""


def model_picker(page: str, endpoint: Endpoint, conn: Connection,
                 types: tuple[str, ...] = TEXT_TYPES) -> Any:
    """A searchable model list plus "Other…" for a typed id; returns the checked id or None.

    The page's values dict holds the model id, so presets, history and share links restore
    it like any other parameter, even when the id is not in the list.
    """
    values = state.page_values(page, endpoint)
    models = list_models(conn, types)
    names = {m.id: m.display_name for m in models}
    ids = list(names)
    if not values.get("model"):
        values["model"] = _default_model(conn, ids)
    pick_key, other_key = f"{state.WIDGET_PREFIX}{page}.model.pick", f"{page}.model.other"
    typed = st.session_state.get(other_key) or values["model"] not in names
    st.session_state[pick_key] = OTHER if typed else values["model"]

    def picked() -> None:
        st.session_state[other_key] = st.session_state[pick_key] == OTHER
        if st.session_state[pick_key] != OTHER:
            values["model"] = st.session_state[pick_key]

    choice = st.selectbox(
        "Model", ids + [OTHER], key=pick_key, on_change=picked,
        format_func=lambda i: i if i == OTHER or not names.get(i) else f"{names[i]} · {i}",
        help=f"{endpoint['model'].help} Type to search; pick {OTHER} for an id not listed.")
    if choice == OTHER:
        return param_widget(page, endpoint, "model", label="Model id")
    try:
        return catalogue.check(endpoint["model"], values["model"])
    except ValueError as exc:
        alerts.error(str(exc), icon=":material/error:")
        return None


def find_model(conn: Connection, model_id: str) -> ModelInfo | None:
    """The listing entry for a model (for its price), if the list has it."""
    return next((m for m in list_models(conn) if m.id == model_id), None)
