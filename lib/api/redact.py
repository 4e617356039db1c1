"""The one rule that scrubs API keys out of anything the playground shows or writes down:
error messages and headers, history rows, share links, PNG metadata, ZIP manifests.

The key travels in a header, so a body should never hold it; this is the second line of
defence for the day a field, an error text or a pasted prompt does. Fields whose *name*
says "credential" are dropped; known keys and anything shaped like a bearer token or a
Together/OpenAI key are replaced in every string, dict keys included.

Known keys are the one a caller passes and every key a ``Client`` was made with in this
process (``remember``): a PNG or a manifest is written far from the code that holds the
key, and must still not carry it.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Mapping

REDACTED = "[redacted]"
# A key this short is a placeholder ("none", "ollama"), not a secret; replacing it would
# mangle ordinary words in prompts and messages.
MIN_SECRET_LENGTH = 8
# Keys remembered per process: one per provider a visitor used, so a handful in practice;
# the bound only keeps a long-lived shared server from growing the list without end.
MAX_REMEMBERED = 64

# Whole words of a field name (split at "-", "_", spaces and camelCase) that mark a
# credential: "api_key", "X-Api-Key", "apiKey", "access_token" go; "max_tokens" stays.
_CREDENTIAL_WORDS = frozenset({
    "key", "apikey", "xapikey", "togetherapikey", "openaiapikey", "authorization",
    "proxyauthorization", "auth", "token", "accesstoken", "secret", "clientsecret",
    "password", "bearer", "cookie", "credential", "credentials",
})
# Bearer tokens and the prefixes real keys carry; long enough not to hit ordinary words.
_KEY_SHAPES = re.compile(
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{20,}"
    r"|\btgp_v1_[A-Za-z0-9_-]{16,}"
    r"|\bsk-[A-Za-z0-9_-]{20,}")

_remembered: dict[str, None] = {}   # insertion-ordered: the oldest is forgotten first
_lock = threading.Lock()


def remember(secret: str | None) -> None:
    """Scrub ``secret`` from everything redacted in this process from now on."""
    secret = (secret or "").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _remembered.pop(secret, None)
        _remembered[secret] = None
        while len(_remembered) > MAX_REMEMBERED:
            del _remembered[next(iter(_remembered))]


def is_credential_name(name: object) -> bool:
    """True for field names that may hold a credential and must never be written out."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name)).lower()
    return any(word in _CREDENTIAL_WORDS for word in re.split(r"[^a-z0-9]+", words))


def redact(obj: Any, secret: str | None = None) -> Any:
    """A copy of ``obj`` (JSON-like data) with credentials removed; ``obj`` is left as is.

    Tuples come back as lists, like JSON would return them.
    """
    return _scrub(obj, _secrets(secret))


def redact_text(text: str, secret: str | None = None) -> str:
    """One string with known keys and key-shaped tokens replaced."""
    return _scrub_text(text, _secrets(secret))


def _secrets(secret: str | None) -> list[str]:
    """The keys to replace, longest first, so no key is half-replaced by one it contains."""
    with _lock:
        known = set(_remembered)
    secret = (secret or "").strip()
    if len(secret) >= MIN_SECRET_LENGTH:
        known.add(secret)
    return sorted(known, key=len, reverse=True)


def _scrub(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, str):
        return _scrub_text(obj, secrets)
    if isinstance(obj, Mapping):
        return {_scrub(k, secrets): _scrub(v, secrets) for k, v in obj.items()
                if not is_credential_name(k)}
    if isinstance(obj, (list, tuple)):
        return [_scrub(v, secrets) for v in obj]
    return obj


def _scrub_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)
