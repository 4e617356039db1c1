"""Widgets drawn from the parameter catalogue, so pages never restate a range or a help text.

Each widget writes into the page's values dict (``lib.ui.state``); an invalid value is
reported right under its widget, in the catalogue's words, before anything is sent.
"""
from __future__ import annotations

import codecs
from typing import Any

import streamlit as st

from lib import catalogue
from lib.catalogue import Endpoint, Param
from lib.ui import alerts, state

SLIDER_MAX_STEPS = 200


def param_widget(page: str, endpoint: Endpoint, name: str, *, label: str | None = None,
                 disabled: bool = False, height: int | None = None,
                 errors: set[str] | None = None) -> Any:
    """Draw the widget for one parameter and return its checked value (None if invalid).

    None is also a valid value (a random seed), so a page that must know whether anything
    is invalid passes ``errors``: the names of invalid parameters are added to it.
    ``height`` sizes a text area (a prompt editor wants more room than the default).
    """
    p = endpoint[name]
    try:
        return catalogue.check(p, _draw(page, endpoint, p, label or p.title, disabled, height))
    except ValueError as exc:  # from the check, or from an editor that parses its text
        alerts.error(str(exc), icon=":material/error:")
        if errors is not None:
            errors.add(name)
        return None


def _draw(page: str, endpoint: Endpoint, p: Param, label: str, disabled: bool,
          height: int | None) -> Any:
    """The parameter's widget, by its kind; returns what it holds, unchecked."""
    if p.kind == catalogue.TOKEN_BIAS:
        return _token_bias_editor(page, endpoint, p, label, disabled)
    if p.kind == catalogue.STRING_LIST:
        return _string_list_editor(page, endpoint, p, label, disabled)
    if p.kind == catalogue.SEED:
        return _seed_input(page, endpoint, p, label, disabled)
    if p.kind in catalogue.ROW_LISTS:
        return _list_rows_editor(page, endpoint, p, label, disabled)
    key = state.bind_param(page, endpoint, p.name)
    common = dict(key=key, help=p.help, disabled=disabled, on_change=state.store_param,
                  args=(page, endpoint, p.name, key))
    if height is not None:
        common["height"] = height
    return _DRAW[p.kind](p, label, common)


def _slider_or_number(p: Param, label: str, common: dict) -> Any:
    is_int = p.kind == catalogue.INT
    step = p.step or (1 if is_int else 0.01)
    lo, hi = p.minimum, p.maximum
    if (p.widget != catalogue.NUMBER_INPUT and lo is not None and hi is not None
            and (hi - lo) / step <= SLIDER_MAX_STEPS):
        return st.slider(label, min_value=_typed(lo, is_int), max_value=_typed(hi, is_int),
                         step=_typed(step, is_int), **common)
    return st.number_input(label, min_value=_typed(lo, is_int), max_value=_typed(hi, is_int),
                           step=_typed(step, is_int), **common)


def _typed(x: float | None, is_int: bool) -> Any:
    if x is None:
        return None
    return int(x) if is_int else float(x)


def _text(p: Param, label: str, common: dict) -> str:
    return st.text_area(label, placeholder=p.placeholder or None, **{"height": 120, **common})


def _string(p: Param, label: str, common: dict) -> str:
    return st.text_input(label, placeholder=p.placeholder or None, **common)


def _bool(p: Param, label: str, common: dict) -> bool:
    return st.toggle(label, **common)


def _choice(p: Param, label: str, common: dict) -> Any:
    return st.segmented_control(label, options=list(p.choices), **common) or p.default


_DRAW = {catalogue.INT: _slider_or_number, catalogue.FLOAT: _slider_or_number,
         catalogue.TEXT: _text, catalogue.STRING: _string, catalogue.BOOL: _bool,
         catalogue.CHOICE: _choice}


# ------------------------------------------------------- list, table and seed editors

