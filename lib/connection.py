"""Which server the playground talks to, and with which key.

Three providers share one client code path: Together itself, the built-in local backend
(the default when no key is configured, so the app works offline), and any
OpenAI-compatible server (vLLM, llama.cpp, Ollama) at a custom base URL.

A key goes only to the host it belongs to: the configured Together key only to Together's
base URL, a Custom server only a key typed for its origin or the operator's own
PLAYGROUND_CUSTOM_API_KEY, the local backend none. Otherwise anyone who can open the page
could collect the team's key by typing a base URL of their own. ``choose_key`` is that rule,
and both the sidebar and presenter mode reach it through ``resolve``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlparse

from lib.api.client import Client
from lib.api.reading import DEADLINE_ENV, TIMEOUT_ENV
from lib.api.quoting import short_repr

LOCAL, TOGETHER, CUSTOM = "Local", "Together", "Custom"
PROVIDERS = (LOCAL, TOGETHER, CUSTOM)
TOGETHER_BASE_URL = "https://api.together.xyz/v1"
# Tests and benchmarks run their own backend and point the app at it with this variable.
LOCAL_URL_ENV = "PLAYGROUND_LOCAL_BACKEND_URL"
# Seconds to wait for the server's next byte, unless TIMEOUT_ENV says otherwise. Raise it for
# slow self-hosted models; tests lower it to see a timeout without waiting the default minute.
CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 60.0
# Seconds one run may take in all, however steadily a server keeps sending: a stream that
# never ends would otherwise hold a worker and a connection for good. The sidebar's
# "Time limit per run" changes it per session; DEADLINE_ENV changes the default.
DEFAULT_DEADLINE = 600.0
# Settings read from the environment, else from .streamlit/secrets.toml.
TOGETHER_KEY_ENV, TOGETHER_URL_ENV = "TOGETHER_API_KEY", "TOGETHER_BASE_URL"
CUSTOM_KEY_ENV = "PLAYGROUND_CUSTOM_API_KEY"
CUSTOM_SWITCH_ENV = "PLAYGROUND_CUSTOM"          # "off" hides the Custom provider
CUSTOM_URLS_ENV = "PLAYGROUND_CUSTOM_BASE_URLS"  # comma-separated: the only Custom URLs allowed
SETTING_NAMES = (TOGETHER_KEY_ENV, TOGETHER_URL_ENV, CUSTOM_KEY_ENV, CUSTOM_SWITCH_ENV,
                 CUSTOM_URLS_ENV)
_OFF, _ON = ("off", "false", "0", "no"), ("on", "true", "1", "yes", "")
TYPED = "typed here"  # KeyChoice.source of a key the user typed in the sidebar
KEY_MAX_CHARS = 1024


@dataclass(frozen=True)
class Connection:
    provider: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    key_source: str = ""  # TYPED, the setting's name, or "" when no key is sent
    deadline: float | None = None  # seconds per run; None: PLAYGROUND_DEADLINE's

    def client(self, **kwargs) -> Client:
        kwargs.setdefault("timeout", client_timeout())
        kwargs.setdefault("deadline", client_deadline() if self.deadline is None
                          else self.deadline)
        return Client(api_key=self.api_key or "", base_url=self.base_url, **kwargs)


def client_timeout(env: Mapping[str, str] = os.environ) -> tuple[float, float]:
    """(connect, read) timeouts in seconds; the read one from PLAYGROUND_TIMEOUT if set.

    Raises ValueError naming the variable when it is not a positive number, so a typo is
    not silently a one-minute wait.
    """
    read = _seconds(env, TIMEOUT_ENV)
    if read is None:
        return CONNECT_TIMEOUT, READ_TIMEOUT
    return min(CONNECT_TIMEOUT, read), read


def client_deadline(env: Mapping[str, str] = os.environ) -> float:
    """Seconds one run may take, from PLAYGROUND_DEADLINE if set; ValueError if not a
    positive number."""
    seconds = _seconds(env, DEADLINE_ENV)
    return DEFAULT_DEADLINE if seconds is None else seconds


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    """The setting ``name`` as a positive, finite number of seconds; None when unset.

    Raises ValueError naming the variable otherwise, so a typo is not silently a default.
    """
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, got {text!r}")
    return seconds


@dataclass(frozen=True)
class Settings:
    """The operator's choices: keys per provider and what Custom may reach."""
    together_key: str | None = field(default=None, repr=False)
    custom_key: str | None = field(default=None, repr=False)
    together_base_url: str = TOGETHER_BASE_URL
    custom_enabled: bool = True
    custom_base_urls: tuple[str, ...] = ()  # empty: any URL


