"""The history reader over rows another tool cut off or mangled: every row reads.

A history file outlives versions and can be edited by hand or by a crashed write. Each
stored column is fed valid JSON, cut-off JSON, JSON of the wrong type (a list for the
request, numbers for outputs), NaN and Infinity, lone-surrogate escapes, deep nesting
and values that are not text at all. Whatever the row holds, the reader returns a Run the
History page can show: typed documents, finite numbers, text that encodes as UTF-8, a
time ``datetime`` accepts; a row it could not read is failed and marked unreadable, and
the rows around it read as they were written.
"""
from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.saved.history import _COLUMNS, FAILED, UNREADABLE, History, Run, _from_row
from lib.ui.history_view import label

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                      st.text(max_size=6), st.sampled_from(["\ud800", "x\udfffy"]))
json_value = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=3)
                          | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                          max_leaves=12)
CELL_INT = st.integers(-2**63, 2**63 - 1)   # what an SQLite cell holds
GOOD = {"request": {"prompt": "hi", "n": 2}, "outputs": [{"index": 0, "text": "out"}],
        "metrics": {"ttft": 0.1}, "events": [[0.1, 0, "out"]]}


def _stored(document) -> str:
    return json.dumps(document)  # NaN, Infinity and "\ud800" escapes, as Python writes them


def _json_cell(good) -> st.SearchStrategy:
    text = _stored(good)
    return st.one_of(
        st.just(text),
        st.integers(0, len(text) - 1).map(lambda cut: text[:cut]),   # cut off
        json_value.map(_stored),                                      # wrong type or odd
        st.sampled_from(["[" * 5000, "NaN", '{"a": Infinity}', '"\\ud800"', "[[1, 2]]",
                         '[{"index": 0}, 7]', "[[1e400, 0, \"x\"]]", "[[0, -1, \"x\"]]"]),
        st.none(), CELL_INT, st.floats(), st.binary(max_size=8))


def _text_cell(good: str) -> st.SearchStrategy:
    return st.one_of(st.just(good), st.text(max_size=8), st.none(), CELL_INT,
                     st.binary(max_size=4))


rows = st.fixed_dictionaries({
    "id": st.integers(1, 10**6),
    "created": st.one_of(st.just(1.7e9), st.floats(), CELL_INT, st.text(max_size=4),
                         st.none()),
    "page": _text_cell("completions"), "model": _text_cell("m"), "provider": _text_cell(""),
    "base_url": _text_cell(""), "status": _text_cell("ok"),
    "error": st.one_of(st.none(), _text_cell("boom")), "title": _text_cell("hi"),
    **{name: _json_cell(good) for name, good in GOOD.items()}})


def _finite_and_encodable(document) -> bool:
    json.dumps(document, allow_nan=False, ensure_ascii=False).encode("utf-8")
    return True


def _check(run: Run) -> None:
    assert isinstance(run.id, int)
    assert type(run.created) is float and math.isfinite(run.created)
    datetime.fromtimestamp(run.created)
    for name in ("page", "model", "provider", "base_url", "status", "title"):
        assert isinstance(getattr(run, name), str)
        getattr(run, name).encode("utf-8")
    assert run.error is None or isinstance(run.error, str)
    (run.error or "").encode("utf-8")
    assert isinstance(run.request, dict) and isinstance(run.metrics, dict)
    assert isinstance(run.outputs, list) and all(isinstance(o, dict) for o in run.outputs)
    assert all(type(s) is float and type(i) is int and isinstance(t, str)
               for s, i, t in run.events)
    assert _finite_and_encodable([run.request, run.outputs, run.metrics, run.events])
    assert label(run).encode("utf-8")
    if run.unreadable:
        assert run.status == FAILED and run.error.startswith(UNREADABLE)


@settings(max_examples=500, deadline=None)
@given(rows)
def test_any_row_reads_as_a_run_the_page_can_show(row):
    _check(_from_row(tuple(row[c] for c in _COLUMNS)))


def test_a_well_formed_row_reads_exactly_and_is_not_marked():
    row = {"id": 1, "created": 1.7e9, "page": "completions", "model": "m", "provider": "",
           "base_url": "", "status": "ok", "error": None, "title": "hi",
           **{name: _stored(good) for name, good in GOOD.items()}}
    run = _from_row(tuple(row[c] for c in _COLUMNS))
    assert not run.unreadable and run.status == "ok" and run.error is None
    assert (run.request, run.outputs, run.metrics) == (GOOD["request"], GOOD["outputs"],
                                                       GOOD["metrics"])
    assert run.events == [(0.1, 0, "out")]


def _storable(column: str, value):
    """What SQLite accepts in the column: only ``error`` may be NULL (NaN is stored as NULL)."""
    if column == "error" or not (value is None or value != value):
        return value
    return 0 if column == "created" else ""


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=rows)
def test_a_mangled_row_in_the_file_never_hides_the_others(tmp_path_factory, bad):
    store = History(tmp_path_factory.mktemp("h") / "history.db")
    before = store.record(Run(page="completions", model="m", request={"prompt": "one"},
                              outputs=[{"index": 0, "text": "kept"}], status="ok",
                              created=1.0e9))
    after = store.record(Run(page="images", model="m", request={"prompt": "two"},
                             status="ok", created=1.1e9))
    names = [c for c in _COLUMNS if c != "id"]
    cells = [_storable(c, bad[c]) for c in names]
    with sqlite3.connect(store.path) as db:
        db.execute(f"INSERT INTO runs ({', '.join(names)}) VALUES "
                   f"({', '.join('?' for _ in names)})", cells)
    runs = store.list()
    assert len(runs) == 3
    for run in runs:
        _check(run)
        _check(store.get(run.id))
    good = {r.id: r for r in runs}
    assert good[before].outputs == [{"index": 0, "text": "kept"}] and not good[before].unreadable
    assert good[after].request == {"prompt": "two"} and not good[after].unreadable


def test_bytes_that_are_not_utf8_in_a_text_column_keep_the_page_readable(tmp_path):
    """SQLite hands back whatever bytes a file holds; reading them as UTF-8 strictly would
    fail every list, so the whole History page would say the file cannot be used."""
    store = History(tmp_path / "history.db")
    good = store.record(Run(page="completions", model="m", request={"prompt": "kept"},
                            status="ok"))
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO runs (created, page, model, request, status, title) "
                   "VALUES (1, 'completions', CAST(? AS TEXT), '{}', 'ok', CAST(? AS TEXT))",
                   [b"bad \xff\xfe model", b"title \xc3"])
    runs = store.list()
    assert len(runs) == 2 and store.get(good).request == {"prompt": "kept"}
    odd = next(r for r in runs if r.id != good)
    assert odd.model == "bad \ufffd\ufffd model"
