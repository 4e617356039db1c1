"""From a recorded run back to settings: what "Restore" puts in a page (what "Replay"
sends is ``lib.text.replay.replay_plan``).

A recorded request holds only what was sent: untouched defaults were left out, so laying
it over the catalogue's defaults gives back every widget value. A parameter sent at its
default can only have been pinned, so the pin list comes back too.
"""
from __future__ import annotations

from typing import Any, Mapping

from lib import catalogue
from lib.catalogue import Endpoint, ValidationError


def settings_from_request(endpoint: Endpoint, request: Mapping[str, Any]
                          ) -> tuple[dict[str, Any], list[str]]:
    """Widget values and pinned names for a recorded request (unknown fields are dropped)."""
    known = {k: v for k, v in request.items() if k in endpoint.names}
    try:
        values = catalogue.validate(endpoint, known, require=False)
    except ValidationError as exc:
        bad = {e.field for e in exc.errors}
        values = catalogue.validate(endpoint, {k: v for k, v in known.items() if k not in bad},
                                    require=False)
    pinned = [p.name for p in endpoint.params
              if p.name in values and not p.required and not p.always_send
              and p.is_default(values[p.name])]
    return {**endpoint.defaults(), **values}, pinned