@dataclass(frozen=True)
class TypedKeys:
    """Keys typed in the sidebar, one per provider. The Custom one carries the origin it was
    typed for, so moving the base URL elsewhere does not carry the key along."""
    together: str = field(default="", repr=False)
    custom: str = field(default="", repr=False)
    custom_for: str = ""


@dataclass(frozen=True)
class KeyChoice:
    key: str | None = field(default=None, repr=False)
    source: str = ""


def _setting_text(value: Any) -> str:
    """A setting as text: TOML in secrets.toml may give a bool or a list of URLs."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value).strip()


def _setting(name: str, env: Mapping[str, str], secrets: Mapping[str, Any] | None) -> str:
    return _setting_text(env.get(name)) or _setting_text((secrets or {}).get(name))


def _custom_enabled(text: str) -> bool:
    if text.lower() not in _OFF + _ON:
        raise ValueError(f"{CUSTOM_SWITCH_ENV} must be on or off, got {short_repr(text)}")
    return text.lower() not in _OFF


def _listed_urls(text: str) -> tuple[str, ...]:
    try:
        return tuple(_comparable(check_base_url(u)) for u in text.split(",") if u.strip())
    except ValueError as exc:
        raise ValueError(f"{CUSTOM_URLS_ENV}: {exc}") from None


def load_settings(env: Mapping[str, str] = os.environ,
                  secrets: Mapping[str, Any] | None = None, *, team: bool = False) -> Settings:
    """The settings from the environment, else secrets.toml; ValueError names a bad one.

    ``team``: a shared deployment, where Custom (a request this server makes to a URL a
    visitor types) is off unless the operator switches it on or lists its URLs.
    """
    text = {name: _setting(name, env, secrets) for name in SETTING_NAMES}
    if team and not text[CUSTOM_SWITCH_ENV] and not text[CUSTOM_URLS_ENV]:
        text[CUSTOM_SWITCH_ENV] = "off"
    return Settings(
        together_key=text[TOGETHER_KEY_ENV] or None, custom_key=text[CUSTOM_KEY_ENV] or None,
        together_base_url=(text[TOGETHER_URL_ENV] or TOGETHER_BASE_URL).rstrip("/"),
        custom_enabled=_custom_enabled(text[CUSTOM_SWITCH_ENV]),
        custom_base_urls=_listed_urls(text[CUSTOM_URLS_ENV]))


def providers(settings: Settings) -> tuple[str, ...]:
    """The providers this server offers: Custom only when the operator has not switched it off."""
    return PROVIDERS if settings.custom_enabled else (LOCAL, TOGETHER)


def default_provider(key: str | None) -> str:
    return TOGETHER if key else LOCAL


def local_base_url(env: Mapping[str, str] = os.environ) -> str:
    """The built-in backend's URL, starting it in this process on first use."""
    if env.get(LOCAL_URL_ENV):
        return env[LOCAL_URL_ENV].rstrip("/")
    from lib.local_backend import get_shared_backend  # trains a model: only when needed
    return get_shared_backend().base_url


def origin(url: str) -> str:
    """scheme://host:port of a URL, lower-cased; "" when it has none. A typed key is bound
    to this, not to the whole URL: the same server's paths share its key."""
    parsed = urlparse((url or "").strip())
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        return ""
    return f"{parsed.scheme}://{parsed.netloc}".lower()


def host(url: str) -> str:
    """host:port as shown to the user."""
    return urlparse(url).netloc


def _comparable(url: str) -> str:
    """A checked base URL with scheme and host lower-cased, so allowlist entries match."""
    return origin(url) + urlparse(url).path


