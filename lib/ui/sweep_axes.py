"""The Sweep page's X and Y axes in the session: what a link or a History run puts back.

Apart from ``sweep_view`` so that History's Restore can set a sweep's axes without
importing the Sweep page's view. The axes live under "sweep:…" keys (page-level state),
so restoring the fixed parameters from a preset or a link leaves them alone.
"""
from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from lib.page_registry import page
from lib.text import sweep as text_sweep

_PAGE = page("sweep").key
X_NAME, X_TEXT, Y_NAME, Y_TEXT = (f"{_PAGE}:x_name", f"{_PAGE}:x_text", f"{_PAGE}:y_name",
                                  f"{_PAGE}:y_text")
NONE = "—"


def share_extra() -> dict[str, Any]:
    return {"x": {"name": st.session_state.get(X_NAME), "text": st.session_state.get(X_TEXT)},
            "y": {"name": st.session_state.get(Y_NAME), "text": st.session_state.get(Y_TEXT)}}


def set_axes(extra: Mapping[str, Any] | None) -> None:
    """Axes from a link or a history run; anything not an axis name is ignored."""
    for (name_key, text_key), which in (((X_NAME, X_TEXT), "x"), ((Y_NAME, Y_TEXT), "y")):
        axis = (extra or {}).get(which)
        if not isinstance(axis, dict):
            continue
        name, text = axis.get("name"), axis.get("text")
        if name in (*text_sweep.SWEEPABLE, NONE) and isinstance(text, str):
            st.session_state[name_key], st.session_state[text_key] = name, text


def axes_from_history(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded sweep's axes in the shape ``set_axes`` takes."""
    out: dict[str, Any] = {"y": {"name": NONE, "text": ""}}
    for which in ("x", "y"):
        axis = metrics.get(which)
        if isinstance(axis, dict) and isinstance(axis.get("values"), list):
            out[which] = {"name": axis.get("name"),
                          "text": text_sweep.axis_text(axis["values"])}
    return out
