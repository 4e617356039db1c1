"""Prompt lab: 50 rows × 4 variants at the local backend's realistic pace (60 tok/s).

Two figures (issue 15):

* **wall time against the ideal.** The lab's run (``lib.lab.plan.LabRun``, the text
  sweep's bounded pool) in this process against the backend: its wall time beside the
  ideal the issue names, the slowest cell × cells ÷ pool size, and beside the tighter
  floor of every cell's time ÷ pool size (a pool cannot beat the work it has).
* **browser-side cost while the grid fills, against drawing the finished grid once.**
  The page in ``streamlit run`` and headless Chromium: the lab opened from its share link
  and run, its grid filling as cells land; then, in a fresh session, the finished grid
  restored from the history and drawn once. Browser CPU (every Chromium process, psutil) and the
  app's server CPU for each, from the click to the page idle.

    python -m bench.lab_grid [--quick]
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from bench.completions_render import browser_cpu  # noqa: E402
from bench.report import publish  # noqa: E402
from lib.api import Client  # noqa: E402
from lib.lab import inputs, plan as lab_plan  # noqa: E402
from lib.lab.graders import MAX_WORDS, Grader  # noqa: E402
from lib.lab.setup import LabSetup, VariantSetup  # noqa: E402
from lib.local_backend import LocalBackend  # noqa: E402
from lib.saved import sharelink  # noqa: E402
from tests.support.app_server import AppServer  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, button, wait_for_app  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "lab_grid.md"
PACE = 60               # tokens/s: the local backend's default, a reading-speed model
VARIANTS = 4
TEMPLATE = "Explain {topic} in one line:"
TEMPERATURES = (0.0, 0.5, 0.9, 1.3)
TIMEOUT_MS = 300_000


@dataclass
class LibRun:
    cells: int
    wall_s: float
    slowest_s: float
    busy_s: float       # every cell's latency added up

    @property
    def ideal_s(self) -> float:
        return self.slowest_s * self.cells / lab_plan.MAX_WORKERS

    @property
    def floor_s(self) -> float:
        return self.busy_s / lab_plan.MAX_WORKERS


@dataclass
class BrowserRun:
    what: str
    seconds: float
    browser_cpu_s: float
    server_cpu_s: float


def topics(rows: int) -> list[str]:
    return [f"topic {i}" for i in range(rows)]


def lab_setup(rows: int, max_tokens: int) -> LabSetup:
    table = inputs.check_rows([{"topic": t} for t in topics(rows)], ["topic"])
    variants = tuple(VariantSetup(None, {"model": "local/ngram-docs", "max_tokens": max_tokens,
                                         "temperature": t, "seed": 7})
                     for t in TEMPERATURES[:VARIANTS])
    return LabSetup(TEMPLATE, table, variants, (Grader(MAX_WORDS, number=20),))


def lib_run(backend: LocalBackend, rows: int, max_tokens: int) -> LibRun:
    plan = lab_plan.make_plan(lab_setup(rows, max_tokens))
    run = lab_plan.LabRun(lambda: Client(base_url=backend.base_url), plan).start()
    run.join()
    results = run.results()
    latencies = [r.latency_s or 0.0 for r in results]
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"{len(failed)} cells failed, e.g. {failed[0]}")
    return LibRun(len(results), run.elapsed, max(latencies), sum(latencies))


def app_cpu(app: AppServer) -> float:
    import psutil
    t = psutil.Process(app.proc.pid).cpu_times()
    return t.user + t.system


def measured(what: str, app: AppServer, act, done) -> BrowserRun:
    """CPU of the browser and the app from ``act()`` until ``done()`` has returned."""
    browser0, server0, began = browser_cpu(), app_cpu(app), time.monotonic()
    act()
    done()
    return BrowserRun(what, time.monotonic() - began, browser_cpu() - browser0,
                      app_cpu(app) - server0)


def browser_runs(backend: LocalBackend, rows: int, max_tokens: int) -> list[BrowserRun]:
    cells = rows * VARIANTS
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        app = AppServer(backend.base_url, Path(folder) / "data", Path(folder) / "app.log")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{app.url}/Prompt_lab?{lab_link(rows, max_tokens)}")
            wait_for_app(page)
            set_up(page, rows)
            fill = measured(f"grid fills as {cells} cells land", app,
                            lambda: button(page, "Run lab").click(),
                            lambda: finished(page, r"requests in [\d.]+ s"))
            other = browser.new_page(viewport={"width": 1280, "height": 720})
            other.set_default_timeout(TIMEOUT_MS)
            other.goto(f"{app.url}/Prompt_lab")
            wait_for_app(other)
            other.get_by_role("button", name="Earlier").click()
            once = measured(f"finished grid of {cells} cells drawn once (restored)", app,
                            lambda: other.get_by_role("button", name="Restore",
                                                      exact=True).click(),
                            lambda: finished(other, r"requests · restored"))
        finally:
            browser.close()
            app.stop()
    return [fill, once]


def lab_link(rows: int, max_tokens: int) -> str:
    """The lab as the page's own share link carries it (4 variants, max tokens set)."""
    params = sharelink.encode_state({"page": "lab", "values": {}, "pinned": [],
                                     "extra": {"lab": lab_setup(rows, max_tokens).to_json()}})
    return urlencode(params)


