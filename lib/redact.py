"""Scrub API keys out of anything the playground writes down (history rows, share links).

The key travels in a header, so a body should never hold it; this is the second line of
defence for the day a field, an error text or a pasted prompt does. Fields whose *name*
says "credential" are dropped; the caller's own key and anything shaped like a bearer
token or a Together/OpenAI key is replaced in every string, dict keys included.
"""
from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

# Compared after lower-casing and dropping "-" and "_": "X-Api-Key", "api_key", "apiKey".
_CREDENTIAL_NAMES = frozenset({
    "authorization", "proxyauthorization", "apikey", "xapikey", "togetherapikey",
    "openaiapikey", "accesstoken", "bearer", "password", "secret", "clientsecret",
})
# Bearer tokens and the prefixes real keys carry; long enough not to hit ordinary words.
_KEY_SHAPES = re.compile(
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{20,}"
    r"|\btgp_v1_[A-Za-z0-9_-]{16,}"
    r"|\bsk-[A-Za-z0-9_-]{20,}")


def is_credential_name(name: str) -> bool:
    return re.sub(r"[-_\s]", "", name).lower() in _CREDENTIAL_NAMES


def redact(obj: Any, secret: str | None = None) -> Any:
    """A copy of ``obj`` (JSON-like data) with credentials removed; ``obj`` is left as is.

    Tuples come back as lists, like JSON would return them.
    """
    secret = secret.strip() if secret else ""
    return _scrub(obj, secret)


def redact_text(text: str, secret: str | None = None) -> str:
    """One string with the secret and key-shaped tokens replaced."""
    return _scrub_text(text, secret.strip() if secret else "")


def _scrub(obj: Any, secret: str) -> Any:
    if isinstance(obj, str):
        return _scrub_text(obj, secret)
    if isinstance(obj, dict):
        return {_scrub(k, secret): _scrub(v, secret) for k, v in obj.items()
                if not (isinstance(k, str) and is_credential_name(k))}
    if isinstance(obj, (list, tuple)):
        return [_scrub(v, secret) for v in obj]
    return obj


def _scrub_text(text: str, secret: str) -> str:
    if secret:
        text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)
