"""Every run, kept in a SQLite file in the user's data folder (the way ``llm`` logs prompts).

A run is recorded when it starts, as "failed: interrupted", and updated when it ends, is
stopped or fails. So a crash half-way still leaves an honest row, and a run that worked
is never lost because the page died while drawing it.

Each call opens its own short-lived connection: Streamlit runs every session in its own
thread, and SQLite connections must not be shared across threads. WAL lets the History
page read while another session writes; a writer that stays locked past the timeout gets
``HistoryUnavailable`` (nothing already written is touched).

Everything stored goes through ``lib.api.redact`` first, so the API key cannot end up on disk
even if a caller passed it in a body, an error text or an output.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from lib.api.redact import redact
from lib.api.untrusted import integer, json_tree, number, text
from lib.background import FAILED, OK, STOPPED
from lib.saved.datadir import data_dir, private_file, private_folder
from lib.saved.owner import LOCAL_OWNER, check_owner

STATUSES = (OK, STOPPED, FAILED)
INTERRUPTED = "Interrupted: the run did not finish (the playground stopped or crashed)."
UNREADABLE = "This row is unreadable"
TITLE_LENGTH = 80
FILE_NAME = "history.db"


class HistoryError(Exception):
    """The history cannot do what was asked; the message says why, in plain words."""


class HistoryUnavailable(HistoryError):
    """The database is locked, unwritable, or from a newer playground; try again later."""


class HistoryCorrupt(HistoryError):
    """The file is not a readable history database. It is left exactly as it was."""


@dataclass
class Run:
    """One generation as it was asked for and as it came out.

    ``request`` is the JSON body exactly as sent (never headers, so never the key).
    ``outputs`` holds one dict per choice or image (``index``, ``text``/``file``, ``seed``,
    ``finish_reason``, ...), ``metrics`` ttft, tokens/s, usage, cost, latency, and
    ``events`` the stream as ``(seconds since start, choice index, text)`` for replay.
    """

    page: str
    model: str
    request: dict[str, Any]
    provider: str = ""
    base_url: str = ""
    status: str = FAILED
    error: str | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[float, int, str]] = field(default_factory=list)
    title: str = ""
    created: float = field(default_factory=time.time)
    id: int | None = None
    # Set when reading a row whose stored JSON is cut off or of the wrong shape: the run is
    # shown failed with the reason in ``error``, and cannot be restored or replayed.
    unreadable: bool = False

    def __post_init__(self) -> None:
        # A run recorded as it starts reads "failed: interrupted" until it is updated.
        if self.status == FAILED and self.error is None:
            self.error = INTERRUPTED


def default_path() -> Path:
    return data_dir() / FILE_NAME


def preview(prompt: Any) -> str:
    """A prompt squeezed onto one short line, for lists and titles."""
    text = " ".join(str(prompt or "").split())
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH - 1] + "…"


# Columns whose values are JSON documents; all others are stored as they are.
_JSON_COLUMNS = {"request", "outputs", "metrics", "events"}
_UPDATABLE = {f.name for f in fields(Run)} - {"id", "created", "unreadable"}


class History:
    """The run log at ``path`` (default: ``history.db`` in the user's data folder), as
    ``owner`` sees it: every row it writes is theirs, and it reads, changes and deletes only
    theirs. Another owner's run id is answered exactly like one that does not exist."""

    def __init__(self, path: str | Path | None = None, *, owner: str = LOCAL_OWNER,
                 timeout: float = 5.0):
        self.path = Path(path) if path is not None else default_path()
        self.owner = check_owner(owner)
        self.timeout = timeout
        try:
            private_folder(self.path.parent)
        except OSError as exc:
            raise HistoryUnavailable(
                f"Cannot create the history folder {self.path.parent}: {exc.strerror}.") from None
        try:
            private_file(self.path)  # before SQLite creates it 0644, and its -wal/-shm alike
        except OSError as exc:
            raise HistoryUnavailable(
                f"Cannot create the history file {self.path}: {exc.strerror}.") from None
        with self._connect() as conn:
            _migrate(conn, self.path)

    # ------------------------------------------------------------ writing

    def record(self, run: Run, *, secret: str | None = None) -> int:
        """Store a new run (credentials scrubbed) and return its id."""
        _check_status(run.status)
        row = _to_row(run, secret)
        row["owner"] = self.owner
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._connect() as conn:
            cur = conn.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", list(row.values()))
            return int(cur.lastrowid)

    def update(self, run_id: int, *, secret: str | None = None, **changes: Any) -> bool:
        """Change fields of a recorded run; False when it no longer exists (deleted meanwhile)."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise TypeError(f"cannot update {', '.join(sorted(unknown))}; "
                            f"updatable: {', '.join(sorted(_UPDATABLE))}")
        if "status" in changes:
            _check_status(changes["status"])
            if changes["status"] != FAILED:
                changes.setdefault("error", None)  # drop the "interrupted" of the start
        if not changes:
            return self.get(run_id) is not None
        clean = {name: redact(value, secret) for name, value in changes.items()}
        row = {name: _column(name, value) for name, value in clean.items()}
        if "request" in clean:
            row["search"] = _search_text(clean["request"])
        sets = ", ".join(f"{name} = ?" for name in row)
        with self._connect() as conn:
            cur = conn.execute(f"UPDATE runs SET {sets} WHERE id = ? AND owner = ?",
                               [*row.values(), run_id, self.owner])
            return cur.rowcount > 0

    def delete(self, run_id: int) -> bool:
        with self._connect() as conn:
            return conn.execute("DELETE FROM runs WHERE id = ? AND owner = ?",
                                (run_id, self.owner)).rowcount > 0

    def delete_all(self) -> int:
        """Forget every run of this owner; returns how many there were."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM runs WHERE owner = ?", (self.owner,)).rowcount

    def assign(self, to_owner: str) -> int:
        """Give every run of this owner to ``to_owner`` (the admin command that hands
        personal-mode runs to a signed-in person); returns how many moved."""
        to_owner = check_owner(to_owner)
        with self._connect() as conn:
            return conn.execute("UPDATE runs SET owner = ? WHERE owner = ?",
                                (to_owner, self.owner)).rowcount

    # ------------------------------------------------------------ reading

    def get(self, run_id: int) -> Run | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM runs WHERE id = ? AND owner = ?",
                               (run_id, self.owner)).fetchone()
        return _from_row(row) if row else None

    def list(self, search: str | None = None, model: str | None = None,
             page: str | None = None, limit: int = 100, offset: int = 0) -> list[Run]:
        """Runs newest first, filtered by prompt text (case-insensitive), model and page.

        ``events`` are not loaded here (they can be long, and only replay needs them):
        ``get`` returns the whole run.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be 0 or more, got {limit} and {offset}")
        where, args = _filters(self.owner, search, model, page)
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_SELECT_LIGHT} FROM runs {where} ORDER BY created DESC, id DESC "
                f"LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [_from_row(r) for r in rows]

    def count(self, search: str | None = None, model: str | None = None,
              page: str | None = None) -> int:
        """How many runs ``list`` would page through with the same filters."""
        where, args = _filters(self.owner, search, model, page)
        with self._connect() as conn:
            return conn.execute(f"SELECT count(*) FROM runs {where}", args).fetchone()[0]

    def models(self) -> list[str]:
        return self._distinct("model")

    def pages(self) -> list[str]:
        return self._distinct("page")

    def _distinct(self, column: str) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute(f"SELECT DISTINCT {column} FROM runs WHERE owner = ? "
                                f"ORDER BY {column}", (self.owner,))
            return [r[0] for r in rows]

    # ------------------------------------------------------------ plumbing

    def _connect(self) -> "_Connection":
        return _Connection(self.path, self.timeout)


class _Connection:
    """One connection for one call: commits on success, rolls back on error, always closes,
    and turns SQLite's errors into the history's own, each naming the file."""

    def __init__(self, path: Path, timeout: float):
        self.path = path
        self.timeout = timeout
        self.conn: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None
        # A file can hold bytes that are not UTF-8; decoding strictly would fail every list.
        self.conn.text_factory = _lenient_text
        self.conn.execute("BEGIN")  # deferred: takes no lock until the first statement
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        conn = self.conn
        assert conn is not None
        with closing(conn):
            try:
                if exc_type is None:
                    conn.execute("COMMIT")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error as commit_error:
                raise _translate(commit_error, self.path) from None
        if isinstance(exc, sqlite3.Error):
            raise _translate(exc, self.path) from None


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _translate(exc: sqlite3.Error, path: Path) -> HistoryError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return HistoryUnavailable(
            f"The history database {path} is busy (another playground or tool is writing to "
            "it). Runs already recorded are safe; try again in a moment.")
    if isinstance(exc, sqlite3.DatabaseError) and (
            "not a database" in text or "malformed" in text or "corrupt" in text):
        return HistoryCorrupt(
            f"{path} is not a readable history database ({text}). It was left untouched; "
            "move it aside (or point PLAYGROUND_DATA_DIR elsewhere) to start a new history.")
    return HistoryUnavailable(f"The history database {path} cannot be used: {text}.")


# ---------------------------------------------------------------- rows

_COLUMNS = ("id", "created", "page", "model", "provider", "base_url", "request", "status",
            "error", "outputs", "metrics", "events", "title")
_SELECT = ", ".join(_COLUMNS)
# The same columns with an empty event list in place of the stored one, for listings.
_SELECT_LIGHT = ", ".join("'[]'" if c == "events" else c for c in _COLUMNS)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")


def _column(name: str, value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if name in _JSON_COLUMNS else value


def _search_text(request: Any) -> str:
    """What search matches against: the prompt, case-folded once on the way in so that a
    search is a plain substring test (no LIKE wildcards to escape, non-ASCII case too)."""
    return str(_prompt(request) or "").casefold()


def _prompt(request: Any) -> Any:
    return request.get("prompt") if isinstance(request, dict) else None


def _to_row(run: Run, secret: str | None) -> dict[str, Any]:
    clean = {name: redact(getattr(run, name), secret) for name in _UPDATABLE}
    row = {name: _column(name, value) for name, value in clean.items()}
    row["title"] = clean["title"] or preview(_prompt(clean["request"]))
    row["created"] = float(run.created)
    row["search"] = _search_text(clean["request"])
    return row


# The latest time datetime.fromtimestamp shows (the last second of year 9999).
_LATEST = 253_402_300_799.0
# Far above the 128 choices one request can ask for; a replay draws one card for each.
_MAX_EVENT_INDEX = 1024
_TEXT_COLUMNS = ("page", "model", "provider", "base_url", "status", "title")


def _from_row(row: tuple) -> Run:
    """The row as a Run. One that another tool cut off or mangled comes back ``unreadable``,
    failed, with what could be read: one bad row never hides the others behind a traceback."""
    values = dict(zip(_COLUMNS, row))
    problems: list[str] = []
    columns = {name: _text_column(name, values[name], problems) for name in _TEXT_COLUMNS}
    columns.update({name: _json_column(name, values[name], problems) for name in _SHAPES})
    created = number(values["created"])
    if created is None or not 0 <= created <= _LATEST:
        problems.append("the created column is not a time")
        created = 0.0
    error = values["error"]
    if error is not None:
        error = _text_column("error", error, problems)
    if problems:
        columns["status"] = FAILED
        error = f"{UNREADABLE}: {'; '.join(problems)}."
    return Run(id=values["id"], created=created, error=error, unreadable=bool(problems),
               **columns)


def _text_column(name: str, value: Any, problems: list[str]) -> str:
    if isinstance(value, str):
        return text(value)
    problems.append(f"the {name} column is not text")
    return ""


def _object(item: Any) -> dict | None:
    return item if isinstance(item, dict) else None


def _event(item: Any) -> tuple[float, int, str] | None:
    """A replay event ``[seconds, choice index, text]``, or None if it is not one."""
    if not isinstance(item, list) or len(item) != 3 or not isinstance(item[2], str):
        return None
    seconds, index = number(item[0]), integer(item[1])
    if seconds is None or index is None or not 0 <= index < _MAX_EVENT_INDEX:
        return None
    return seconds, index, item[2]


# What each JSON column holds: its type and, for lists, what each item must be.
_SHAPES: dict[str, tuple[type, Callable[[Any], Any] | None]] = {
    "request": (dict, None), "outputs": (list, _object), "metrics": (dict, None),
    "events": (list, _event)}


def _json_column(name: str, raw: Any, problems: list[str]) -> Any:
    """One JSON column parsed and checked, strings without lone surrogates and numbers
    finite (or None); on any problem it is noted in ``problems`` and comes back empty."""
    kind, item_check = _SHAPES[name]
    try:
        value = json_tree(json.loads(raw))
    except (TypeError, ValueError, RecursionError):
        problems.append(f"the {name} column is cut off or not JSON")
        return kind()
    if not isinstance(value, kind):
        problems.append(f"the {name} column holds {type(value).__name__}, not {kind.__name__}")
        return kind()
    if item_check is None:
        return value
    items = [item_check(item) for item in value]
    if None in items:
        problems.append(f"the {name} column holds an item of the wrong shape")
        return kind()
    return items


def _filters(owner: str, search: str | None, model: str | None, page: str | None
             ) -> tuple[str, list[Any]]:
    clauses, args = ["owner = ?"], [owner]
    if search and search.strip():
        clauses.append("instr(search, ?) > 0")
        args.append(search.strip().casefold())
    if model:
        clauses.append("model = ?")
        args.append(model)
    if page:
        clauses.append("page = ?")
        args.append(page)
    return "WHERE " + " AND ".join(clauses), args


# ---------------------------------------------------------------- schema

def _v1(conn: sqlite3.Connection) -> None:
    """The first schema: one row per run, JSON documents in text columns."""
    conn.execute("""CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created REAL NOT NULL,
        page TEXT NOT NULL,
        model TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        outputs TEXT NOT NULL DEFAULT '[]',
        metrics TEXT NOT NULL DEFAULT '{}',
        title TEXT NOT NULL DEFAULT '')""")
    conn.execute("CREATE INDEX runs_created ON runs (created)")


def _v2(conn: sqlite3.Connection) -> None:
    """Provider and base URL (which server answered), stream events for replay, and a
    case-folded prompt column for search, filled in for the runs already there."""
    for column in ("provider TEXT NOT NULL DEFAULT ''", "base_url TEXT NOT NULL DEFAULT ''",
                   "events TEXT NOT NULL DEFAULT '[]'", "search TEXT NOT NULL DEFAULT ''"):
        conn.execute(f"ALTER TABLE runs ADD COLUMN {column}")
    rows = conn.execute("SELECT id, request FROM runs").fetchall()
    for run_id, request in rows:
        conn.execute("UPDATE runs SET search = ? WHERE id = ?",
                     (_search_text(_loads_or_empty(request)), run_id))
    conn.execute("CREATE INDEX runs_model ON runs (model)")


def _loads_or_empty(raw: Any) -> Any:
    """A request for the search column, or {} when it cannot be read."""
    return _json_column("request", raw, [])


def _v3(conn: sqlite3.Connection) -> None:
    """Whose run each row is. Rows already there were written in personal mode: they
    belong to the local owner, whom no signed-in person is, until an admin assigns them."""
    conn.execute(f"ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'")
    conn.execute("CREATE INDEX runs_owner_created ON runs (owner, created)")


# MIGRATIONS[i] takes a database from schema version i to i + 1 (user_version 0 = empty).
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
SCHEMA_VERSION = len(MIGRATIONS)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the file up to SCHEMA_VERSION inside the caller's transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryUnavailable(
            f"{path} was written by a newer version of the playground (history schema "
            f"{version}; this one knows up to {SCHEMA_VERSION}). It was left untouched; "
            "upgrade the playground or point PLAYGROUND_DATA_DIR elsewhere.")
    if version == SCHEMA_VERSION:
        return
    conn.execute("COMMIT")
    # WAL can only be switched outside a transaction; it sticks to the file once set.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    # Another thread or process may have migrated while we waited for the write lock.
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for step in MIGRATIONS[version:]:
        step(conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
