"""The live model list, cached for a few minutes per connection."""
from __future__ import annotations

import hashlib

import streamlit as st

from lib.connection import Connection
from lib.errors import TogetherError
from lib.results import ModelInfo

TEXT_TYPES = ("language", "code", "chat")
IMAGE_TYPES = ("image",)


@st.cache_data(ttl=300, show_spinner="Loading models…")
def _models(base_url: str, key_fingerprint: str, _conn: Connection) -> list[ModelInfo]:
    # The key itself is kept out of the cache key: only a fingerprint is hashed.
    return _conn.client().list_models()


def list_models(conn: Connection, types: tuple[str, ...] | None = None) -> list[ModelInfo]:
    """Models of the given types; an error is shown in place and an empty list returned."""
    fingerprint = hashlib.sha256((conn.api_key or "").encode()).hexdigest()[:16]
    try:
        models = _models(conn.base_url, fingerprint, conn)
    except TogetherError as exc:
        st.warning(f"Could not list models: {exc.describe()} You can still type a model id.")
        return []
    return [m for m in models if types is None or m.type in types]
