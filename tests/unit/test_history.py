"""The run log: round trips, search, crash-safety, locks, old and broken files, key scrubbing."""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from lib.api.redact import REDACTED, redact
from lib.saved.datadir import data_dir
from lib.saved.history import (FAILED, INTERRUPTED, OK, SCHEMA_VERSION, STOPPED, History,
                               HistoryCorrupt, HistoryUnavailable, Run, default_path)

KEY = "tgp_v1_SECRETKEYabcdef0123456789XYZ"


def make_run(prompt: str = "Once upon a time", model: str = "m/one", page: str = "completions",
             created: float = 1_000.0, **kw) -> Run:
    return Run(page=page, model=model, request={"model": model, "prompt": prompt,
                                                "max_tokens": 8}, created=created, **kw)


@pytest.fixture
def history(tmp_path) -> History:
    return History(tmp_path / "history.db")


# ---------------------------------------------------------------- where it lives

def test_data_dir_prefers_the_explicit_variable_then_xdg_then_home(tmp_path):
    assert data_dir({"PLAYGROUND_DATA_DIR": str(tmp_path)}) == tmp_path
    assert data_dir({"XDG_DATA_HOME": "/x/data"}) == Path("/x/data/together-playground")
    assert data_dir({}) == Path.home() / ".local/share/together-playground"


def test_default_path_is_in_the_data_folder_not_the_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "d"))
    assert default_path() == tmp_path / "d" / "history.db"
    History().record(make_run())
    assert (tmp_path / "d" / "history.db").is_file()


def test_missing_folders_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "history.db"
    History(path).record(make_run())
    assert path.is_file()


