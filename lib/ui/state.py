"""Session state that survives page switches.

Streamlit deletes a widget's state when a page runs without that widget, so every value
the user sets lives under a plain key, and the widget is bound to it: its own key is
refreshed from the plain key before it is drawn, and copied back when it changes.
Restoring a preset, a share link or a history run therefore only writes plain keys.

Key naming: ``"{page}.…"`` belongs to the page's parameters (``restore`` resets them all);
anything else a page keeps (its last run, its view options) goes under ``"{page}:…"``.
"""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib.catalogue import Endpoint

WIDGET_PREFIX = "w:"


def persistent(key: str, default: Any) -> str:
    """Make ``key`` a plain state key (initialised to ``default``); return its widget key."""
    state = st.session_state
    if key not in state:
        state[key] = default
    widget_key = WIDGET_PREFIX + key
    refresh(widget_key, state[key])
    return widget_key


def refresh(widget_key: str, value: Any) -> None:
    """Give a widget ``value`` unless the browser already shows it. Any write marks the
    widget as set by code, and the browser then re-applies its value on that rerun:
    writing every widget on every rerun made a slider touch cost twice a plain page's
    (issue 14). A widget the browser did not send (absent from the last run: Custom before
    its base URL is typed) is always written, or it would come back at its empty default."""
    state = st.session_state
    if not _browser_holds(widget_key) or state[widget_key] != value:
        state[widget_key] = value


def _browser_holds(widget_key: str) -> bool:
    """Whether the browser sent this widget's value for this run (it was on screen in the
    last one). Read from Streamlit's session state; False where it cannot be read, so the
    value is then written as before."""
    ctx = get_script_run_ctx()
    inner = getattr(getattr(ctx, "session_state", None), "_state", None)
    ids = getattr(getattr(inner, "_key_id_mapper", None), "_key_id_mapping", None)
    sent = getattr(getattr(inner, "_new_widget_state", None), "states", None)
    if not isinstance(ids, dict) or not isinstance(sent, dict):
        return False
    return ids.get(widget_key) in sent


def fragment_run() -> bool:
    """Whether this run reruns fragments only, so the rest of the page is not drawn.
    Read from Streamlit's run context; False where it cannot be read."""
    return bool(getattr(get_script_run_ctx(), "fragment_ids_this_run", None))


def sync(key: str) -> None:
    """on_change callback: copy the widget's value back to the plain key."""
    st.session_state[key] = st.session_state[WIDGET_PREFIX + key]


def values_key(page: str) -> str:
    return f"{page}.values"


def page_values(page: str, endpoint: Endpoint) -> dict[str, Any]:
    """The page's parameter values, one plain dict, initialised from the catalogue."""
    key = values_key(page)
    if key not in st.session_state:
        st.session_state[key] = endpoint.defaults()
    return st.session_state[key]


def bind_param(page: str, endpoint: Endpoint, name: str) -> str:
    """Widget key for one parameter, refreshed from the page's values dict before drawing."""
    values = page_values(page, endpoint)
    if name not in values:
        values[name] = endpoint[name].fresh_default()
    widget_key = f"{WIDGET_PREFIX}{page}.{name}.{version(page)}"
    refresh(widget_key, values[name])
    return widget_key


def store_param(page: str, endpoint: Endpoint, name: str, widget_key: str) -> None:
    """on_change callback: the widget's new value goes into the page's values dict."""
    page_values(page, endpoint)[name] = st.session_state[widget_key]


def restore(page: str, endpoint: Endpoint, values: Mapping[str, Any],
            pinned: list[str] | None = None) -> None:
    """Put a whole set of values back (preset, share link, history); widgets follow."""
    fresh = endpoint.defaults()
    fresh.update({k: v for k, v in values.items() if k in endpoint.names})
    # Editor-local keys (seed mode, seed text) describe the old values: drop them.
    stale = [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{page}.")
             and k not in (values_key(page), pinned_key(page), f"{page}.version")]
    for k in stale:
        del st.session_state[k]
    st.session_state[values_key(page)] = fresh
    st.session_state[pinned_key(page)] = list(pinned or [])
    # Table-like widgets keep edits relative to their input; a new version starts clean.
    st.session_state[f"{page}.version"] = st.session_state.get(f"{page}.version", 0) + 1


def pinned_key(page: str) -> str:
    return f"{page}.pinned"


def version(page: str) -> int:
    return st.session_state.get(f"{page}.version", 0)


def bump_version(page: str) -> None:
    """Make table-like widgets start clean from the values dict (after code changed a value)."""
    st.session_state[f"{page}.version"] = version(page) + 1
