"""Team mode's rules in plain Python: who owns saved data, who may sign in, who signed out.

A shared deployment keys each person's history, presets and images by ``owner_id``: a hash
of the provider's issuer and subject, which are stable, never a display name or an e-mail
(both can change, and two people can share a name). Data from personal mode belongs to
``LOCAL_OWNER``, which no signed-in person is, until an admin assigns it.

Streamlit's sign-in cookie is stateless and stays valid for 30 days after ``st.logout``, so
a copied cookie could sign in again. ``DenyList`` remembers each signed-out sign-in (by a
hash of its issuer, subject, nonce and issue time) on the server, and a session presenting
one is treated as signed out.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from lib.saved.datadir import data_dir, write_private

LOCAL_OWNER = "local"
OWNER_PREFIX = "u-"
_OWNER = re.compile(r"(local|u-[0-9a-f]{32})")
# Streamlit's identity cookie lives 30 days; a signed-out entry is kept a day longer.
DENY_DAYS = 31
DENY_FILE = "signed-out.txt"
ALLOW_MAX = 1000


def owner_id(issuer: Any, subject: Any) -> str:
    """The stable owner of a signed-in person's data: issuer and subject, hashed.

    Raises ValueError when either is missing, so a half-filled identity owns nothing.
    """
    if not isinstance(issuer, str) or not issuer or not isinstance(subject, str) or not subject:
        raise ValueError("A sign-in needs both an issuer (iss) and a subject (sub).")
    digest = hashlib.sha256(f"{issuer}\0{subject}".encode("utf-8", "replace")).hexdigest()
    return OWNER_PREFIX + digest[:32]


def check_owner(owner: str) -> str:
    """``owner`` when it is one this module makes; ValueError naming the allowed forms."""
    if not isinstance(owner, str) or not _OWNER.fullmatch(owner):
        raise ValueError(f"An owner is {LOCAL_OWNER!r} or {OWNER_PREFIX} and 32 hex digits, "
                         f"got {str(owner)[:80]!r}.")
    return owner


def owner_folder(root: Path, owner: str) -> Path:
    """Where ``owner``'s files live under ``root``: the root itself for personal mode, so
    a laptop's presets and images stay where they always were."""
    owner = check_owner(owner)
    return root if owner == LOCAL_OWNER else root / "owners" / owner


def parse_allow(value: Any) -> tuple[str, ...]:
    """The allowlist from secrets (``[team] allow``): e-mail addresses and domains.

    A domain is written ``example.com`` or ``@example.com``. Raises ValueError saying what
    is wrong, so a typo does not silently let everyone in or no one.
    """
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError("[team] allow must be a list of e-mail addresses or domains, "
                         'e.g. allow = ["ana@example.com", "example.org"].')
    if len(value) > ALLOW_MAX:
        raise ValueError(f"[team] allow holds {len(value)} entries; at most {ALLOW_MAX}.")
    entries = []
    for item in value:
        entry = item.strip().lower() if isinstance(item, str) else ""
        if not re.fullmatch(r"(?:[^@\s]+@)?@?[a-z0-9.-]+\.[a-z]{2,}", entry):
            raise ValueError(f"[team] allow: {str(item)[:80]!r} is neither an e-mail address "
                             "nor a domain such as example.com.")
        entries.append(entry)
    return tuple(entries)


def allowed(email: Any, allow: Iterable[str]) -> bool:
    """Whether ``email`` may use the playground: anyone when the list is empty, else an
    exact address or an address at a listed domain (not its subdomains)."""
    allow = tuple(allow)
    if not allow:
        return True
    if not isinstance(email, str) or email.count("@") != 1:
        return False
    email = email.strip().lower()
    domains = {entry.lstrip("@") for entry in allow if "@" not in entry.lstrip("@")}
    return email in allow or email.split("@")[1] in domains


def sign_in_digest(user: Mapping[str, Any]) -> str:
    """One sign-in, hashed: the same person signing in again gets a new nonce and time."""
    parts = [str(user.get(name, "")) for name in ("iss", "sub", "nonce", "iat")]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()


class DenyList:
    """Sign-ins that were signed out, kept in a private file in the data folder."""

    _lock = threading.Lock()

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else data_dir() / DENY_FILE

    def add(self, digest: str, now: float | None = None) -> None:
        """Deny ``digest`` from now on; entries older than a cookie's life are dropped."""
        now = time.time() if now is None else now
        with self._lock:
            kept = {d: t for d, t in self._read().items() if now - t < DENY_DAYS * 86400}
            kept[digest] = now
            text = "".join(f"{d} {t:.0f}\n" for d, t in kept.items())
            write_private(self.path, text.encode(), temp_prefix=".signed-out-")

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and digest in self._read()

    def _read(self) -> dict[str, float]:
        try:
            lines = self.path.read_text("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return {}
        entries = {}
        for line in lines:
            digest, _, when = line.partition(" ")
            if re.fullmatch(r"[0-9a-f]{64}", digest) and when.isdigit():
                entries[digest] = float(when)
        return entries
