"""What every page opens with: its browser title and icon, the navigation, the connection.

Streamlit's automatic page menu is hidden (``client.showSidebarNavigation = false``):
it names the home page after its file ("playground") and cannot group pages. The menu
drawn here comes from ``lib.page_registry`` with ``st.page_link``; ``st.navigation``
is not used because, with a folder named ``pages/``, it breaks AppTest.
"""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from lib.connection import Connection
from lib.page_registry import HOME, Page, grouped, page
from lib.ui.sidebar import connection_sidebar, current_connection

APP_NAME = "Together Playground"
# Streamlit's own status widget (top right) shows a second "Stop" during every run, next
# to the page's own Stop; one Stop is enough, so its buttons are hidden (its running icon
# stays).
# A page's run-start container (``RUN_START``) holds only what starting a run drew: the
# model list's emptied loading slot, or a message. Unless it shows a message it takes no
# room, so the button under it stays put when it turns into Stop.
RUN_START = "run-start"
SHELL_CSS = ('<style>[data-testid="stStatusWidget"] button{display:none !important}'
             f'[data-testid="stLayoutWrapper"]:has(> .st-key-{RUN_START})'
             ':not(:has([data-testid="stAlert"])){display:none !important}</style>')


def page_shell(key: str, *, sidebar: bool = True) -> Connection | None:
    """Set up the page named ``key``; return the connection, or None after the sidebar
    has said what is wrong.

    ``sidebar=False`` is for Presenter: no sidebar at all (the key field does not exist on
    the page, not merely hidden) and no page title; the connection is the one the other
    pages last chose.
    """
    this = page(key)
    st.set_page_config(page_title=_browser_title(this), page_icon=this.icon, layout="wide",
                       initial_sidebar_state="auto" if sidebar else "collapsed")
    st.html(SHELL_CSS)
    if not sidebar:
        return current_connection()
    with st.sidebar:
        navigation()
    conn = connection_sidebar()
    st.title(APP_NAME if key == HOME else this.title)
    if this.intro:
        st.caption(this.intro)
    return conn


def _browser_title(this: Page) -> str:
    return APP_NAME if this.key == HOME else f"{this.title} · {APP_NAME}"


def navigation() -> None:
    """Home, then each group's pages under the group's name.

    A page run as the app's only script (``streamlit run pages/3_Compare.py``, or AppTest
    opening a page file) has no other pages to link to: it draws no menu.
    """
    try:
        page_link(page(HOME))
    except StreamlitPageNotFoundError:
        return
    for group, members in grouped():
        st.caption(group)
        for member in members:
            page_link(member)


def page_link(target: Page) -> None:
    """A link to ``target`` with its registry title and icon."""
    st.page_link(target.file, label=target.title, icon=target.icon)
