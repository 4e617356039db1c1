"""The app under `streamlit run` in a child process, and a free loopback port: used by the
browser tests and the benchmarks alike."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.browser import wait_healthy

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    """A loopback port nothing listens on once this returns."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run playground.py` in a child process, pointed at a local backend."""

    def __init__(self, backend_url: str, data_dir: Path, log_path: Path, env: dict | None = None,
                 *, port: int | None = None, args: tuple[str, ...] = ()):
        """``port``: one chosen beforehand (a sign-in redirect URL must name it); ``args``:
        more `streamlit run` options, such as ``--secrets.files``."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        child_env = {k: v for k, v in os.environ.items() if k != "TOGETHER_API_KEY"}
        child_env.update({"PLAYGROUND_LOCAL_BACKEND_URL": backend_url,
                          "PLAYGROUND_DATA_DIR": str(data_dir)}, **(env or {}))
        self.log = open(log_path, "wb")  # a file, not a pipe: a full pipe would stall the app
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "playground.py",
             "--server.port", str(self.port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             "--global.developmentMode", "false", *args],
            cwd=ROOT, env=child_env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_healthy(self.proc, self.url)

    def stop(self) -> None:
        stop_child(self.proc, self.log)


def stop_child(proc: subprocess.Popen, log) -> None:
    """End a test's server process (SIGTERM, then SIGKILL after 10 s) and close its log."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
