"""App cold start against a hello-world Streamlit app, in the real browser.

Side by side in one run, starts interleaved (app, hello, app, hello, ...) so that load
drifting on a shared machine hits both alike. Each start is a fresh ``streamlit run``
(headless, no file watcher, no usage stats, its own free port and empty data folder, and
``PLAYGROUND_LOCAL_BACKEND_URL`` unset so the app trains and starts its embedded local
backend on its first script run, as it does for a user). For each start:

* health: from spawning the process to ``/_stcore/health`` answering ``ok``;
* first render: from spawning to the first page fully rendered in headless Chromium
  (script finished, no skeleton, and the page's own content visible: for the app the
  "Together Playground" heading and the model table's ``local/ngram-docs`` cell);
* server RSS once that page is rendered (the streamlit process and any children);
* app only: the first visit of each page (``pages/*``) from the home page, by its
  sidebar link in the same browser session, until that page is fully rendered; then a
  second visit of Completions, Images and Compare the same way;
* app only: server RSS once every page has been visited, and again after each of
  ``IDLE_SESSIONS`` further browser sessions has opened the home page and left it idle;
* the page-switch floor: the same visits of Completions, Images and Compare on a bare
  multipage app (hello's home page) whose pages hold a title and as many widgets of each
  kind as the app's page drew (``bench/bare_widgets_app.py``), counted on the app's first
  start. What Streamlit itself takes to switch to a page of that many widgets.
* the cold-start floor: the app's home page drawn by Streamlit alone, the same elements in
  the same places with fixed words and no playground code (``bench/floor_home.py``). What
  Streamlit and the browser themselves take to open a first page of that many elements.

Each start gets an empty data folder holding only the local models' cache, primed once
before the first start: every start but a machine's very first finds it there.
The browser is launched once beforehand: its own start-up is not the app's cost.

    python -m bench.cold_start [--repeats 3] [--quick]

Targets (issue 14): home interactive <= 1.2x hello's cold start; first visit of
Completions, Images and Compare each <= 0.4x hello's cold start, a second visit <= 0.1x;
RSS after every page <= 2x hello's, each further idle session <= 5 MB more.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.app_server import free_port  # noqa: E402
from bench.bare_widgets_app import widget_counts  # noqa: E402
from bench.floor_home import write_floor_app  # noqa: E402
from bench.report import publish, repeats as bench_repeats  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_healthy  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cold_start.md"
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT_S", 120))
IDLE_SESSIONS = 3
TARGET_START, TARGET_FIRST, TARGET_SECOND = 1.2, 0.4, 0.1   # x hello's cold start
TARGET_RSS, TARGET_SESSION_MB = 2.0, 5.0
NAV = "[data-testid='stSidebar']"   # its links: the page menu, Home first
SWITCHED = ("Completions", "Images", "Compare")   # the pages the switch targets name


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
         ("Prompt_lab", heading("Prompt lab")), ("History", heading("History")),
         ("Presenter", Mark(lambda p: p.get_by_label("Prompt"))))


@dataclass(frozen=True)
class Target:
    """What to start (``script`` in ``folder``), what proves its first page is drawn, and
    which of its pages to visit (none, every page, or only the switched ones)."""
    name: str
    script: str
    marks: tuple[Mark, ...]
    with_pages: bool
    folder: Path = ROOT


APP = Target("app", "playground.py",
             (heading("Together Playground"),
              Mark(lambda p: p.locator("[data-testid='stMarkdown'] td",
                                       has_text="local/ngram-docs").first)),
             True)
HELLO = Target("hello", "bench/hello_app.py", (Mark(lambda p: p.get_by_text("hello", exact=True)),),
               False)
BARE_PAGE = """import sys
sys.path.insert(0, {root!r})
import streamlit as st
from bench.bare_widgets_app import KINDS
st.set_page_config(layout="wide")
st.title({name!r})
for kind, count in {counts!r}.items():
    for i in range(count):
        KINDS[kind](i)
"""


def bare_app(folder: Path, counts: dict[str, dict[str, int]]) -> Target:
    """Hello's page as home, and a page per switched page holding only a title and the
    widgets ``counts`` names for it: the floor of a switch to a page of that many widgets."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / HELLO.script, folder / "home.py")
    for name, widgets in counts.items():
        (folder / "pages" / f"{name}.py").write_text(
            BARE_PAGE.format(root=str(ROOT), name=name, counts=widgets))
    return Target("bare", "home.py", HELLO.marks, True, folder)