def set_up(page, rows: int) -> None:
    """The lab opened from its link, and the confirm a big lab asks for ticked."""
    cells = rows * VARIANTS
    expect(page.get_by_text(re.compile(rf"= {cells} requests"))).to_be_visible()
    if cells > lab_plan.CONFIRM_ABOVE:
        page.get_by_text(f"Yes, send {cells} requests").click()
        wait_for_app(page)


def finished(page, caption: str) -> None:
    expect(page.get_by_text(re.compile(caption))).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(page)


def report(lib: LibRun, runs: list[BrowserRun], rows: int, max_tokens: int) -> str:
    fill, once = runs
    lines = [f"# Prompt lab: {rows} rows × {VARIANTS} variants at {PACE} tok/s", "",
             f"Each cell: `local/ngram-docs`, at most {max_tokens} tokens, one of temperatures "
             f"{', '.join(map(str, TEMPERATURES[:VARIANTS]))}; pool of "
             f"{lab_plan.MAX_WORKERS} requests at a time.", "",
             "## Wall time against the ideal", "",
             "| cells | wall | ideal: slowest × cells ÷ pool | wall / ideal | "
             "floor: all cell time ÷ pool | wall / floor |", "|---|---|---|---|---|---|",
             f"| {lib.cells} | {lib.wall_s:.1f} s | {lib.ideal_s:.1f} s "
             f"(slowest {lib.slowest_s * 1000:.0f} ms) | {lib.wall_s / lib.ideal_s:.2f} | "
             f"{lib.floor_s:.1f} s | {lib.wall_s / lib.floor_s:.2f} |", "",
             "## Browser-side cost: filling vs drawing once", "",
             "| what | seconds | browser CPU | browser cores (CPU ÷ seconds) | app server CPU |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.what} | {r.seconds:.1f} s | {r.browser_cpu_s:.2f} s | "
              f"{r.browser_cpu_s / r.seconds:.2f} | {r.server_cpu_s:.2f} s |" for r in runs]
    ratio = fill.browser_cpu_s / once.browser_cpu_s if once.browser_cpu_s else float("inf")
    lines += ["", f"Filling costs the browser {ratio:.1f}× drawing the finished grid once "
              f"({fill.browser_cpu_s:.2f} s against {once.browser_cpu_s:.2f} s of CPU), "
              f"spread over {fill.seconds:.0f} s of run. The browser cores column tells a page "
              "that costs the browser while it is running (whatever it draws) from frames that "
              "cost it more than drawing the grid."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 rows, 16 tokens (smoke run)")
    args = parser.parse_args(argv)
    rows, max_tokens = (10, 16) if args.quick else (50, 32)
    backend = LocalBackend(port=0, tokens_per_second=PACE).start()
    try:
        lib = lib_run(backend, rows, max_tokens)
        runs = browser_runs(backend, rows, max_tokens)
    finally:
        backend.stop()
    return publish(RESULTS, report(lib, runs, rows, max_tokens))


if __name__ == "__main__":
    main()
