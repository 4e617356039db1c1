"""The Prompt lab page's state in the session, and what a link or a History run puts back.

Apart from ``lab_view`` (as ``sweep_axes`` is from the Sweep page's view) so that History's
Restore can put a whole lab back, template, table, variants, graders and grid, without
importing another page's view. Each variant is a page of its own for ``lib.ui.state``
("lab-v0", …), like Compare's columns.
"""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from lib.catalogue import COMPLETIONS
from lib.lab import inputs, plan as lab_plan, setup as lab_setup
from lib.lab import template as lab_template
from lib.lab.setup import LabSetup
from lib.page_registry import page
from lib.saved import history
from lib.ui import alerts, state

PAGE = page("lab").key
TEMPLATE = f"{PAGE}:template"
ROWS = f"{PAGE}:rows"            # the table the editor starts from (a CSV, a restore)
COLUMNS = f"{PAGE}:columns"      # the editor's columns when ROWS was set
EDITED = f"{PAGE}:edited"        # the table as last edited (kept when a load fails)
TABLE_VERSION = f"{PAGE}:table_version"
VARIANTS = f"{PAGE}:variants"
GRADERS = f"{PAGE}:graders"      # graders as plain data (what history and links hold)
RUN = f"{PAGE}:run"
SHOWN = f"{PAGE}:shown"          # a restored lab: (plan, results)


def variant_page(i: int) -> str:
    return f"{PAGE}-v{i}"


def own_key(i: int, what: str) -> str:
    return f"{PAGE}:v{i}:{what}"


def columns_for(variables: Sequence[str]) -> tuple[str, ...]:
    return (*variables, inputs.EXPECTED)


def set_rows(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> None:
    """A new table for the editor to start from (its edits start afresh)."""
    st.session_state[ROWS] = [{c: r.get(c, "") for c in columns} for r in rows]
    st.session_state[COLUMNS] = tuple(columns)
    st.session_state[EDITED] = st.session_state[ROWS]
    st.session_state[TABLE_VERSION] = st.session_state.get(TABLE_VERSION, 0) + 1


def apply_setup(setup: LabSetup) -> None:
    """Put a lab (from the history or a link) back into the page's widgets."""
    st.session_state[TEMPLATE] = setup.template
    set_rows(list(setup.table.rows), columns_for(lab_template.parse(setup.template).variables))
    st.session_state[VARIANTS] = len(setup.variants)
    for i, v in enumerate(setup.variants):
        st.session_state[own_key(i, "own")] = v.template is not None
        st.session_state[own_key(i, "template")] = v.template or setup.template
        state.restore(variant_page(i), COMPLETIONS, v.values, list(v.pinned))
    st.session_state[GRADERS] = [g.to_json() for g in setup.graders]


def restore(run: history.Run) -> bool:
    """A recorded lab, grid and all, into the page's state (nothing is sent): True when
    the page may show it, False (having said why) when it cannot be restored.

    Both the page's "Earlier" control and History's Restore use it. A lab still running
    is not replaced: its cells would go on being sent with no grid and no Stop for them."""
    if (current := st.session_state.get(RUN)) is not None and current.running:
        alerts.warning("A lab is running: stop it on the Prompt lab page, or let it end, "
                       "before restoring another.")
        return False
    try:
        if run.unreadable:
            raise lab_setup.SetupError(run.error or "the record cannot be read")
        setup = lab_setup.from_json((run.metrics or {}).get("lab"))
        p = lab_plan.make_plan(setup)
    except (lab_setup.SetupError, lab_plan.PlanError) as exc:
        alerts.error(f"Lab #{run.id} cannot be restored: {exc}")
        return False
    apply_setup(setup)
    st.session_state[RUN] = None
    st.session_state[SHOWN] = (p, lab_plan.results_from_outputs(p, run.outputs))
    return True
