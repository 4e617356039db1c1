"""Where the playground keeps what it writes: history, presets, images. Never in the repo.

A checkout may be shared or committed; a user's runs and settings belong to the user, in
the place their platform keeps application data (XDG on Linux). Tests and demos point
``PLAYGROUND_DATA_DIR`` at a folder of their own.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

DATA_DIR_ENV = "PLAYGROUND_DATA_DIR"
APP_NAME = "together-playground"


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The folder for the playground's files (not created here: the writer creates it)."""
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_NAME
