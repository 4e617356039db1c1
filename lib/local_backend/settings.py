"""Run-time switches of the local backend (``configure`` / ``POST /_local/config``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FRAMINGS = ("chunked", "close")


@dataclass
class Settings:
    """How responses are paced and framed.

    tokens_per_second: token steps per second in streams, and the pace a whole answer
        takes to be written before it is sent (0 = as fast as possible);
    framing: "chunked" (HTTP/1.1 chunked, keep-alive) or "close" (body ends at close);
    gzip: gzip every body, flushing per event so streams still stream;
    require_key: when set, requests need ``Authorization: Bearer <require_key>``;
    pregenerate: generate a whole stream before its first byte (for event-rate benchmarks).
    """

    tokens_per_second: float = 60.0
    framing: str = "chunked"
    gzip: bool = False
    require_key: str | None = None
    pregenerate: bool = False

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update; ValueError names the first bad key, and nothing changes."""
        checked = {}
        for key, value in changes.items():
            if key == "tokens_per_second":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError("tokens_per_second must be a number >= 0")
                checked[key] = float(value)
            elif key == "framing":
                if value not in FRAMINGS:
                    raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}")
                checked[key] = value
            elif key in ("gzip", "pregenerate"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                checked[key] = value
            elif key == "require_key":
                if value is not None and (not isinstance(value, str) or not value):
                    raise ValueError("require_key must be a non-empty string or null")
                checked[key] = value
            else:
                raise ValueError(f"unknown setting {key!r}; known: tokens_per_second, framing, "
                                 "gzip, require_key, pregenerate")
        for key, value in checked.items():
            setattr(self, key, value)

    def public(self) -> dict[str, Any]:
        """The settings as JSON, with the required key reduced to whether one is set."""
        return {"tokens_per_second": self.tokens_per_second, "framing": self.framing,
                "gzip": self.gzip, "require_key_set": self.require_key is not None,
                "pregenerate": self.pregenerate}
