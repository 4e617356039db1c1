"""What a grid of requests (a sweep, a prompt lab) says before anything is sent: how many
requests, tokens and dollars at most, and the confirm a big one needs.

Both plans hold their requests as ``cells`` with a ``body`` and say ``describe()``,
``request_count`` and ``needs_confirm``; the estimate is the text sweep's upper bound.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from lib.connection import Connection
from lib.text import record
from lib.text import sweep as text_sweep
from lib.ui import alerts
from lib.ui.model_picker import list_models


def estimate_line(p: Any, conn: Connection) -> str:
    """"**N requests** · about … prompt tokens and at most … completion tokens · cost"."""
    e = text_sweep.estimate(p, {m.id: m for m in list_models(conn)})
    cost = (f"at most {record.money(e.cost_usd)}" if e.cost_usd is not None
            else "cost unknown (no price)")
    return (f"**{p.describe()}** · about {e.prompt_tokens:,} prompt tokens and at most "
            f"{e.max_completion_tokens:,} completion tokens · {cost}")


def confirmed(p: Any, key: str) -> bool:
    """True when ``p`` may be sent: small enough, or its confirm box (``key``) ticked."""
    if not p.needs_confirm:
        return True
    return st.checkbox(f"Yes, send {p.request_count} requests", key=key)


def may_start(p: Any | None, key: str, *, pressed: bool, running: bool, what: str) -> bool:
    """Whether Run, just ``pressed``, may start plan ``p`` now. Draws the confirm box
    (``key``) a big plan needs, and says so when Run was pressed without it ticked."""
    if p is None or running:
        return False
    ok = confirmed(p, key)
    if pressed and not ok:
        alerts.warning(f"This {what} sends {p.request_count} requests: tick the box to "
                       "confirm.", icon=":material/warning:")
    return pressed and ok
