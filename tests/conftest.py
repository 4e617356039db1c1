"""Shared fixtures: the local backend over real HTTP, the app under `streamlit run`, Chromium.

Every test talks to the built-in local backend over loopback; browser tests drive the real
app in Debian's Chromium through Playwright (never `playwright install`).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, wait_healthy
from tests.canned_server import CannedServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No real key and no real data folder ever reach a test."""
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def backend():
    from lib.local_backend import LocalBackend
    b = LocalBackend(port=0, tokens_per_second=0, control=True).start()
    yield b
    b.stop()


@pytest.fixture
def fresh_backend(backend):
    """The session backend with no faults queued and default pacing, before and after."""
    backend.clear_faults()
    backend.configure(tokens_per_second=0, framing="chunked", gzip=False, require_key=None,
                      pregenerate=False)
    yield backend
    backend.clear_faults()
    backend.configure(tokens_per_second=0, framing="chunked", gzip=False, require_key=None,
                      pregenerate=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run playground.py` in a child process, pointed at a local backend."""

    def __init__(self, backend_url: str, data_dir: Path, log_path: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        child_env = {k: v for k, v in os.environ.items() if k != "TOGETHER_API_KEY"}
        child_env.update({"PLAYGROUND_LOCAL_BACKEND_URL": backend_url,
                          "PLAYGROUND_DATA_DIR": str(data_dir)}, **(env or {}))
        self.log = open(log_path, "wb")  # a file, not a pipe: a full pipe would stall the app
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "playground.py",
             "--server.port", str(self.port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             "--global.developmentMode", "false"],
            cwd=ROOT, env=child_env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_healthy(self.proc, self.url)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def app_server(backend, tmp_path_factory):
    server = AppServer(backend.base_url, tmp_path_factory.mktemp("appdata"),
                       tmp_path_factory.mktemp("applog") / "streamlit.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the test command installs Debian's chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = ROOT / "tests" / "screenshots"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


CASE_PROPERTY = "case"


def pytest_terminal_summary(terminalreporter):
    """A table of the tests that named their case with ``record_property("case", ...)``
    (the fault matrix), with each one's real outcome: a failure in any phase is a FAIL."""
    outcomes: dict[str, tuple[str, str]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            case = dict(getattr(report, "user_properties", ())).get(CASE_PROPERTY)
            if case is None or not hasattr(report, "outcome"):
                continue
            _, worst = outcomes.get(report.nodeid, (case, "passed"))
            if report.outcome != "passed" and worst != "failed":
                worst = report.outcome
            outcomes[report.nodeid] = (case, worst)
    if not outcomes:
        return
    width = max(len(case) for case, _ in outcomes.values())
    terminalreporter.section("cases")
    for case, outcome in sorted(outcomes.values()):
        label = {"passed": "PASS", "failed": "FAIL"}.get(outcome, outcome.upper())
        terminalreporter.write_line(f"{case:<{width}}  {label}")


@pytest.fixture
def canned():
    """Start canned loopback servers (``canned(routes)``); all are stopped afterwards."""
    servers = []

    def start(routes):
        servers.append(CannedServer(routes))
        return servers[-1]
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def local(fresh_backend, monkeypatch):
    """The fresh backend, with the app under AppTest pointed at it and its log cleared."""
    monkeypatch.setenv("PLAYGROUND_LOCAL_BACKEND_URL", fresh_backend.base_url)
    fresh_backend.clear_requests()
    return fresh_backend


def open_page(page_file: str, query: dict | None = None):
    """A page under AppTest (path relative to tests/), first run done and clean."""
    from streamlit.testing.v1 import AppTest
    app = AppTest.from_file(str(ROOT / "tests" / page_file), default_timeout=30)
    app.query_params.update(query or {})
    app.run()
    assert not app.exception, app.exception
    return app
