"""Shared fixtures: the local backend over real HTTP, the app under `streamlit run`, Chromium.

Every test talks to the built-in local backend over loopback; browser tests drive the real
app in Debian's Chromium through Playwright (never `playwright install`).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.app_server import ROOT, AppServer
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.canned_server import ByteServer, CannedServer
from tests.support.cases import CASE_PROPERTY

@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No real key and no real data folder ever reach a test."""
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def backend():
    from lib.local_backend import LocalBackend
    b = LocalBackend(port=0, tokens_per_second=0, control=True, preload=True).start()
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
            # A known failure (xfail) is reported as skipped: call it what it is.
            outcome = "xfail" if hasattr(report, "wasxfail") and report.skipped \
                else report.outcome
            if outcome != "passed" and worst != "failed":
                worst = outcome
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


@pytest.fixture(scope="module")
def byte_server():
    """A loopback server that sends whatever bytes a test sets as its ``body``."""
    server = ByteServer()
    yield server
    server.close()
