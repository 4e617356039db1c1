"""App cold start against a hello-world Streamlit app, in the real browser.

Side by side in one run, starts interleaved (app, hello, app, hello, ...) so that load
drifting on a shared machine hits both alike. Each start is a fresh ``streamlit run``
(headless, no file watcher, no usage stats, its own free port and empty data folder, and
``PLAYGROUND_LOCAL_BACKEND_URL`` unset so the app trains and starts its embedded local
backend on its first script run, as it does for a user). For each start:

* health: from spawning the process to ``/_stcore/health`` answering ``ok``;
* first render: from spawning to the first page fully rendered in headless Chromium
  (script finished, no skeleton, and the page's own content visible: for the app the
  "Together Playground" heading and the model table's ``local/ngram-docs``);
* server RSS once that page is rendered (the streamlit process and any children);
* app only: the first visit of each page (``pages/*``) from the home page, by its
  sidebar link in the same browser session, until that page is fully rendered.

The browser is launched once beforehand: its own start-up is not the app's cost.

    python -m bench.cold_start [--repeats 3] [--quick]

No target is set by the issues: the figures are reported with their ratios app/hello.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.app_server import free_port  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_healthy  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cold_start.md"
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT_S", 120))


@dataclass(frozen=True)
class Mark:
    """Something on a page that shows its script has drawn it, and the state to wait for."""
    find: Callable
    state: str = "visible"


def heading(name: str) -> Mark:
    return Mark(lambda p: p.get_by_role("heading", name=name, exact=True))


# The app's pages in sidebar order, each with what marks it as drawn. Presenter hides the
# sidebar, so it comes last: nothing needs its link back home.
PAGES = (("Completions", heading("Completions")), ("Images", heading("Images")),
         ("Compare", heading("Compare")), ("Sweep", heading("Sweep")),
         ("History", heading("History")), ("Presenter", Mark(lambda p: p.get_by_label("Prompt"))))


@dataclass(frozen=True)
class Target:
    """What to start and what proves its first page is drawn."""
    name: str
    script: str
    marks: tuple[Mark, ...]
    with_pages: bool


APP = Target("app", "playground.py",
             (heading("Together Playground"),
              # The grid draws on a canvas; its cells exist only as a hidden accessibility
              # table, filled when the data has arrived: attached is what can be waited for.
              Mark(lambda p: p.locator("[data-testid='stDataFrame'] td",
                                       has_text="local/ngram-docs").first, "attached")),
             True)
HELLO = Target("hello", "bench/hello_app.py", (Mark(lambda p: p.get_by_text("hello", exact=True)),),
               False)


@dataclass
class Start:
    health_s: float
    render_s: float
    rss_mb: float
    pages_s: dict[str, float] = field(default_factory=dict)
    page_errors: dict[str, str] = field(default_factory=dict)


def child_env(data_dir: str) -> dict[str, str]:
    """This environment without a key or a backend URL: the app picks Local and starts it."""
    drop = {"TOGETHER_API_KEY", "PLAYGROUND_LOCAL_BACKEND_URL", "PLAYGROUND_DATA_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PLAYGROUND_DATA_DIR"] = data_dir
    return env


def server_rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


class PageError(Exception):
    """The page's script raised: Streamlit drew an exception box instead of the page."""


def wait_drawn(page, marks) -> None:
    """Script finished, no skeleton, and every mark there (so it is this page's run).

    Raises PageError with the box's first line if the script raised instead.
    """
    from playwright.sync_api import expect
    error = page.get_by_test_id("stException")
    for mark in marks:
        mark.find(page).or_(error).first.wait_for(state=mark.state, timeout=TIMEOUT_S * 1000)
        if error.count():
            raise PageError(error.first.inner_text().splitlines()[0])
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=TIMEOUT_S * 1000)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=TIMEOUT_S * 1000)


