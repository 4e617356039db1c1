"""From a recorded run back to settings: what "Restore" puts in a page (what "Replay"
sends is ``lib.text.replay.replay_plan``).

A recorded request holds only what was sent: untouched defaults were left out, so laying
it over the catalogue's defaults gives back every widget value. A parameter sent at its
default can only have been pinned, so the pin list comes back too.
"""
from __future__ import annotations

from typing import Any, Mapping

from lib.catalogue import Endpoint
from lib.param_settings import ParamSettings


def settings_from_request(endpoint: Endpoint, request: Mapping[str, Any]
                          ) -> tuple[dict[str, Any], list[str]]:
    """Widget values and pinned names for a recorded request (unknown fields are dropped)."""
    settings = ParamSettings.from_request(endpoint, request)
    return dict(settings.values), list(settings.pinned)
