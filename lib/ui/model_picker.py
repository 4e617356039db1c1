"""The live model list: fetched once per connection and cached; a failure is remembered
for a short while and said once per page, with a Retry button."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib import catalogue
from lib.api.errors import TogetherError
from lib.api.results import ModelInfo
from lib.catalogue import Endpoint
from lib.connection import Connection
from lib.text.context_check import context_warning, prompt_tokens_estimate
from lib.ui import alerts, state
from lib.ui.widgets import param_widget

TEXT_TYPES = ("language", "code", "chat")
IMAGE_TYPES = ("image",)
LIST_TTL = 300.0     # seconds a model list is reused for the same connection
FAILURE_TTL = 30.0   # seconds a failed listing is remembered instead of being tried again
_FAILURES = "model_picker:failures"  # session state: {connection: (monotonic time, words)}
_RETRY_KEY = "model_picker:retry"
# Keyed with a secret of this process: the cache key holds no key, and its fingerprint
# cannot be checked against a guessed key anywhere else.
_FINGERPRINT_SECRET = secrets.token_bytes(32)


@st.cache_data(ttl=LIST_TTL, show_spinner=False)
def _models(base_url: str, key_fingerprint: str, _conn: Connection) -> list[ModelInfo]:
    # ``_conn`` (and so the key) is left out of the cache key: only the fingerprint counts.
    return _conn.client().list_models()


def _connection_id(conn: Connection) -> tuple[str, str]:
    """(base URL, fingerprint of the key): what the list depends on, never the key itself."""
    fingerprint = hmac.new(_FINGERPRINT_SECRET, (conn.api_key or "").encode(),
                           hashlib.sha256).hexdigest()[:32]
    return conn.base_url, fingerprint


def _recent_failure(conn: Connection) -> str | None:
    """Why the connection's list could not be fetched, if that was under FAILURE_TTL ago."""
    failed = st.session_state.get(_FAILURES, {}).get(_connection_id(conn))
    if failed is None or time.monotonic() - failed[0] >= FAILURE_TTL:
        return None
    return failed[1]


def _fetch(conn: Connection) -> list[ModelInfo]:
    """The connection's models; [] while a failure is remembered (see ``models_notice``).

    The spinner sits in a slot of its own that is cleared afterwards, so it never lies
    over the widgets or the warning drawn next.
    """
    if _recent_failure(conn) is not None:
        return []
    slot = st.empty()
    try:
        with slot, st.spinner("Loading models…"):
            return _models(*_connection_id(conn), conn)
    except TogetherError as exc:
        failures = st.session_state.setdefault(_FAILURES, {})
        failures[_connection_id(conn)] = (time.monotonic(), exc.describe())
        return []
    finally:
        slot.empty()


def list_models(conn: Connection, types: tuple[str, ...] | None = None) -> list[ModelInfo]:
    """Models of the given types; [] when the list cannot be fetched (``models_notice``
    says why, once). OpenAI-compatible servers (llama.cpp, vLLM) name no type: their
    models pass every filter, as in ``Client.list_models``."""
    return [m for m in _fetch(conn) if types is None or not m.type or m.type in types]


def _retry(conn: Connection) -> None:
    st.session_state.get(_FAILURES, {}).pop(_connection_id(conn), None)


def _said_this_run() -> bool:
    """Whether this script run already drew the notice (its Retry button is registered):
    a page with several pickers says it once. Read from Streamlit's per-run widget keys;
    where they cannot be read, the notice is drawn."""
    ctx = get_script_run_ctx()
    keys = getattr(getattr(ctx, "shared", None), "widget_user_keys_this_run", None)
    return keys is not None and _RETRY_KEY in keys


def models_notice(conn: Connection) -> None:
    """The one warning, with Retry, for a model list that could not be fetched lately."""
    failure = _recent_failure(conn)
    if failure is None or _said_this_run():
        return
    alerts.warning(f"Could not list models: {failure} You can still type a model id.")
    st.button("Retry", key=_RETRY_KEY, on_click=_retry, args=(conn,),
              icon=":material/refresh:", help="Fetch the model list again now.")


def context_notice(conn: Connection, body: dict[str, Any]) -> None:
    """Warn before sending when prompt + Max tokens is over the listed context length."""
    warning = context_text(conn, body)
    if warning:
        alerts.warning(warning, icon=":material/warning:")


def context_text(conn: Connection, body: dict[str, Any]) -> str:
    """The words of ``context_notice`` ("" when the request fits or nothing is known)."""
    return context_warning(find_model(conn, str(body.get("model", ""))), body,
                           prompt_tokens_estimate(str(body.get("prompt", "")))) or ""


OTHER = "Other…"


def _default_model(conn: Connection, ids: list[str]) -> str:
    """First local model on the Local provider (the demo should work at once), else the first."""
    local = [i for i in ids if i.startswith("local/")]
    if conn.provider == "Local" and local:
        return local[0]
    return ids[0] if ids else ""


def model_label(model_id: str, display_name: str = "") -> str:
    """The dropdown's words for a model, most telling first, as a narrow box cuts the end:
    the id after its organisation ("FLUX.1-schnell-Free"), the display name when it says
    something the id does not, then the organisation."""
    org, _, name = model_id.rpartition("/")
    words = [name]
    if display_name and _squash(display_name) not in (_squash(name), _squash(model_id)):
        words.append(display_name)
    if org:
        words.append(org)
    return " · ".join(words)


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def model_picker(page: str, endpoint: Endpoint, conn: Connection,
                 types: tuple[str, ...] = TEXT_TYPES) -> Any:
    """A searchable model list plus "Other…" for a typed id; returns the checked id or None.

    The page's values dict holds the model id, so presets, history and share links restore
    it like any other parameter, even when the id is not in the list.
    """
    values = state.page_values(page, endpoint)
    models = list_models(conn, types)
    models_notice(conn)
    names = {m.id: m.display_name for m in models}
    ids = list(names)
    if not values.get("model"):
        values["model"] = _default_model(conn, ids)
    pick_key, other_key = f"{state.WIDGET_PREFIX}{page}.model.pick", f"{page}.model.other"
    typed = st.session_state.get(other_key) or values["model"] not in names
    state.refresh(pick_key, OTHER if typed else values["model"])

    def picked() -> None:
        st.session_state[other_key] = st.session_state[pick_key] == OTHER
        if st.session_state[pick_key] != OTHER:
            values["model"] = st.session_state[pick_key]

    choice = st.selectbox(
        "Model", ids + [OTHER], key=pick_key, on_change=picked,
        format_func=lambda i: i if i == OTHER else model_label(i, names.get(i, "")),
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
