"""The cold-start floor: the playground's home page as Streamlit alone draws it.

``write_floor_app(folder)`` writes a multipage app whose home page holds the same elements
as ``playground.py``'s, in the same places: the page menu and the connection box in the
sidebar, the heading, the connection line, a card per page and the model table. Their
words come from the page registry and the local backend's model cards, written into the
script as literals, so the page imports nothing of the playground, reads no key and asks
no server for its models. Each other page holds only its title (the menu links need them).

``bench/cold_start.py`` starts it beside the app and hello: what Streamlit and the browser
need, on this machine, for a first page of that many elements.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from lib.api.wire import parse_model
from lib.local_backend.demo_models import CARDS
from lib.page_registry import HOME, grouped, page
from lib.ui.home_view import model_rows
from lib.ui.shell import APP_NAME, SHELL_CSS

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://127.0.0.1:8000/v1"   # a fixed stand-in: nothing listens there


def _link(file: str, label: str, icon: str, indent: str = "") -> str:
    return f"{indent}st.page_link({file!r}, label={label!r}, icon={icon!r})"


def _sidebar() -> list[str]:
    home = page(HOME)
    lines = ["with st.sidebar:", _link("home.py", home.title, home.icon, "    ")]
    for group, members in grouped():
        lines.append(f"    st.caption({group!r})")
        lines += [_link(m.file, m.title, m.icon, "    ") for m in members]
    return lines + [
        '    st.subheader("Connection")',
        '    st.radio("Provider", ["Local", "Together", "Custom"], horizontal=True, '
        'help="Local runs a small demo model on this machine: no key, no network.")',
        f'    st.caption("Built-in demo backend at `{BASE_URL}`: small offline models, '
        'not Together\'s.")',
        '    st.caption("No key is sent to 127.0.0.1:8000")',
        '    st.number_input("Time limit per run (s)", min_value=1.0, value=600.0, step=30.0, '
        'format="%g", help="A run that takes longer is ended; the text received so far is '
        'kept.")',
    ]


def _cards(per_row: int = 3) -> list[str]:
    cards = [(group, m) for group, members in grouped() for m in members]
    lines = []
    for start in range(0, len(cards), per_row):
        lines.append(f"row = st.columns({per_row})")
        for i, (group, m) in enumerate(cards[start:start + per_row]):
            lines += [f"with row[{i}].container(border=True):",
                      f"    st.caption({group.upper()!r})",
                      _link(m.file, m.title, m.icon, "    "),
                      f"    st.markdown({m.blurb!r})",
                      f"    st.caption({'Try: ' + m.sample!r})"]
    return lines


def _model_table() -> str:
    """The table the app draws, from the listing the local backend serves."""
    return model_rows([parse_model(card.listing()) for card in CARDS])


def home_script() -> str:
    """The floor's home page, as Python source."""
    return "\n".join([
        "import streamlit as st",
        "",
        f"st.set_page_config(page_title={APP_NAME!r}, page_icon={page(HOME).icon!r}, "
        'layout="wide")',
        f"st.html({SHELL_CSS!r})",
        *_sidebar(),
        f"st.title({APP_NAME!r})",
        "st.write(\"Try every knob of Together AI's completions and image APIs: watch tokens "
        "stream, read token probabilities, compare models, sweep parameters and download "
        "image grids that carry their settings.\")",
        'st.info("Connected to **Local** · No key is sent to 127.0.0.1:8000", '
        'icon=":material/cloud_done:")',
        *_cards(),
        'st.subheader("Models on Local")',
        f'st.container(key="home-models").markdown({_model_table()!r})',
        "",
    ])


def write_floor_app(folder: Path) -> str:
    """Write the floor app into ``folder``, with the app's Streamlit settings (its own menu
    instead of Streamlit's, the same runner options); return its main script's name."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    (folder / ".streamlit").mkdir(exist_ok=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")
    (folder / "home.py").write_text(home_script())
    for _, members in grouped():
        for m in members:
            (folder / m.file).write_text(f"import streamlit as st\n\nst.title({m.title!r})\n")
    return "home.py"
