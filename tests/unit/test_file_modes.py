"""What the playground writes is private: folders 0700, files 0600, whatever the umask.

History holds every prompt and output, presets a user's settings, the image store their
pictures; on a shared machine none of it is for other accounts. Each store is used the
way the app uses it (default paths under ``PLAYGROUND_DATA_DIR``), with a permissive
umask (0o022, the usual one) and an open one (0o000).
"""
from __future__ import annotations

import io
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from lib.images.store import ImageStore
from lib.saved import History, Preset, PresetStore, Run


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """A data folder two levels below an existing shared one (0755, like ~/.local/share),
    so the stores must create both levels, and must leave the shared folder as it was."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    folder = shared / "home" / "data"
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(folder))
    yield folder
    assert mode(shared) == 0o755


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private(*paths: Path) -> None:
    modes = {str(p): oct(mode(p)) for p in paths}
    assert modes == {str(p): oct(0o700 if p.is_dir() else 0o600) for p in paths}


def test_the_history_database_and_its_side_files_are_private(umask, data):
    history = History()
    history.record(Run(page="completions", model="m", request={"prompt": "private"}))
    # A reader holding the database open keeps SQLite's -wal and -shm files in place.
    with closing(sqlite3.connect(history.path)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM runs").fetchone()
        history.record(Run(page="completions", model="m", request={"prompt": "again"}))
        side = [Path(f"{history.path}-wal"), Path(f"{history.path}-shm")]
        assert all(p.exists() for p in side)
        assert_private(data.parent, data, history.path, *side)


def test_presets_are_private(umask, data):
    store = PresetStore()
    store.save(Preset("Mine", "completions", {"temperature": 0.3}))
    assert_private(data.parent, data, store.path)


def test_stored_images_are_private(umask, data):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    store = ImageStore()
    key = store.put(buffer.getvalue(), "png")
    assert_private(data.parent, data, store.root, store.path(key))



def test_a_history_file_made_before_modes_were_private_is_made_private(umask, data):
    """A database an older playground left 0644 stops being readable by others on open."""
    data.mkdir(parents=True)
    old = data / "history.db"
    History(old)
    os.chmod(old, 0o644)
    History(old).record(Run(page="completions", model="m", request={"prompt": "private"}))
    assert mode(old) == 0o600