@dataclass
class Start:
    health_s: float
    render_s: float
    rss_mb: float
    cpu_s: float      # server CPU from spawning to the first page rendered
    pages_s: dict[str, float] = field(default_factory=dict)
    # Server CPU of each visit (seconds): on a shared machine steadier than its wall time.
    pages_cpu_s: dict[str, float] = field(default_factory=dict)
    second_cpu_s: dict[str, float] = field(default_factory=dict)
    page_errors: dict[str, str] = field(default_factory=dict)
    second_s: dict[str, float] = field(default_factory=dict)
    widgets: dict[str, dict[str, int]] = field(default_factory=dict)   # of each page, by kind
    rss_all_pages_mb: float = 0.0
    session_mb: list[float] = field(default_factory=list)   # RSS growth per idle session


def child_env(data_dir: str) -> dict[str, str]:
    """This environment without a key or a backend URL: the app picks Local and starts it."""
    drop = {"TOGETHER_API_KEY", "PLAYGROUND_LOCAL_BACKEND_URL", "PLAYGROUND_DATA_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PLAYGROUND_DATA_DIR"] = data_dir
    return env


def server_cpu_s(pid: int) -> float:
    """CPU seconds of the server so far (user + system, children included): less moved by a
    busy machine than wall time."""
    proc = psutil.Process(pid)
    times = proc.cpu_times()
    total = times.user + times.system
    for child in proc.children(recursive=True):
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


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


@dataclass
class Visits:
    """Of each page visited: seconds from clicking its link to it being drawn, the server's
    CPU seconds in that time, the widgets it drew, and the error of each page whose script
    raised."""
    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    widgets: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def visit_pages(page, url: str, pid: int, pages=PAGES, home: Target = APP) -> Visits:
    """Each page by its sidebar link from ``home``'s home page, until it is drawn, then
    home."""
    visits = Visits()
    for name, mark in pages:
        link = page.locator(f"{NAV} a[href='{name}'], {NAV} a[href$='/{name}']").first
        began, cpu = time.perf_counter(), server_cpu_s(pid)
        link.click()
        page.wait_for_url(f"**/{name}", timeout=TIMEOUT_S * 1000)
        try:
            wait_drawn(page, (mark,))
            visits.wall[name] = time.perf_counter() - began
            visits.cpu[name] = server_cpu_s(pid) - cpu
            visits.widgets[name] = widget_counts(page)
        except PageError as exc:
            visits.errors[name] = str(exc)
        if name != "Presenter":
            page.locator(f"{NAV} a[data-testid$='NavLink']").first.click()  # Home
            page.wait_for_url(url.rstrip("/") + "/", timeout=TIMEOUT_S * 1000)
            wait_drawn(page, home.marks)
    return visits


def tour(browser, page, url: str, pid: int, start: Start) -> None:
    """Every page once (Presenter last: it hides the sidebar), the switched ones a second
    time, then the memory of all that, and of each further idle session on the home page."""
    *others, presenter = PAGES
    first = visit_pages(page, url, pid, others)
    second = visit_pages(page, url, pid, [p for p in PAGES if p[0] in SWITCHED])
    last = visit_pages(page, url, pid, [presenter])
    start.pages_s, start.pages_cpu_s = first.wall | last.wall, first.cpu | last.cpu
    start.widgets = first.widgets
    start.page_errors = first.errors | last.errors
    start.second_s, start.second_cpu_s = second.wall, second.cpu
    rss = start.rss_all_pages_mb = server_rss_mb(pid)
    contexts = []
    try:
        for _ in range(IDLE_SESSIONS):
            contexts.append(browser.new_context(viewport={"width": 1400, "height": 1000}))
            idle = contexts[-1].new_page()
            idle.goto(url, timeout=TIMEOUT_S * 1000)
            wait_drawn(idle, APP.marks)
            now = server_rss_mb(pid)
            start.session_mb.append(now - rss)
            rss = now
    finally:
        for context in contexts:
            context.close()


def switch_floor(page, url: str, pid: int, start: Start, bare: Target) -> None:
    """The bare app's switched pages visited twice, as ``tour`` visits the app's."""
    switched = [(name, heading(name)) for name in SWITCHED]
    first = visit_pages(page, url, pid, switched, home=bare)
    second = visit_pages(page, url, pid, switched, home=bare)
    start.pages_s, start.pages_cpu_s, start.page_errors = first.wall, first.cpu, first.errors
    start.second_s, start.second_cpu_s = second.wall, second.cpu


def prime_model_cache(folder: Path) -> None:
    """Train the local models once into ``folder``'s cache, as a machine's first start does."""
    os.environ["PLAYGROUND_DATA_DIR"] = str(folder)
    from lib.local_backend import model_cache
    model_cache.load_or_train()
    del os.environ["PLAYGROUND_DATA_DIR"]


