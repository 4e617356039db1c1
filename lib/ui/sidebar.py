"""The connection sidebar every page draws: provider, key and base URL.

The key typed here lives only in this browser session's state; it is never written to
disk, a URL or a log.
"""
from __future__ import annotations

import os

import streamlit as st

from lib import connection
from lib.connection import Connection
from lib.ui import alerts, state

PROVIDER, API_KEY, CUSTOM_URL = "provider", "api_key", "custom_base_url"


def _secrets_key() -> str | None:
    """The key from .streamlit/secrets.toml; reading secrets without a file raises."""
    try:
        return st.secrets.get("TOGETHER_API_KEY")
    except Exception:  # StreamlitSecretNotFoundError and parse errors alike
        return None


def current_connection() -> Connection | None:
    """The connection the sidebar last chose, without drawing it (presenter mode hides it)."""
    configured = connection.configured_key(os.environ, {"TOGETHER_API_KEY": _secrets_key()})
    provider = st.session_state.get(PROVIDER) or connection.default_provider(configured)
    key = None if provider == connection.LOCAL else (
        st.session_state.get(API_KEY) or configured)
    try:
        return connection.resolve(provider, key, st.session_state.get(CUSTOM_URL, ""))
    except ValueError:
        return None


def connection_sidebar() -> Connection | None:
    """Draw the sidebar; return the connection, or None after showing what is wrong."""
    configured = connection.configured_key(os.environ, {"TOGETHER_API_KEY": _secrets_key()})
    with st.sidebar:
        st.subheader("Connection")
        provider = st.radio(
            "Provider", connection.PROVIDERS, horizontal=True,
            key=state.persistent(PROVIDER, connection.default_provider(configured)),
            on_change=state.sync, args=(PROVIDER,),
            help="Local runs a small demo model on this machine: no key, no network.")
        if provider == connection.CUSTOM:
            st.text_input("Base URL", placeholder="http://localhost:8000/v1",
                          key=state.persistent(CUSTOM_URL, ""), on_change=state.sync,
                          args=(CUSTOM_URL,),
                          help="Any OpenAI-compatible server: vLLM, llama.cpp, Ollama.")
        key = None
        if provider != connection.LOCAL:
            typed = st.text_input(
                "API key", type="password", key=state.persistent(API_KEY, ""),
                on_change=state.sync, args=(API_KEY,),
                placeholder="from TOGETHER_API_KEY" if configured else "paste your key",
                help="Kept only in this browser session; never saved or put in a link.")
            key = typed or configured
            if not key and provider == connection.TOGETHER:
                alerts.warning("No API key: set TOGETHER_API_KEY, add it to "
                           ".streamlit/secrets.toml, or paste it above.")
        try:
            conn = connection.resolve(provider, key, st.session_state.get(CUSTOM_URL, ""))
        except ValueError as exc:
            alerts.error(str(exc))
            return None
        if provider == connection.LOCAL:
            st.caption(f"Built-in demo backend at `{conn.base_url}`: small offline models, "
                       "not Together's.")
        return conn
