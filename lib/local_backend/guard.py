"""The keyword guard behind ``safety_model: "local/keyword-guard"``.

A stand-in for a moderation model: it flags a generated word from a short list, and the
completion ends just before it (finish_reason "stop", plus a ``moderation`` note on the
choice), so the playground can show what a safety model changes. The words are common in
the training text, so the effect is easy to provoke (e.g. a prompt about processes and
signals reaches "kill").
"""
from __future__ import annotations

BLOCKED = frozenset({
    "kill", "killed", "kills", "attack", "attacks", "exploit", "password", "passwords",
    "secret", "secrets", "abort", "aborted", "crash", "crashes", "destroy", "weapon",
})


def flagged(token_text: str) -> str | None:
    """The blocked word this token is, if any."""
    word = token_text.strip().lower()
    return word if word in BLOCKED else None