def visit_pages(page, url: str) -> tuple[dict[str, float], dict[str, str]]:
    """Seconds from clicking each page's sidebar link (on the home page) to it being drawn,
    and the error of each page whose script raised."""
    times, errors = {}, {}
    for name, mark in PAGES:
        link = page.locator(f"[data-testid='stSidebarNavLink'][href$='/{name}']")
        began = time.perf_counter()
        link.click()
        page.wait_for_url(f"**/{name}", timeout=TIMEOUT_S * 1000)
        try:
            wait_drawn(page, (mark,))
            times[name] = time.perf_counter() - began
        except PageError as exc:
            errors[name] = str(exc)
        if name != PAGES[-1][0]:
            page.locator("[data-testid='stSidebarNavLink']").first.click()
            page.wait_for_url(url.rstrip("/") + "/", timeout=TIMEOUT_S * 1000)
            wait_drawn(page, APP.marks)
    return times, errors


def cold_start(browser, target: Target) -> Start:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as data_dir:
        began = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", target.script, "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--global.developmentMode", "false"],
            cwd=ROOT, env=child_env(data_dir), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            wait_healthy(proc, url, TIMEOUT_S, interval=0.01)  # fine steps: it is timed
            health = time.perf_counter() - began
            page.goto(url, timeout=TIMEOUT_S * 1000)
            wait_drawn(page, target.marks)
            render = time.perf_counter() - began
            start = Start(health, render, server_rss_mb(proc.pid))
            if target.with_pages:
                start.pages_s, start.page_errors = visit_pages(page, url)
        finally:
            context.close()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return start


def median(values) -> float:
    return statistics.median(values)


def report(starts: dict[str, list[Start]]) -> str:
    app, hello = starts["app"], starts["hello"]
    repeats = len(app)
    rows = [("health ok, s", lambda s: s.health_s, "{:.2f}"),
            ("first page rendered, s", lambda s: s.render_s, "{:.2f}"),
            ("first page rendered after health ok, s", lambda s: s.render_s - s.health_s,
             "{:.2f}"),
            ("server RSS after load, MB", lambda s: s.rss_mb, "{:.0f}")]
    lines = [f"Median of {repeats} interleaved cold starts each (min–max in brackets).", "",
             "| measure | app | hello | app/hello |", "|---|---|---|---|"]
    for label, get, fmt in rows:
        a, h = [get(s) for s in app], [get(s) for s in hello]
        lines.append(f"| {label} | {fmt.format(median(a))} ({fmt.format(min(a))}–"
                     f"{fmt.format(max(a))}) | {fmt.format(median(h))} ({fmt.format(min(h))}–"
                     f"{fmt.format(max(h))}) | {median(a) / median(h):.1f}x |")
    lines += ["", "First visit of each page after the home page (same session, sidebar link "
              "clicked until the page is fully rendered):", "",
              "| page | median ms | min–max ms | failed |", "|---|---|---|---|"]
    for name, _ in PAGES:
        values = [s.pages_s[name] * 1000 for s in app if name in s.pages_s]
        errors = sorted({s.page_errors[name] for s in app if name in s.page_errors})
        if values:
            cells = f"{median(values):.0f} | {min(values):.0f}–{max(values):.0f}"
        else:
            cells = "– | –"
        failed = f"{len(app) - len(values)} of {len(app)}: {'; '.join(errors)}" if errors else "–"
        lines.append(f"| {name} | {cells} | {failed} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one start each (smoke run)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    from playwright.sync_api import sync_playwright
    starts: dict[str, list[Start]] = {"app": [], "hello": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(repeats):
                for target in (APP, HELLO):
                    s = cold_start(browser, target)
                    starts[target.name].append(s)
                    print(f"  {i + 1}/{repeats} {target.name:5}: health {s.health_s:.2f} s, "
                          f"rendered {s.render_s:.2f} s, RSS {s.rss_mb:.0f} MB"
                          + "".join(f", {k} {v * 1000:.0f} ms" for k, v in s.pages_s.items())
                          + "".join(f", {k} FAILED" for k in s.page_errors),
                          flush=True)
        finally:
            browser.close()
    table = report(starts)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table + "\n")
    return table


if __name__ == "__main__":
    main()
