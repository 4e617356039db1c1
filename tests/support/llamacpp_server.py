"""llama.cpp's server (``python -m llama_cpp.server`` from llama-cpp-python) in a child
process, serving the tests' own tiny model (tests/support/tiny_gguf.py) on loopback.

Run with the package's defaults where they matter to a client: one model slot, requests
served one at a time, and ``interrupt_requests`` on (a waiting request ends the stream
being sent). ``n_ctx`` is the model's own 512 and ``seed`` fixed, so a run without a seed
in the request is repeatable from a fresh server.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.app_server import free_port, stop_child
from tests.support.tiny_gguf import N_CTX, SEED

MODEL = "tiny-llama"
MISSING = ("llama-cpp-python is not installed (make test installs it from "
           "requirements-dev.txt; the first build from source takes about 15 minutes)")


def available() -> bool:
    """Whether llama_cpp and gguf can be imported here (without loading the library)."""
    return all(importlib.util.find_spec(name) for name in ("llama_cpp", "gguf"))


class LlamaCppServer:
    """The server on a free port; ``base_url`` ends in /v1, as the Custom provider wants."""

    def __init__(self, model_path: Path, log_path: Path, timeout_s: float = 120.0):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        self.log = open(log_path, "wb")  # a file, not a pipe: a full pipe would stall it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
             "--model_alias", MODEL, "--host", "127.0.0.1", "--port", str(self.port),
             "--n_ctx", str(N_CTX), "--seed", str(SEED), "--n_threads", "1",
             "--n_threads_batch", "1"],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(timeout_s)
        except RuntimeError:
            self.stop()
            raise

    def _wait_ready(self, timeout_s: float) -> None:
        """Until /v1/models answers 200; at once if the process died (its log says why)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}: "
                                   f"{self.log_tail()}")
            try:
                if requests.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"llama_cpp.server did not answer /v1/models within {timeout_s:.0f} s:"
                           f" {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        stop_child(self.proc, self.log)

