"""The "Copy link" control and the other half: a link's state put back into its page.

A page's state goes into ``st.query_params`` through ``lib.saved.sharelink`` (compressed,
checked, never the key), and the full URL is shown in a code block, whose copy button is
the one copy-to-clipboard Streamlit has. A link is applied once per session: the params
stay in the address bar (a reload re-opens the link in a new session), but reruns of
the same session do not reset what the user changed since.
"""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from lib.catalogue import Endpoint
from lib import page_registry
from lib.saved import sharelink
from lib.ui import alerts, state


def _applied_key(page: str) -> str:
    return f"{page}:link"


def apply_link(page: str, endpoint: Endpoint) -> dict[str, Any] | None:
    """Restore the page from a link in the URL (once); returns the link's page extras.

    Call it before the page draws its widgets.
    """
    params = st.query_params
    if not sharelink.has_state(params):
        return None
    data = params.get(sharelink.STATE_PARAM)
    if st.session_state.get(_applied_key(page)) == data:
        return None
    st.session_state[_applied_key(page)] = data
    try:
        shared = sharelink.decode_state({k: params.get(k) for k in params})
    except sharelink.ShareLinkError as exc:
        alerts.error(f"This link could not be opened: {exc} Nothing was changed.",
                 icon=":material/link_off:")
        return None
    if shared["page"] != page:
        alerts.error(f"This link holds settings for the {page_registry.page(shared['page']).title} page; "
                     "open it there. Nothing was changed here.", icon=":material/link_off:")
        return None
    state.restore(page, endpoint, shared["values"], shared["pinned"])
    st.toast("Settings restored from the link.", icon=":material/link:")
    return shared["extra"]


def share_control(page: str, values: Mapping[str, Any], pinned: list[str],
                  secret: str | None, extra: Mapping[str, Any] | None = None) -> None:
    """A "Copy link" button; the link appears below it, ready to copy."""
    url_key = f"{page}:share_url"
    if st.button("Copy link", key=f"{page}:share", icon=":material/link:",
                 help="Put every setting of this page (prompt included, the key never) "
                      "in a link that restores them."):
        try:
            params = sharelink.encode_state(
                {"page": page, "values": dict(values), "pinned": list(pinned),
                 "extra": dict(extra or {})}, secret=secret)
        except sharelink.ShareLinkError as exc:
            st.session_state.pop(url_key, None)
            alerts.error(str(exc), icon=":material/link_off:")
            return
        st.query_params.from_dict(params)
        # The settings in the URL are the ones on screen: not a link to re-apply.
        st.session_state[_applied_key(page)] = params[sharelink.STATE_PARAM]
        st.session_state[url_key] = _full_url(params)
    if st.session_state.get(url_key):
        with st.container(key=f"{page}-share-link"):
            st.caption("Copy this link (button at its right); it holds no API key.")
            st.code(st.session_state[url_key], language=None, wrap_lines=True)


def _full_url(params: Mapping[str, str]) -> str:
    here = urlsplit(st.context.url or "")
    return urlunsplit((here.scheme, here.netloc, here.path, urlencode(params), ""))
