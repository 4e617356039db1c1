"""The one way a page turns its parameter widgets into a request: ``param_form``.

Like the value-returning ``*_ui()`` functions of Streamlit's demo-self-driving, it draws
the widgets it is given and returns what they add up to: the checked settings with the
body to send, or the problems, in the one wording of ``lib.param_settings``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import streamlit as st

from lib.catalogue import Endpoint, FieldError, ValidationError
from lib.param_settings import ParamSettings, describe
from lib.ui import state
from lib.ui.widgets import param_widget


@dataclass(frozen=True)
class Form:
    """What a page's widgets add up to: a body to send, or the problems in the way."""

    settings: ParamSettings
    body: dict[str, Any] | None
    problems: tuple[FieldError, ...]
    attempted: bool  # the send button was pressed on this page: problems are worth saying

    @property
    def problem(self) -> str:
        return describe(list(self.problems)) if self.problems else ""


def attempted_key(page: str) -> str:
    return f"{page}:attempted"


def param_form(page: str, endpoint: Endpoint, names: Iterable[str] = (), *,
               invalid: set[str] | None = None, overrides: Mapping[str, Any] | None = None,
               attempt: bool = False, **widget_options: Any) -> Form:
    """Draw the widgets of ``names`` and return the page's settings, checked.

    ``invalid`` holds the names of widgets drawn earlier (elsewhere on the page) whose value
    is marked in red; ``overrides`` are values the page fixes (Compare's one streamed
    choice per column). ``attempt`` says the send button was pressed in this run: from then
    on the form is ``attempted``, so a page says what is missing only once it matters.
    """
    invalid = set() if invalid is None else invalid
    for name in names:
        param_widget(page, endpoint, name, errors=invalid, **widget_options)
    if attempt:
        st.session_state[attempted_key(page)] = True
    settings = ParamSettings(endpoint, {**state.page_values(page, endpoint), **(overrides or {})},
                             st.session_state.get(state.pinned_key(page), []))
    body, problems = None, []
    if invalid:
        listed = ", ".join(sorted(invalid))
        problems = [FieldError(listed, f"Fix the fields marked in red first: {listed}")]
    else:
        try:
            body = settings.body()
        except ValidationError as exc:
            problems = exc.errors
    return Form(settings, body, tuple(problems),
                bool(st.session_state.get(attempted_key(page))))
