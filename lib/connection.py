"""Which server the playground talks to, and with which key.

Three providers share one client code path: Together itself, the built-in local backend
(the default when no key is configured, so the app works offline), and any
OpenAI-compatible server (vLLM, llama.cpp, Ollama) at a custom base URL.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlparse

from lib.client import Client

LOCAL, TOGETHER, CUSTOM = "Local", "Together", "Custom"
PROVIDERS = (LOCAL, TOGETHER, CUSTOM)
TOGETHER_BASE_URL = "https://api.together.xyz/v1"
# Tests and benchmarks run their own backend and point the app at it with this variable.
LOCAL_URL_ENV = "PLAYGROUND_LOCAL_BACKEND_URL"
# Seconds to wait for the server's next byte. Raise it for slow self-hosted models; tests
# lower it to see a timeout without waiting the default minute.
TIMEOUT_ENV = "PLAYGROUND_TIMEOUT"
CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 60.0


@dataclass(frozen=True)
class Connection:
    provider: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)

    def client(self, **kwargs) -> Client:
        kwargs.setdefault("timeout", client_timeout())
        return Client(api_key=self.api_key or "", base_url=self.base_url, **kwargs)


def client_timeout(env: Mapping[str, str] = os.environ) -> tuple[float, float]:
    """(connect, read) timeouts in seconds; the read one from PLAYGROUND_TIMEOUT if set.

    Raises ValueError naming the variable when it is not a positive number, so a typo is
    not silently a one-minute wait.
    """
    text = env.get(TIMEOUT_ENV, "").strip()
    if not text:
        return CONNECT_TIMEOUT, READ_TIMEOUT
    try:
        read = float(text)
    except ValueError:
        read = -1.0
    if not 0 < read < float("inf"):
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {text!r}")
    return min(CONNECT_TIMEOUT, read), read


def configured_key(env: Mapping[str, str] = os.environ,
                   secrets: Mapping[str, str] | None = None) -> str | None:
    """The key from the environment or .streamlit/secrets.toml, if any."""
    key = env.get("TOGETHER_API_KEY")
    if not key and secrets:
        key = secrets.get("TOGETHER_API_KEY")
    return key or None


def default_provider(key: str | None) -> str:
    return TOGETHER if key else LOCAL


def local_base_url(env: Mapping[str, str] = os.environ) -> str:
    """The built-in backend's URL, starting it in this process on first use."""
    if env.get(LOCAL_URL_ENV):
        return env[LOCAL_URL_ENV].rstrip("/")
    from lib.local_backend import get_shared_backend  # trains a model: only when needed
    return get_shared_backend().base_url


def check_base_url(url: str) -> str:
    """Normalise a custom base URL, or raise ValueError saying what is wrong."""
    url = (url or "").strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("Base URL must look like https://host/v1 or http://localhost:8000/v1, "
                         f"got {url!r}")
    if parsed.username or parsed.password:
        raise ValueError("Base URL must not contain credentials; put the key in the key field")
    return url


def resolve(provider: str, key: str | None, custom_url: str = "",
            env: Mapping[str, str] = os.environ) -> Connection:
    """The connection for the sidebar's choice. Raises ValueError on an unusable URL."""
    if provider == LOCAL:
        return Connection(LOCAL, local_base_url(env), None)
    if provider == TOGETHER:
        return Connection(TOGETHER, env.get("TOGETHER_BASE_URL", TOGETHER_BASE_URL), key)
    if provider == CUSTOM:
        return Connection(CUSTOM, check_base_url(custom_url), key)
    raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, got {provider!r}")
