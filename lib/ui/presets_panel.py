"""The presets panel every page shares: pick, load, save as, rename, delete, export, import.

The built-ins show what the knobs do (their description says why the values); the user's
own live in ``lib.saved.presets``' file. Every action runs in a button callback, before the
page draws its widgets, so a loaded preset shows at once.
"""
from __future__ import annotations

import streamlit as st

from lib.catalogue import ENDPOINTS
from lib.saved import presets
from lib.saved.presets import Preset, PresetError
from lib.ui import account, alerts, state
from lib.ui.text import shown


def presets_panel(page: str, endpoint_name: str, *, expanded: bool = False) -> None:
    """Presets of ``endpoint_name`` ("completions"/"images") for the page's values."""
    box = st.expander("Presets", icon=":material/bookmarks:", expanded=expanded,
                      key=open_key(page), on_change="rerun")
    if not box.open:   # closed, it reads no file and draws none of its dozen widgets
        return
    store = account.preset_store()
    message_key = f"{page}:preset_message"
    with box:
        try:
            available = store.list(endpoint_name)
        except PresetError as exc:
            alerts.error(str(exc), icon=":material/error:")
            available = list(p for p in presets.BUILTINS if p.page == endpoint_name)
        by_name = {p.name: p for p in available}
        pick_key = f"{page}:preset_pick"
        if st.session_state.get(pick_key) not in by_name:
            st.session_state[pick_key] = next(iter(by_name), None)
        name = st.selectbox("Preset", list(by_name), key=pick_key,
                            format_func=lambda n: f"{n} (built-in)" if by_name[n].builtin
                            else n)
        chosen = by_name.get(name)
        if chosen is not None and chosen.description:
            st.caption(shown(chosen.description))
        load, delete = st.columns(2)
        load.button("Load", key=f"{page}:preset_load", width="stretch", disabled=chosen is None,
                    on_click=_load, args=(page, endpoint_name, chosen, message_key))
        delete.button("Delete", key=f"{page}:preset_delete", width="stretch",
                      disabled=chosen is None or chosen.builtin,
                      on_click=_guard, args=(message_key, store.delete, endpoint_name, name))
        new_key = f"{page}:preset_name"
        st.text_input("Name", key=new_key, placeholder="e.g. my summariser",
                      help="Save the current settings under this name, or rename the "
                           "preset picked above to it.")
        replace = st.checkbox("Replace a preset of the same name", key=f"{page}:preset_replace")
        save, rename = st.columns(2)
        save.button("Save as…", key=f"{page}:preset_save", width="stretch",
                    on_click=_save, args=(page, endpoint_name, new_key, replace, message_key))
        rename.button("Rename", key=f"{page}:preset_rename", width="stretch",
                      disabled=chosen is None or chosen.builtin,
                      on_click=_rename, args=(page, endpoint_name, name, new_key, message_key))
        _show_message(message_key)
        try:
            exported = store.export_json(page=endpoint_name)
        except PresetError:
            exported = None
        st.download_button("Export my presets (JSON)", data=exported or "",
                           file_name=f"{endpoint_name}-presets.json", mime="application/json",
                           key=f"{page}:preset_export", disabled=exported is None,
                           on_click="ignore", icon=":material/download:")
        upload = st.file_uploader("Import presets (JSON)", type=["json"],
                                  key=f"{page}:preset_upload")
        st.button("Import", key=f"{page}:preset_import", disabled=upload is None,
                  on_click=_import, args=(page, upload, replace, message_key))


def open_key(page: str) -> str:
    """The session key of whether ``page``'s presets panel is open."""
    return f"{page}:presets_open"


def _show_message(key: str) -> None:
    message = st.session_state.pop(key, None)
    if message is None:
        return
    ok, text = message
    (alerts.success if ok else alerts.error)(text)


def _guard(message_key: str, action, *args) -> None:
    try:
        action(*args)
    except PresetError as exc:
        st.session_state[message_key] = (False, str(exc))
    else:
        st.session_state[message_key] = (True, "Deleted.")


def _load(page: str, endpoint_name: str, preset: Preset, message_key: str) -> None:
    endpoint = ENDPOINTS[endpoint_name]
    values = state.page_values(page, endpoint)
    pinned = st.session_state.get(state.pinned_key(page), [])
    state.restore(page, endpoint, preset.apply_to(values),
                  list(dict.fromkeys([*pinned, *preset.pinned])))
    st.session_state[message_key] = (True, f"Loaded {preset.name!r}.")


def _save(page: str, endpoint_name: str, name_key: str, replace: bool,
          message_key: str) -> None:
    values = state.page_values(page, ENDPOINTS[endpoint_name])
    pinned = st.session_state.get(state.pinned_key(page), [])
    try:
        saved = account.preset_store().save(Preset(st.session_state.get(name_key, ""), endpoint_name,
                                          dict(values), list(pinned)), replace=replace)
    except PresetError as exc:
        st.session_state[message_key] = (False, str(exc) + (
            " Tick “Replace” to overwrite it." if isinstance(exc, presets.PresetExists) else ""))
        return
    st.session_state[f"{page}:preset_pick"] = saved.name
    st.session_state[message_key] = (True, f"Saved {saved.name!r}.")


def _rename(page: str, endpoint_name: str, old: str, name_key: str, message_key: str) -> None:
    try:
        renamed = account.preset_store().rename(endpoint_name, old, st.session_state.get(name_key, ""))
    except PresetError as exc:
        st.session_state[message_key] = (False, str(exc))
        return
    st.session_state[f"{page}:preset_pick"] = renamed.name
    st.session_state[message_key] = (True, f"Renamed to {renamed.name!r}.")


def _import(page: str, upload, replace: bool, message_key: str) -> None:
    if upload is None:
        return
    try:
        added = account.preset_store().import_json(upload.getvalue(), replace=replace)
    except PresetError as exc:
        st.session_state[message_key] = (False, f"Nothing was imported. {exc}")
        return
    st.session_state[message_key] = (True, "Imported: " + ", ".join(p.name for p in added)
                                     if added else "The file held no presets.")
