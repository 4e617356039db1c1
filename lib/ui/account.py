"""Where this session's saved things live: its history, its presets and its images, and
who this session is.

Every page reaches the stores through these functions, never by constructing them, so
the question "whose data is this?" is answered in one place. In personal mode (no
``[auth]`` section in the secrets) everything belongs to the local owner, as it always did.
In team mode it belongs to the signed-in person (``lib.ownership.owner_id``); with nobody signed
in, the stores refuse, so a page that forgot to stop still shows no one's data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import streamlit as st

from lib.saved import owner as ownership
from lib.images.store import ImageStore
from lib.saved import presets
from lib.saved.datadir import data_dir
from lib.saved.history import History, HistoryUnavailable
from lib.saved.presets import PresetStore
from lib.ui import alerts
from lib.ui.text import shown

AUTH_SECTION, TEAM_SECTION = "auth", "team"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# What a session is, as far as the playground is concerned.
PERSONAL, SIGNED_OUT, NOT_ALLOWED, SIGNED_IN = "personal", "signed out", "not allowed", "signed in"


def _section(name: str) -> Mapping[str, Any] | None:
    """A section of .streamlit/secrets.toml; None without one (reading with no file raises)."""
    try:
        value = st.secrets.get(name)
    except Exception:  # StreamlitSecretNotFoundError and parse errors alike
        return None
    return value if isinstance(value, Mapping) else None


def team_mode() -> bool:
    """Team mode is on exactly when Streamlit's own sign-in is configured."""
    return _section(AUTH_SECTION) is not None


def _user() -> dict[str, Any]:
    """The signed-in person's claims, or {} when nobody is signed in."""
    user = st.user.to_dict()
    return user if user.get("is_logged_in") else {}


def _state() -> tuple[str, dict[str, Any]]:
    """(what this session is, the claims). Checked on every rerun: a sign-in that was
    signed out (its cookie replayed) or taken off the allowlist stops at once.

    Raises ValueError when the allowlist in the secrets is malformed.
    """
    if not team_mode():
        return PERSONAL, {}
    user = _user()
    if not user or ownership.sign_in_digest(user) in ownership.DenyList():
        return SIGNED_OUT, {}
    allow = ownership.parse_allow((_section(TEAM_SECTION) or {}).get("allow"))
    return (SIGNED_IN if ownership.allowed(user.get("email"), allow) else NOT_ALLOWED), user


def owner() -> str:
    """Whose saved things this session reads and writes; HistoryUnavailable when nobody
    (signed out, or not on the allowlist) is."""
    try:
        kind, user = _state()
    except ValueError as exc:
        raise HistoryUnavailable(str(exc)) from None
    if kind == PERSONAL:
        return ownership.LOCAL_OWNER
    if kind != SIGNED_IN:
        raise HistoryUnavailable("Nobody is signed in: sign in to see your saved runs.")
    return ownership.owner_id(user.get("iss"), user.get("sub"))


def _folder() -> Path:
    """This owner's folder in the data folder (the data folder itself for personal mode)."""
    return ownership.owner_folder(data_dir(), owner())


def history_store() -> History:
    """The history this session reads and writes: only its owner's runs."""
    return History(owner=owner())


def preset_store() -> PresetStore:
    """The presets this session lists and saves."""
    return PresetStore(_folder() / presets.FILE_NAME)


def image_store() -> ImageStore:
    """The stored images this session writes and reads back."""
    who = owner()
    return _image_store(None if who == ownership.LOCAL_OWNER else str(_folder() / "images"))


@st.cache_resource
def _image_store(root: str | None) -> ImageStore:
    return ImageStore(root)


def gate() -> bool:
    """True when this session may use the playground. Otherwise draws why not (what the
    playground is and a sign-in button, or who is not allowed and a sign-out button)."""
    try:
        kind, user = _state()
    except ValueError as exc:
        alerts.error(str(exc))
        return False
    if kind == SIGNED_OUT:
        signed_out_screen()
    elif kind == NOT_ALLOWED:
        alerts.error(f"{user.get('email') or 'This account'} may not use this playground. "
                     "Ask whoever runs it to add you, or sign in with another account.")
        _sign_out_button(user)
    return kind in (PERSONAL, SIGNED_IN)


def signed_out_screen() -> None:
    """What a signed-out visitor sees: what this is, and a way in. Nothing else."""
    st.subheader("Sign in to use the Together Playground")
    st.write("A playground for Together AI's completions and image APIs, shared by a team. "
             "Sign in to use it: your runs, presets and images are kept for you alone.")
    if st.button("Sign in", type="primary", icon=":material/login:"):
        st.login()


def account_box() -> None:
    """Who is signed in, and the sign-out button (team mode only)."""
    kind, user = _state()
    if kind == SIGNED_IN:
        st.caption(f"Signed in as {shown(user.get('email') or user.get('sub'))}",
                   help=f"Your id on this playground: {owner()}")
        _sign_out_button(user)


def _sign_out_button(user: Mapping[str, Any]) -> None:
    if st.button("Sign out", icon=":material/logout:"):
        ownership.DenyList().add(ownership.sign_in_digest(user))  # the cookie outlives st.logout
        st.logout()


def exposure_warning(key_configured: bool) -> None:
    """Personal mode listening beyond loopback with a configured key: say who spends it."""
    address = str(st.get_option("server.address") or "")
    if key_configured and not team_mode() and address not in LOOPBACK:
        alerts.warning(f"This playground listens on {address or 'every address'} with a "
                       "configured API key and no sign-in: anyone who can open this page "
                       "spends that key.")
