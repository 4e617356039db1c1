"""Where the playground keeps what it writes: history, presets, images. Never in the repo.

A checkout may be shared or committed; a user's runs and settings belong to the user, in
the place their platform keeps application data (XDG on Linux). Tests and demos point
``PLAYGROUND_DATA_DIR`` at a folder of their own.

What is written there (every prompt and output, a user's presets and pictures) is for the
user's account alone, even on a shared machine: every store creates its folders 0700 and
its files 0600 through the helpers below, whatever the process's umask. Folders that were
already there (``~/.local/share``, a folder named in the environment) are left as they are.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Mapping

DATA_DIR_ENV = "PLAYGROUND_DATA_DIR"
APP_NAME = "together-playground"
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The folder for the playground's files (not created here: the writer creates it)."""
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_NAME


def private_folder(path: Path) -> Path:
    """``path`` as a folder; each level this call creates is made 0700 (mkdir's mode is
    masked by the umask, so it is set again after). OSError when it cannot be a folder."""
    missing = []
    level = path
    while not level.exists():
        missing.append(level)
        level = level.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue  # another session made it meanwhile
        os.chmod(folder, PRIVATE_FOLDER)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file in a private folder, created empty and 0600 when missing (for a
    file another library opens, such as SQLite's, which then gives its side files the same
    mode). An existing file of ours is made 0600 too: older versions left it 0644."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        if path.stat().st_uid == os.getuid():
            os.chmod(path, PRIVATE_FILE)
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, data: bytes, temp_prefix: str) -> None:
    """Replace ``path`` with ``data`` as a private file, atomically: a reader never sees
    half a file, and a failed write leaves the old one and no temporary file behind."""
    private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), PRIVATE_FILE)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