def _string_list_editor(page: str, endpoint: Endpoint, p: Param, label: str,
                        disabled: bool) -> Any:
    """One stop sequence per line; ``\\n`` and ``\\t`` are typed as escapes."""
    values = state.page_values(page, endpoint)
    key = f"{state.WIDGET_PREFIX}{page}.{p.name}.{state.version(page)}"
    # Refreshed, not set once: a text set only once came back empty from the browser after
    # runs that did not draw it (Custom before its base URL is typed), and the empty text
    # then replaced a share link's stop sequences.
    state.refresh(key, st.session_state.get(
        key, "\n".join(_escape(s) for s in values.get(p.name) or [])))
    text = st.text_area(label, key=key, height=80, disabled=disabled,
                        help=p.help + " One per line; write a newline as \\n, a tab as \\t.")
    try:
        items = [_unescape(line) for line in text.splitlines() if line.strip()]
    except UnicodeDecodeError:
        alerts.error(f"{p.name}: a backslash escape is malformed; use \\n, \\t or \\\\")
        return values.get(p.name)
    values[p.name] = items
    return items


def _escape(s: str) -> str:
    return s.encode("unicode_escape").decode("ascii")


def _unescape(s: str) -> str:
    # Characters beyond Latin-1 become escapes first, as _escape writes them (a link's or
    # preset's "。" or emoji); going through Latin-1 bytes would fail on them.
    return codecs.decode(s.encode("ascii", "backslashreplace"), "unicode_escape")


def _token_bias_editor(page: str, endpoint: Endpoint, p: Param, label: str,
                       disabled: bool) -> Any:
    """Token id → bias, one ``id: bias`` per line (the API wants ids, not words; the word
    helper above the field adds a word's ids).

    A text field, not an editable table: ``st.data_editor`` brought pandas and pyarrow
    into the Completions page's first draw (about 0.5 s of server CPU and 85 MB, issue 14)
    and re-sent the table on every rerun. A bad line raises, naming the line.
    """
    values = state.page_values(page, endpoint)
    key = f"{state.WIDGET_PREFIX}{page}.{p.name}.{state.version(page)}"
    current = values.get(p.name) or {}
    text = st.session_state.get(key)
    if text is None or _bias_other_than(p, text, current):  # set elsewhere: show that
        text = catalogue.token_bias_text(current)
    state.refresh(key, text)
    text = st.text_area(label, key=key, height=80, disabled=disabled, placeholder="50256: -100",
                        help=f"{p.help} One 'token id: bias' per line.",
                        on_change=_store_bias, args=(page, endpoint, p, key))
    bias = catalogue.parse_token_bias_text(p, text)
    values[p.name] = bias
    return bias


def _bias_other_than(p: Param, text: str, bias: Any) -> bool:
    """Whether the field's text is a valid map other than ``bias``: the values were then
    set without the field (a test, a page), and the field must show them. A text that
    does not parse is the user's, still being fixed, and stays."""
    try:
        return catalogue.parse_token_bias_text(p, text) != bias
    except ValueError:
        return False


def _store_bias(page: str, endpoint: Endpoint, p: Param, key: str) -> None:
    """on_change: a valid text goes into the values before the page runs, so the field's
    new text is not taken for a change made elsewhere (a bad one is said when drawn)."""
    try:
        state.page_values(page, endpoint)[p.name] = catalogue.parse_token_bias_text(
            p, st.session_state[key])
    except ValueError:
        pass


def _rows_key(page: str, name: str) -> str:
    return f"{page}.{name}.rows"  # a "{page}." key: state.restore drops it, rows follow values


def _blank_item(p: Param) -> Any:
    return {"path": "", "scale": 1.0} if p.kind == catalogue.LORA_LIST else ""


def _item_url(item: Any) -> str:
    return str(item["path"] if isinstance(item, dict) else item).strip()


def _add_row(page: str, p: Param) -> None:
    rows = st.session_state[_rows_key(page, p.name)]
    rows.append([max((r[0] for r in rows), default=-1) + 1, _blank_item(p)])


def _remove_row(page: str, name: str, row_id: int) -> None:
    key = _rows_key(page, name)
    st.session_state[key] = [r for r in st.session_state[key] if r[0] != row_id]


def _edit_row(page: str, name: str, row_id: int, field: str | None, widget_key: str) -> None:
    """on_change: the widget's value into its row (the row's item itself for a URL list)."""
    for row in st.session_state[_rows_key(page, name)]:
        if row[0] == row_id:
            if field is None:
                row[1] = st.session_state[widget_key]
            else:
                row[1][field] = st.session_state[widget_key]