def check_base_url(url: str) -> str:
    """Normalise a custom base URL, or raise ValueError saying what is wrong."""
    url = (url or "").strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("Base URL must look like https://host/v1 or http://localhost:8000/v1, "
                         f"got {short_repr(url)}")
    if parsed.username or parsed.password:
        raise ValueError("Base URL must not contain credentials; put the key in the key field")
    return url


def check_custom_url(url: str, settings: Settings) -> str:
    """A Custom base URL this server may call on a visitor's behalf, or ValueError saying
    why not (switched off, or not on the operator's list, which it names)."""
    if not settings.custom_enabled:
        raise ValueError(f"The Custom provider is switched off on this server "
                         f"({CUSTOM_SWITCH_ENV}=off).")
    url = check_base_url(url)
    allowed = settings.custom_base_urls
    if allowed and _comparable(url) not in allowed:
        raise ValueError(f"Base URL {short_repr(url)} is not on {CUSTOM_URLS_ENV}; "
                         f"allowed: {', '.join(allowed)}")
    return url


def choose_key(provider: str, base_url: str, typed: TypedKeys, settings: Settings) -> KeyChoice:
    """The key for ``provider`` at ``base_url``, and where it came from.

    Each provider has its own keys: a typed one first, then its own setting. A typed Custom
    key goes only to the origin it was typed for. Local never gets a key.
    """
    if provider == TOGETHER:
        if typed.together:
            return KeyChoice(typed.together, TYPED)
        return KeyChoice(settings.together_key, TOGETHER_KEY_ENV if settings.together_key else "")
    if provider == CUSTOM:
        if typed.custom and typed.custom_for and typed.custom_for == origin(base_url):
            return KeyChoice(typed.custom, TYPED)
        return KeyChoice(settings.custom_key, CUSTOM_KEY_ENV if settings.custom_key else "")
    return KeyChoice()


def check_key(key: str, source: str) -> str:
    """The key without surrounding blanks, or ValueError naming what is wrong and what is
    allowed. The message never quotes the key."""
    key = key.strip()
    where = "The key typed here" if source == TYPED else source
    if len(key) > KEY_MAX_CHARS:
        raise ValueError(f"{where} is {len(key)} characters long; a key is at most "
                         f"{KEY_MAX_CHARS}.")
    if key.lower().startswith("bearer") and key[6:7].isspace():
        raise ValueError(f"{where} starts with 'Bearer ': paste only the key, "
                         "without 'Bearer '.")
    if any(ch.isspace() for ch in key):
        raise ValueError(f"{where} contains a space: paste only the key, without spaces "
                         "or 'Bearer '.")
    if not all(" " < ch < "\x7f" for ch in key):
        raise ValueError(f"{where} contains a character that cannot be sent in a header: "
                         "a key is printable ASCII letters, digits and symbols, no spaces.")
    return key


def resolve(provider: str, custom_url: str = "", typed: TypedKeys = TypedKeys(),
            settings: Settings | None = None, env: Mapping[str, str] = os.environ) -> Connection:
    """The connection for the sidebar's choice. Raises ValueError on an unusable URL or key,
    before anything is sent."""
    settings = load_settings(env) if settings is None else settings
    if provider == LOCAL:
        return Connection(LOCAL, local_base_url(env))
    if provider == TOGETHER:
        base_url = settings.together_base_url
    elif provider == CUSTOM:
        base_url = check_custom_url(custom_url, settings)
    else:
        raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, got "
                         f"{short_repr(provider)}")
    choice = choose_key(provider, base_url, typed, settings)
    if not choice.key:
        return Connection(provider, base_url)
    return Connection(provider, base_url, check_key(choice.key, choice.source), choice.source)


def key_note(conn: Connection) -> str:
    """In words, which key goes to which host."""
    if not conn.api_key:
        return f"No key is sent to {host(conn.base_url)}"
    source = "typed here" if conn.key_source == TYPED else f"from {conn.key_source}"
    return f"Key {source} → {host(conn.base_url)}"