def test_a_folder_that_cannot_be_created_is_reported(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    with pytest.raises(HistoryUnavailable, match="Cannot create the history folder"):
        History(blocker / "history.db")


def test_database_uses_wal(history):
    with sqlite3.connect(history.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# ---------------------------------------------------------------- round trips

def test_record_then_get_returns_every_field(history):
    run = make_run(provider="local", base_url="http://127.0.0.1:1/v1", status=OK,
                   outputs=[{"index": 0, "text": " there was", "finish_reason": "length",
                             "seed": 42, "tokens": 3}],
                   metrics={"ttft": 0.1, "tokens_per_s": 30.5, "usage": {"total_tokens": 7}},
                   events=[(0.1, 0, " there"), (0.2, 0, " was")])
    run_id = history.record(run)
    got = history.get(run_id)
    assert got.id == run_id
    assert (got.page, got.model, got.provider, got.base_url) == (
        "completions", "m/one", "local", "http://127.0.0.1:1/v1")
    assert got.request == run.request
    assert (got.status, got.error, got.created) == (OK, None, 1_000.0)
    assert got.outputs == run.outputs and got.metrics == run.metrics
    assert got.events == [(0.1, 0, " there"), (0.2, 0, " was")]
    assert got.title == "Once upon a time"


def test_title_is_a_one_line_preview_of_the_prompt(history):
    got = history.get(history.record(make_run(prompt="line one\n\n  line   two " + "x" * 200)))
    assert got.title.startswith("line one line two x")
    assert len(got.title) == 80 and got.title.endswith("…")


def test_a_run_recorded_at_start_reads_as_interrupted_until_updated(tmp_path):
    path = tmp_path / "history.db"
    run_id = History(path).record(make_run())
    # The process dies here; a new one opens the same file.
    got = History(path).get(run_id)
    assert (got.status, got.error) == (FAILED, INTERRUPTED)


def test_update_finishes_a_run_and_clears_the_interrupted_note(history):
    run_id = history.record(make_run())
    assert history.update(run_id, status=OK, outputs=[{"index": 0, "text": "hi"}],
                          metrics={"latency": 1.5}, events=[(0.5, 0, "hi")])
    got = history.get(run_id)
    assert (got.status, got.error, got.outputs, got.metrics, got.events) == (
        OK, None, [{"index": 0, "text": "hi"}], {"latency": 1.5}, [(0.5, 0, "hi")])


def test_stopped_and_failed_runs_keep_what_they_are_told(history):
    stopped = history.record(make_run())
    history.update(stopped, status=STOPPED, outputs=[{"index": 0, "text": "partial"}])
    assert (history.get(stopped).status, history.get(stopped).error) == (STOPPED, None)
    failed = history.record(make_run())
    history.update(failed, status=FAILED, error="Rate limited (HTTP 429)")
    assert history.get(failed).error == "Rate limited (HTTP 429)"


def test_a_run_recorded_whole_has_no_interrupted_note(history):
    got = history.get(history.record(make_run(status=OK)))
    assert (got.status, got.error) == (OK, None)


def test_update_of_a_deleted_run_reports_false(history):
    run_id = history.record(make_run())
    history.delete(run_id)
    assert history.update(run_id, status=STOPPED) is False


def test_update_rejects_unknown_fields_and_statuses(history):
    run_id = history.record(make_run())
    with pytest.raises(TypeError, match="cannot update colour"):
        history.update(run_id, colour="red")
    with pytest.raises(TypeError, match="cannot update id"):
        history.update(run_id, id=5)
    with pytest.raises(ValueError, match="status must be one of ok, stopped, failed"):
        history.update(run_id, status="done")
    with pytest.raises(ValueError, match="status must be one of"):
        history.record(make_run(status="running"))


def test_get_unknown_id_is_none(history):
    assert history.get(12345) is None


# ---------------------------------------------------------------- listing and search

@pytest.fixture
def filled(history) -> History:
    history.record(make_run("The 100% solution", model="m/one", created=1.0))
    history.record(make_run("École de Paris", model="m/two", created=2.0))
    history.record(make_run("a_b literal", model="m/one", page="images", created=3.0))
    history.record(make_run("ab nothing special", model="m/two", created=4.0,
                            events=[(0.0, 0, "x")]))
    return history


def titles(runs: list[Run]) -> list[str]:
    return [r.title for r in runs]


def test_list_is_newest_first_with_limit_and_offset(filled):
    assert titles(filled.list()) == ["ab nothing special", "a_b literal", "École de Paris",
                                     "The 100% solution"]
    assert titles(filled.list(limit=2, offset=1)) == ["a_b literal", "École de Paris"]
    assert filled.list(limit=0) == []
    with pytest.raises(ValueError):
        filled.list(limit=-1)


def test_list_leaves_events_to_get(filled):
    newest = filled.list(limit=1)[0]
    assert newest.events == []
    assert filled.get(newest.id).events == [(0.0, 0, "x")]


def test_search_is_case_insensitive_including_non_ascii(filled):
    assert titles(filled.list(search="école")) == ["École de Paris"]
    assert titles(filled.list(search="ÉCOLE")) == ["École de Paris"]
    assert titles(filled.list(search="  the 100 ")) == ["The 100% solution"]


def test_search_wildcards_are_literal(filled):
    assert titles(filled.list(search="%")) == ["The 100% solution"]
    assert titles(filled.list(search="a_b")) == ["a_b literal"]
    assert filled.list(search="100_") == []


def test_filters_combine_and_count_agrees(filled):
    assert titles(filled.list(model="m/two")) == ["ab nothing special", "École de Paris"]
    assert titles(filled.list(page="images")) == ["a_b literal"]
    assert titles(filled.list(search="o", model="m/one", page="completions")) == [
        "The 100% solution"]
    assert filled.count() == 4 and filled.count(model="m/two") == 2
    assert filled.count(search="paris") == 1


def test_models_and_pages_for_filters(filled):
    assert filled.models() == ["m/one", "m/two"]
    assert filled.pages() == ["completions", "images"]


def test_search_follows_an_updated_request(history):
    run_id = history.record(make_run("first words"))
    history.update(run_id, request={"model": "m", "prompt": "second words"})
    assert history.count(search="first") == 0 and history.count(search="SECOND") == 1


def test_delete_and_delete_all(filled):
    first = filled.list()[0]
    assert filled.delete(first.id) is True
    assert filled.delete(first.id) is False
    assert filled.count() == 3
    assert filled.delete_all() == 3
    assert filled.list() == [] and filled.models() == []


# ---------------------------------------------------------------- key scrubbing

def test_the_key_never_reaches_the_file(tmp_path):
    history = History(tmp_path / "history.db")
    run = make_run(prompt=f"my key is {KEY} please ignore")
    run.request["api_key"] = KEY
    run.request["headers"] = {"Authorization": f"Bearer {KEY}", "Accept": "text/plain"}
    run.outputs = [{"index": 0, "text": f"echo {KEY}"}]
    run_id = history.record(run, secret=KEY)
    history.update(run_id, status=FAILED, error=f"401 for key {KEY}",
                   metrics={KEY: 1}, secret=KEY)
    got = history.get(run_id)
    assert "api_key" not in got.request
    assert got.request["headers"] == {"Accept": "text/plain"}
    assert got.request["prompt"] == f"my key is {REDACTED} please ignore"
    assert got.outputs[0]["text"] == f"echo {REDACTED}"
    assert got.error == f"401 for key {REDACTED}" and got.metrics == {REDACTED: 1}
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert KEY.encode() not in raw and KEY.lower().encode() not in raw
    assert b"please ignore" in raw  # the scan does see the stored text


def test_redact_drops_credential_fields_at_any_depth_and_keeps_the_input():
    secret = "hunter2-correct-horse"
    data = {"API-Key": "x", "apiKey": "x", "x_api_key": "x", "nested": [
        {"authorization": "Basic abc", "keep": f"a {secret} b", secret: (1, 2)}],
        "n": 3, "none": None}
    clean = redact(data, secret)
    assert clean == {"nested": [{"keep": f"a {REDACTED} b", REDACTED: [1, 2]}],
                     "n": 3, "none": None}
    assert data["API-Key"] == "x"


def test_redact_catches_key_shapes_without_being_told_the_key():
    text = ("auth: Bearer abcdefghijklmnopqrstuvwxyz0123 / tgp_v1_abcdefghijklmnopqrst "
            "/ sk-proj-abcdefghijklmnopqrstuv / the bearer of good news")
    assert redact(text) == (f"auth: {REDACTED} / {REDACTED} / {REDACTED} / "
                            "the bearer of good news")
    assert redact("nothing here", "") == "nothing here"


# ---------------------------------------------------------------- locks and threads

def test_a_locked_database_fails_plainly_and_keeps_what_was_recorded(tmp_path):
    path = tmp_path / "history.db"
    history = History(path, timeout=0.05)
    kept = history.record(make_run("kept"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        with pytest.raises(HistoryUnavailable, match="is busy .* already recorded are safe"):
            history.record(make_run("blocked"))
        assert history.get(kept).title == "kept"  # readers are not blocked under WAL
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    history.record(make_run("after"))
    assert titles(history.list()) == ["after", "kept"]  # same created: newer id first


def test_concurrent_sessions_each_get_their_own_rows(tmp_path):
    history = History(tmp_path / "history.db")
    ids: list[int] = []
    lock = threading.Lock()

    def session(n: int) -> None:
        for i in range(20):
            run_id = history.record(make_run(f"session {n} run {i}"))
            history.update(run_id, status=OK)
            with lock:
                ids.append(run_id)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 120
    assert history.count() == 120
    assert {r.status for r in history.list(limit=200)} == {OK}


# ---------------------------------------------------------------- old, new and broken files

V1_SCHEMA = """CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, page TEXT NOT NULL,
    model TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
    outputs TEXT NOT NULL DEFAULT '[]', metrics TEXT NOT NULL DEFAULT '{}',
    title TEXT NOT NULL DEFAULT '')"""


def test_a_version_1_database_is_migrated_and_keeps_its_runs(tmp_path):
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as conn:
        conn.execute(V1_SCHEMA)
        conn.execute("INSERT INTO runs (created, page, model, request, status, outputs, title)"
                     " VALUES (5.0, 'completions', 'old/model', ?, 'ok', ?, 'Old run')",
                     (json.dumps({"model": "old/model", "prompt": "An OLD Prompt"}),
                      json.dumps([{"index": 0, "text": "old text"}])))
        conn.execute("INSERT INTO runs (created, page, model, request, status) "
                     "VALUES (6.0, 'images', 'img', 'not json', 'failed')")
        conn.execute("PRAGMA user_version = 1")
    history = History(path)
    old = history.list(search="old prompt")
    assert [(r.title, r.provider, r.base_url, r.events, r.outputs) for r in old] == [
        ("Old run", "", "", [], [{"index": 0, "text": "old text"}])]
    assert history.get(old[0].id).events == []
    history.record(make_run("new run"))
    assert history.count() == 3
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_database_from_a_newer_playground_is_refused_and_untouched(tmp_path):
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, future TEXT)")
        conn.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    with pytest.raises(HistoryUnavailable, match="newer version of the playground"):
        History(path)
    assert path.read_bytes() == before


def test_a_corrupt_file_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "history.db"
    garbage = b"this is not sqlite at all\x00" * 200
    path.write_bytes(garbage)
    with pytest.raises(HistoryCorrupt, match="not a readable history database.*left untouched"):
        History(path)
    assert path.read_bytes() == garbage
