"""The connection sidebar every page draws: provider, key and base URL.

Keys typed here live only in this browser session's state, one per provider; they are
never written to disk, a URL or a log. Which key goes where is decided in
``lib.connection`` (``resolve``), the same way for the sidebar and for presenter mode, and
the sidebar says it in words under the fields.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import streamlit as st

from lib import connection
from lib.connection import CUSTOM, LOCAL, TOGETHER, Connection, Settings, TypedKeys
from lib.ui import account, alerts, state

PROVIDER, API_KEY, CUSTOM_URL = "provider", "api_key", "custom_base_url"
# The Custom provider's own typed key, the origin it was typed for, and (bound, now) when a
# base URL change made the sidebar forget it.
CUSTOM_KEY, CUSTOM_KEY_FOR = "custom_api_key", "custom_api_key_for"
KEY_FORGOTTEN = "custom_api_key_forgotten"


def _secrets() -> dict[str, Any]:
    """The settings in .streamlit/secrets.toml; reading secrets without a file raises."""
    try:
        return {name: st.secrets.get(name) for name in connection.SETTING_NAMES}
    except Exception:  # StreamlitSecretNotFoundError and parse errors alike
        return {}


def _settings() -> Settings:
    return connection.load_settings(os.environ, _secrets(), team=account.team_mode())


def _admitted() -> bool:
    """Whether this session may go on (team mode: signed in and allowed; otherwise the
    signed-out screen is drawn). Personal mode warns when its key is open to the network."""
    if not account.gate():
        return False
    try:
        settings = _settings()
    except ValueError:
        return True  # the sidebar names the bad setting
    account.exposure_warning(bool(settings.together_key or settings.custom_key))
    return True


def _resolve(provider: str, settings: Settings) -> Connection:
    """The connection for ``provider`` with this session's typed keys and Custom URL."""
    s = st.session_state
    typed = TypedKeys(s.get(API_KEY, ""), s.get(CUSTOM_KEY, ""), s.get(CUSTOM_KEY_FOR, ""))
    return connection.resolve(provider, s.get(CUSTOM_URL, ""), typed, settings)


def current_connection() -> Connection | None:
    """The connection the sidebar last chose, without drawing it (presenter mode hides it);
    None when signed out."""
    if not _admitted():
        return None
    try:
        settings = _settings()
        provider = st.session_state.get(PROVIDER) or connection.default_provider(
            settings.together_key)
        return _resolve(provider, settings)
    except ValueError:
        return None


def _custom_key_typed(key: str) -> None:
    """on_change: a new Custom key is not yet bound; the next draw binds it to the URL."""
    state.sync(key)
    st.session_state[CUSTOM_KEY_FOR] = ""
    st.session_state.pop(KEY_FORGOTTEN, None)


def _bind_custom_key() -> None:
    """Tie a typed Custom key to the origin of the base URL it was typed for; forget it
    when the base URL has moved to another origin since, so it is never sent there."""
    s = st.session_state
    if not s.get(CUSTOM_KEY):
        return
    bound, now = s.get(CUSTOM_KEY_FOR, ""), connection.origin(s.get(CUSTOM_URL, ""))
    if not bound:
        s[CUSTOM_KEY_FOR] = now  # "" while the URL is unusable: binds to the first usable one
    elif bound != now:
        s[CUSTOM_KEY], s[CUSTOM_KEY_FOR], s[KEY_FORGOTTEN] = "", "", (bound, now)


def _provider_radio(settings: Settings) -> str:
    offered = connection.providers(settings)
    default = connection.default_provider(settings.together_key)
    if st.session_state.get(PROVIDER, default) not in offered:  # Custom, since switched off
        st.session_state[PROVIDER] = default
    return st.radio(
        "Provider", offered, horizontal=True, key=state.persistent(PROVIDER, default),
        on_change=state.sync, args=(PROVIDER,),
        help="Local runs a small demo model on this machine: no key, no network.")


def _custom_url_input(settings: Settings) -> None:
    allowed = settings.custom_base_urls
    st.text_input(
        "Base URL", placeholder=allowed[0] if allowed else "http://localhost:8000/v1",
        key=state.persistent(CUSTOM_URL, ""), on_change=state.sync, args=(CUSTOM_URL,),
        help=alerts.as_written(f"Allowed on this server: {', '.join(allowed)}." if allowed
                               else "Any OpenAI-compatible server: vLLM, llama.cpp, Ollama."))


# Each provider's key field: its state key, its setting, and a placeholder when unset.
_KEY_FIELDS = {TOGETHER: (API_KEY, connection.TOGETHER_KEY_ENV, "paste your key"),
               CUSTOM: (CUSTOM_KEY, connection.CUSTOM_KEY_ENV,
                        "the server's key, if it needs one")}


def _key_input(provider: str, settings: Settings) -> None:
    """The key field of ``provider``: each provider keeps its own typed key."""
    name, setting, placeholder = _KEY_FIELDS[provider]
    configured = settings.together_key if provider == TOGETHER else settings.custom_key
    st.text_input(
        "API key", type="password", key=state.persistent(name, ""),
        on_change=_custom_key_typed if provider == CUSTOM else state.sync, args=(name,),
        placeholder=f"from {setting}" if configured else placeholder,
        help=f"Kept only in this browser session and sent only to {provider}"
             + (", at the base URL it was typed for" if provider == CUSTOM else "")
             + "; never saved or put in a link.")


def _forgotten_notice() -> None:
    forgotten = st.session_state.get(KEY_FORGOTTEN)
    if forgotten:
        bound, now = (connection.host(url) or "an unusable address" for url in forgotten)
        alerts.warning(f"The key typed for {bound} was forgotten because the base URL now "
                       f"points to {now}. Type the key again to send it there.")


def connection_sidebar() -> Connection | None:
    """Draw the sidebar; return the connection, or None after showing what is wrong (or
    the signed-out screen: then nothing reaches a provider)."""
    if not _admitted():
        return None
    with st.sidebar:
        account.account_box()
        st.subheader("Connection")
        try:
            settings = _settings()
        except ValueError as exc:
            alerts.error(str(exc))
            return None
        provider = _provider_radio(settings)
        if provider == CUSTOM:
            _custom_url_input(settings)
            _bind_custom_key()
            _forgotten_notice()
        if provider != LOCAL:
            _key_input(provider, settings)
        try:
            conn = _resolve(provider, settings)
        except ValueError as exc:
            alerts.error(str(exc))
            return None
        if provider == TOGETHER and not conn.api_key:
            alerts.warning("No API key: set TOGETHER_API_KEY, add it to "
                           ".streamlit/secrets.toml, or paste it above.")
        if provider == LOCAL:
            st.caption(f"Built-in demo backend at `{conn.base_url}`: small offline models, "
                       "not Together's.")
        st.caption(alerts.as_written(connection.key_note(conn)))
        return _time_limit(conn)


def _time_limit(conn: Connection) -> Connection | None:
    """The "Time limit per run" field: a run that takes longer ends, keeping what came.

    Its default is PLAYGROUND_DEADLINE's; the value lives in this session only.
    """
    try:
        default = connection.client_deadline()
    except ValueError as exc:
        alerts.error(str(exc))
        return None
    seconds = st.number_input(
        "Time limit per run (s)", min_value=1.0, step=30.0, format="%g",
        key=state.persistent("deadline", default), on_change=state.sync, args=("deadline",),
        help="A run (a stream, or one request) that takes longer is ended; the text "
             "received so far is kept.")
    return replace(conn, deadline=float(seconds))