def _row_widget(page: str, p: Param, row: list, field: str | None, draw, **options) -> None:
    """One field of one row, refreshed from the row before drawing (as ``bind_param``)."""
    key = f"{state.WIDGET_PREFIX}{page}.{p.name}.{row[0]}.{field or 'url'}"
    state.refresh(key, row[1] if field is None else row[1][field])
    draw(key=key, on_change=_edit_row, args=(page, p.name, row[0], field, key), **options)


def _one(label: str) -> str:
    """"LoRAs" → "LoRA", "Reference images" → "reference image": for the Add button."""
    singular = label[:-1] if label.endswith("s") else label
    return singular if any(c.isupper() for c in singular[1:]) else singular.lower()


def _list_rows_editor(page: str, endpoint: Endpoint, p: Param, label: str,
                      disabled: bool) -> Any:
    """Rows to add and remove, one item each: a URL, or a LoRA's URL and scale.

    Rows live under a plain key of their own, so a half-typed row survives page switches;
    rows still without a URL are not part of the value (and so never sent or flagged).
    """
    values = state.page_values(page, endpoint)
    key = _rows_key(page, p.name)
    if key not in st.session_state:
        st.session_state[key] = [[i, dict(item) if isinstance(item, dict) else item]
                                 for i, item in enumerate(values.get(p.name) or [])]
    rows = st.session_state[key]
    st.markdown(f"**{label}**", help=p.help)
    lora = p.kind == catalogue.LORA_LIST
    for number, row in enumerate(rows, 1):
        visibility = "visible" if number == 1 else "collapsed"
        cols = st.columns([5, 2, 1.2] if lora else [7, 1.2], gap="small",
                          vertical_alignment="bottom")
        with cols[0]:
            _row_widget(page, p, row, "path" if lora else None, st.text_input,
                        label=f"{label} {number}: URL", label_visibility=visibility,
                        disabled=disabled, placeholder="https://…")
        if lora:
            with cols[1]:
                _row_widget(page, p, row, "scale", st.number_input, label="Scale",
                            label_visibility=visibility, disabled=disabled,
                            min_value=float(p.minimum), max_value=float(p.maximum),
                            step=float(p.step), format="%.2f")
        cols[-1].button("", icon=":material/close:", key=f"{page}:{p.name}:remove:{row[0]}",
                        type="tertiary", help=f"Remove {label} {number}", disabled=disabled,
                        on_click=_remove_row, args=(page, p.name, row[0]))
    st.button(f"Add {_one(label)}", key=f"{page}:{p.name}:add", icon=":material/add:", type="tertiary",
              disabled=disabled or len(rows) >= (p.max_items or len(rows) + 1),
              on_click=_add_row, args=(page, p),
              help=f"At most {p.max_items}; rows without a URL are not sent.")
    values[p.name] = [row[1] for row in rows if _item_url(row[1])]
    return values[p.name]


def _seed_input(page: str, endpoint: Endpoint, p: Param, label: str, disabled: bool) -> Any:
    """Random or fixed; a text field because seeds exceed JavaScript's safe integers."""
    values = state.page_values(page, endpoint)
    mode_key, text_key = f"{page}.{p.name}.mode", f"{page}.{p.name}.text"
    if values.get(p.name) is not None:  # a restored or reused seed wins over the old text
        st.session_state[mode_key] = "fixed"
        st.session_state[text_key] = str(values[p.name])
    cols = st.columns([1, 1.4])
    mode_widget = state.persistent(mode_key, "random")
    mode = cols[0].segmented_control(label, ["random", "fixed"], key=mode_widget, help=p.help,
                                     disabled=disabled, on_change=state.sync, args=(mode_key,))
    if mode != "fixed":
        values[p.name] = None
        return None
    text_widget = state.persistent(text_key, "")
    raw = cols[1].text_input("Seed value", key=text_widget, disabled=disabled,
                             label_visibility="hidden", placeholder="e.g. 42",
                             on_change=state.sync, args=(text_key,))
    try:
        values[p.name] = catalogue.check(p, raw)
    except ValueError:
        values[p.name] = None
        return raw  # the caller shows the message; the text stays for editing
    if values[p.name] is None:
        st.caption("Enter a seed, or switch to random.")
    return values[p.name]