def cold_start(browser, target: Target, primed: Path) -> Start:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as data_dir:
        shutil.copytree(primed, data_dir, dirs_exist_ok=True)
        began = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", target.script, "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--global.developmentMode", "false"],
            cwd=target.folder, env=child_env(data_dir), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            wait_healthy(proc, url, TIMEOUT_S, interval=0.01)  # fine steps: it is timed
            health = time.perf_counter() - began
            page.goto(url, timeout=TIMEOUT_S * 1000)
            wait_drawn(page, target.marks)
            render = time.perf_counter() - began
            start = Start(health, render, server_rss_mb(proc.pid), server_cpu_s(proc.pid))
            if target is APP:
                tour(browser, page, url, proc.pid, start)
            elif target.with_pages:
                switch_floor(page, url, proc.pid, start, target)
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


def verdict(ok: bool, why: str) -> str:
    return "pass" if ok else f"miss: {why}"


def spread(values: list[float], fmt: str) -> str:
    """Median (min–max) of the values, in ``fmt``."""
    return f"{fmt.format(median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def targets(app: list[Start], hello: list[Start], floor: list[Start]) -> list[str]:
    """One row per issue-14 target on start, switch and memory: each against hello's figure
    (and the cold-start floor's figure beside the first, for comparison)."""
    hello_s = median([s.render_s for s in hello])
    hello_mb = median([s.rss_mb for s in hello])
    rows = ["| target | app | hello | ratio | target | pass/miss |", "|---|---|---|---|---|---|"]

    def row(label: str, values: list[float], base: float, fmt: str, limit: float,
            unit: str = "x") -> None:
        if not values:
            rows.append(f"| {label} | – | | | <= {limit}{unit} | miss: no figure (failed) |")
            return
        ratio = median(values) / base if unit == "x" else median(values)
        shown = f"{ratio:.2f}x" if unit == "x" else f"{ratio:.1f} MB"
        rows.append(f"| {label} | {spread(values, fmt)} | {fmt.format(base) if base else '–'} | "
                    f"{shown} | <= {limit}{unit} | "
                    f"{verdict(ratio <= limit, f'{shown} > {limit}{unit}')} |")

    row("1. cold start: home interactive, s", [s.render_s for s in app], hello_s, "{:.2f}",
        TARGET_START)
    if floor:
        floor_s = [s.render_s for s in floor]
        rows.append(f"| 1. floor: the same home page drawn by Streamlit alone, s | "
                    f"{spread(floor_s, '{:.2f}')} | {hello_s:.2f} | "
                    f"{median(floor_s) / hello_s:.2f}x | – | for comparison |")
    for name in SWITCHED:
        row(f"2. first visit of {name}, s (x hello's cold start)",
            [s.pages_s[name] for s in app if name in s.pages_s], hello_s, "{:.2f}", TARGET_FIRST)
    for name in SWITCHED:
        row(f"2. second visit of {name}, s (x hello's cold start)",
            [s.second_s[name] for s in app if name in s.second_s], hello_s, "{:.2f}",
            TARGET_SECOND)
    row("3. server RSS after every page, MB", [s.rss_all_pages_mb for s in app], hello_mb,
        "{:.0f}", TARGET_RSS)
    row(f"3. RSS growth per further idle session (of {IDLE_SESSIONS}), MB",
        [mb for s in app for mb in s.session_mb], 0, "{:.1f}", TARGET_SESSION_MB, " MB")
    return rows


def report(starts: dict[str, list[Start]]) -> str:
    app, hello, floor = starts["app"], starts["hello"], starts["floor"]
    repeats = len(app)
    rows = [("health ok, s", lambda s: s.health_s, "{:.2f}"),
            ("first page rendered, s", lambda s: s.render_s, "{:.2f}"),
            ("first page rendered after health ok, s", lambda s: s.render_s - s.health_s,
             "{:.2f}"),
            ("server CPU to first page rendered, s", lambda s: s.cpu_s, "{:.2f}"),
            ("server RSS after load, MB", lambda s: s.rss_mb, "{:.0f}")]
    lines = [f"Median of {repeats} interleaved cold starts each (min–max in brackets); the "
             "local models' cache primed (as on every start after a machine's first).", "",
             *targets(app, hello, floor), "",
             "| measure | app | floor | hello | app/hello | floor/hello |",
             "|---|---|---|---|---|---|"]
    for label, get, fmt in rows:
        a, f, h = [get(s) for s in app], [get(s) for s in floor], [get(s) for s in hello]
        lines.append(f"| {label} | {spread(a, fmt)} | {spread(f, fmt) if f else '–'} | "
                     f"{spread(h, fmt)} | {median(a) / median(h):.1f}x | "
                     f"{f'{median(f) / median(h):.1f}x' if f else '–'} |")
    lines += ["", "Visits of each page from the home page (same session, sidebar link "
              "clicked until the page is fully rendered):", "",
              "| page | first visit median ms | min–max ms | second visit median ms "
              "| server CPU first / second visit, ms | failed |",
              "|---|---|---|---|---|---|"]

    def ms(values: list[float]) -> str:
        return f"{median(values) * 1000:.0f}" if values else "–"

    for name, _ in PAGES:
        values = [s.pages_s[name] * 1000 for s in app if name in s.pages_s]
        again = [s.second_s[name] for s in app if name in s.second_s]
        errors = sorted({s.page_errors[name] for s in app if name in s.page_errors})
        if values:
            cells = f"{median(values):.0f} | {min(values):.0f}–{max(values):.0f}"
        else:
            cells = "– | –"
        cells += (f" | {ms(again)} | {ms([s.pages_cpu_s[name] for s in app if name in s.pages_cpu_s])}"
                  f" / {ms([s.second_cpu_s[name] for s in app if name in s.second_cpu_s])}")
        failed = f"{len(app) - len(values)} of {len(app)}: {'; '.join(errors)}" if errors else "–"
        lines.append(f"| {name} | {cells} | {failed} |")
    return "\n".join(lines + ["", *floor_table(app, starts["bare"],
                                                median([s.render_s for s in hello]))])


