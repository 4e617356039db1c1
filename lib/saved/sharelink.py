"""A page's whole state in its URL's query parameters, so a link reproduces a setup.

The state is JSON, zlib-compressed and base64url-encoded into one parameter ``s`` (with
``v``, the format version): English prompts shrink about 3×, so a 100 kB prompt makes a
link of about 30,000 characters. Streamlit ignores query strings over 512 Ki characters
and uvicorn drops requests well before that, so links are capped at MAX_LINK_CHARS.

Links come from strangers: decoding checks sizes before and after decompression (a
zip bomb stops at MAX_STATE_BYTES), the JSON's shape, the page, and every value through
``lib.catalogue``; anything wrong is a ``ShareLinkError`` with a plain message. Both
ways go through ``lib.api.redact``, so a key never gets into a link, nor out of one.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from typing import Any, Mapping

from lib.api.quoting import clip, short_repr
from lib.api.redact import redact
from lib.api.untrusted import json_tree
from lib.catalogue import ENDPOINTS, ValidationError
from lib.page_registry import PAGES
from lib.param_settings import ParamSettings

STATE_PARAM, VERSION_PARAM, VERSION = "s", "v", "1"
MAX_LINK_CHARS = 64_000
MAX_STATE_BYTES = 3_000_000
MAX_EXTRA_BYTES = 64_000
MAX_EXTRA_DEPTH = 8
# Which endpoint's parameters each shareable page holds.
PAGE_ENDPOINTS = {p.key: p.endpoint for p in PAGES if p.shareable}
_STATE_KEYS = ("page", "values", "pinned", "extra")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class ShareLinkError(ValueError):
    """The link cannot be made or opened; the message says why, for the person holding it."""


def has_state(params: Mapping[str, str]) -> bool:
    """True when the URL carries a shared state (pages only decode then)."""
    return STATE_PARAM in params


def encode_state(state: Mapping[str, Any], secret: str | None = None) -> dict[str, str]:
    """Query parameters holding ``state``, credentials removed; ShareLinkError if invalid or
    too long (the message says which, so the page can tell the user what to shorten)."""
    clean = check_state(redact(dict(state), secret))
    try:
        raw = json.dumps(clean, ensure_ascii=False, allow_nan=False,
                         separators=(",", ":")).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        raise ShareLinkError(f"This state cannot be put in a link: {exc}.") from None
    if len(raw) > MAX_STATE_BYTES:
        raise ShareLinkError(f"This state is {len(raw):,} bytes; a link holds at most "
                             f"{MAX_STATE_BYTES:,}. Shorten the prompt.")
    data = base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode("ascii")
    if len(data) > MAX_LINK_CHARS:
        raise ShareLinkError(f"The link would be {len(data):,} characters; browsers and the "
                             f"server accept about {MAX_LINK_CHARS:,}. Shorten the prompt.")
    return {STATE_PARAM: data, VERSION_PARAM: VERSION}


def decode_state(params: Mapping[str, Any]) -> dict[str, Any]:
    """The state a link holds, fully checked; ShareLinkError for anything else."""
    version = params.get(VERSION_PARAM)
    if version != VERSION:
        raise ShareLinkError("This link was made by a different version of the playground "
                             f"(link format {short_repr(version)}, this one reads {VERSION!r}).")
    data = params.get(STATE_PARAM)
    if not isinstance(data, str) or not data:
        raise ShareLinkError("This link holds no playground state.")
    if len(data) > MAX_LINK_CHARS:
        raise ShareLinkError(f"This link is {len(data):,} characters long; links hold at "
                             f"most {MAX_LINK_CHARS:,}.")
    try:
        return check_state(redact(_unpack(data)))
    except RecursionError:
        raise ShareLinkError("This link's state is nested too deeply.") from None


def check_state(state: Any) -> dict[str, Any]:
    """A state in normal form (values as the catalogue normalises them, every key present),
    or ShareLinkError naming what is wrong."""
    if not isinstance(state, dict):
        raise ShareLinkError("This link's state is not an object.")
    unknown = sorted(map(str, set(state) - set(_STATE_KEYS)))
    if unknown:
        raise ShareLinkError(f"This link's state has unknown fields: {short_repr(unknown)}.")
    page = state.get("page")
    if not isinstance(page, str) or page not in PAGE_ENDPOINTS:
        raise ShareLinkError(f"This link is for an unknown page {short_repr(page)}; known: "
                             f"{', '.join(PAGE_ENDPOINTS)}.")
    endpoint = ENDPOINTS[PAGE_ENDPOINTS[page]]
    values = state.get("values", {})
    if not isinstance(values, dict):
        raise ShareLinkError("This link's values are not an object.")
    try:
        settings = ParamSettings(endpoint, values, state.get("pinned", [])).parse()
    except ValidationError as exc:
        raise ShareLinkError("This link holds invalid settings: " + "; ".join(
            clip(e.message) for e in exc.errors)) from None
    extra = state.get("extra", {})
    _check_extra(extra)
    return {"page": page, "values": dict(settings.values), "pinned": list(settings.pinned),
            "extra": extra}


def _unpack(data: str) -> Any:
    if not _BASE64URL.fullmatch(data):
        raise ShareLinkError("This link is damaged: its state has characters a link does "
                             "not produce. Was it cut or edited?")
    try:
        packed = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise ShareLinkError("This link is damaged: its state is not valid base64. "
                             "Was it cut short?") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, MAX_STATE_BYTES + 1)
    except zlib.error:
        raise ShareLinkError("This link is damaged: its state does not decompress.") from None
    if len(raw) > MAX_STATE_BYTES or inflater.unconsumed_tail:
        raise ShareLinkError(f"This link's state unpacks to more than {MAX_STATE_BYTES:,} "
                             "bytes; it was not made by the playground.")
    if not inflater.eof or inflater.unused_data:
        raise ShareLinkError("This link is damaged: its state is cut short or has extra "
                             "data. Copy the whole link again.")
    try:
        state = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError:
        raise ShareLinkError("This link is damaged: its state is not valid JSON.") from None
    # A "\ud800" escape is valid JSON but no text a page can send: it becomes U+FFFD.
    return json_tree(state)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _check_extra(extra: Any) -> None:
    """Page-specific extras are free-form but small, shallow JSON; the page checks meaning."""
    if not isinstance(extra, dict):
        raise ShareLinkError("This link's page extras are not an object.")
    _check_plain(extra, MAX_EXTRA_DEPTH)
    size = len(json.dumps(extra, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > MAX_EXTRA_BYTES:
        raise ShareLinkError(f"This link's page extras are {size:,} bytes; at most "
                             f"{MAX_EXTRA_BYTES:,}.")


def _check_plain(value: Any, depth: int) -> None:
    """JSON that comes back exactly as it went in: string keys, finite numbers, bounded depth."""
    if depth < 0:
        raise ShareLinkError("This link's page extras are nested too deeply.")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ShareLinkError("This link's page extras have a key that is not text.")
            _check_plain(item, depth - 1)
    elif isinstance(value, list):
        for item in value:
            _check_plain(item, depth - 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ShareLinkError("This link's page extras hold a number that is not finite.")
    elif value is not None and not isinstance(value, (str, int, float)):
        raise ShareLinkError(f"This link's page extras hold a {type(value).__name__}, "
                             "which is not plain JSON data.")