def floor_table(app: list[Start], bare: list[Start], hello_s: float) -> list[str]:
    """The switched pages' visits against the bare app's pages with the same widgets."""
    lines = ["Page-switch floor: the same visits on a bare multipage app (hello's page as "
             "home) whose pages hold only a title and as many widgets of each kind as the "
             "app's page drew, sidebar included:", "",
             "| page | widgets | first visit: app / bare, ms | second visit: app / bare, ms "
             "| second visit of the bare page, x hello's cold start |", "|---|---|---|---|---|"]

    def ms(starts: list[Start], visits: Callable[[Start], dict[str, float]], name: str) -> str:
        values = [visits(s)[name] for s in starts if name in visits(s)]
        return f"{median(values) * 1000:.0f}" if values else "–"

    for name in SWITCHED:
        widgets = sum(app[0].widgets.get(name, {}).values()) if app else 0
        floor = [s.second_s[name] for s in bare if name in s.second_s]
        ratio = f"{median(floor) / hello_s:.2f}x" if floor else "–"
        lines.append(f"| {name} | {widgets} | {ms(app, lambda s: s.pages_s, name)} / "
                     f"{ms(bare, lambda s: s.pages_s, name)} | "
                     f"{ms(app, lambda s: s.second_s, name)} / "
                     f"{ms(bare, lambda s: s.second_s, name)} | {ratio} |")
    return lines


def round_targets(starts: dict[str, list[Start]], bare_folder: Path, floor: Target
                  ) -> Iterator[Target]:
    """One round of starts: the app, hello, the cold-start floor, then the bare app built
    with the widgets the app's pages drew on its first start (so it is made only once the
    app has run)."""
    yield APP
    yield HELLO
    yield floor
    yield bare_app(bare_folder, {name: starts["app"][0].widgets.get(name, {})
                                 for name in SWITCHED})


def main(argv: list[str] | None = None) -> str:
    repeats = bench_repeats(argv, __doc__.split("\n\n")[0], "one start each (smoke run)")
    from playwright.sync_api import sync_playwright
    starts: dict[str, list[Start]] = {"app": [], "hello": [], "floor": [], "bare": []}
    primed = Path(tempfile.mkdtemp(prefix="bench-models-"))
    bare_folder = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    floor_folder = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    floor = Target("floor", write_floor_app(floor_folder), APP.marks, False, floor_folder)
    prime_model_cache(primed)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(repeats):
                for target in round_targets(starts, bare_folder, floor):
                    s = cold_start(browser, target, primed)
                    starts[target.name].append(s)
                    print(f"  {i + 1}/{repeats} {target.name:5}: health {s.health_s:.2f} s, "
                          f"rendered {s.render_s:.2f} s, RSS {s.rss_mb:.0f} MB"
                          + "".join(f", {k} {v * 1000:.0f} ms" for k, v in s.pages_s.items())
                          + "".join(f", {k} again {v * 1000:.0f} ms"
                                    for k, v in s.second_s.items())
                          + "".join(f", {k} FAILED" for k in s.page_errors)
                          + (f", RSS all pages {s.rss_all_pages_mb:.0f} MB, per idle session "
                             + "/".join(f"{mb:+.1f}" for mb in s.session_mb)
                             if s.session_mb else ""),
                          flush=True)
        finally:
            browser.close()
            shutil.rmtree(primed, ignore_errors=True)
            shutil.rmtree(bare_folder, ignore_errors=True)
            shutil.rmtree(floor_folder, ignore_errors=True)
    table = report(starts)
    return publish(RESULTS, table + "\n")


if __name__ == "__main__":
    main()
