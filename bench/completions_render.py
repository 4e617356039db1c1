"""Rendering cost of the Completions page against the plain way, in the real browser.

Side by side in one run, on the local backend at fixed rates: the playground's page
(throttled cards, finished lines committed) and ``bench/reference_stream_app.py``
(``st.write_stream`` for n=1, a placeholder re-rendered per token for n=4). For each:

* websocket bytes (both directions, from Playwright's frame events);
* server CPU seconds (psutil, the page's own ``streamlit run`` process);
* browser CPU seconds (psutil, every Chromium process);
* end delay: from the write of the last token by the backend to the complete text being
  in the DOM (a MutationObserver stamps when the cards' text changes);
* at 50 tokens/s: p50/p95 delay from each token's write to that token being in the DOM.

The backend runs in this process so its socket writes can be timestamped (the same wall
clock as the browser's ``performance.timeOrigin + now()``). Texts are compared by their
count of ASCII letters and digits, which Markdown rendering in the reference leaves alone.

    python -m bench.completions_render [--quick]

Targets (issue 3): at 500 and 2,000 tok/s, at most 1/5 of the reference's bytes and 1/2 of
its server and browser CPU; complete text no later than the reference and within 250 ms
of the stream's end; p95 token-to-DOM under 100 ms at 50 tok/s.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.local_backend import LocalBackend  # noqa: E402
from lib.local_backend import framing  # noqa: E402
from lib.saved import sharelink  # noqa: E402
from tests.support.app_server import free_port  # noqa: E402
from bench.report import publish  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_for_app, wait_healthy  # noqa: E402
MODEL, PROMPT = "local/ngram-docs", "The playground"
NO_EOS = {"0": -100.0}   # ban the end-of-text token so every run streams all its tokens
# Browser and bench clocks are aligned by round trips of about 1-2 ms, so a page that is
# "later" than the reference by less than this is a tie.
CLOCK_TOLERANCE_MS = 2.0
RESULTS = ROOT / "bench" / "results" / "completions_render.md"
_ALNUM = re.compile(r"[A-Za-z0-9]")

OBSERVER_JS = """({sel, immediate}) => {
  window.__rec = [];
  let last = -1, pending = false;
  const scan = () => {
    pending = false;
    let n = 0;
    for (const el of document.querySelectorAll(sel))
      n += el.textContent.replace(/[^A-Za-z0-9]/g, "").length;
    if (n !== last) { last = n; window.__rec.push([performance.timeOrigin + performance.now(), n]); }
  };
  new MutationObserver(() => {
    if (immediate) scan();
    else if (!pending) { pending = true; setTimeout(scan, 5); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


# ---------------------------------------------------------------- backend write stamps

WRITES: list[tuple[float, list[bytes]]] = []
_original_write = framing.BodyWriter.write_events


def _stamped_write(self, events):
    _original_write(self, events)
    WRITES.append((time.time(), list(events)))


framing.BodyWriter.write_events = _stamped_write


def token_times() -> tuple[list[tuple[float, int]], bool]:
    """(write time, cumulative letters+digits over all choices) per token, and whether [DONE]."""
    out, total, done = [], 0, False
    for stamp, events in WRITES:
        for event in events:
            if not event.startswith(b"data: {"):
                done = done or event.startswith(b"data: [DONE]")
                continue
            for choice in json.loads(event[6:]).get("choices") or []:
                text = choice.get("text") or ""
                if text:
                    total += len(_ALNUM.findall(text))
                    out.append((stamp, total))
    return out, done


# ---------------------------------------------------------------- processes

@dataclass
class App:
    name: str
    script: str
    backend_url: str
    proc: subprocess.Popen = field(init=False)
    url: str = field(init=False)

    def __post_init__(self):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**{k: v for k, v in os.environ.items() if k != "TOGETHER_API_KEY"},
               "PLAYGROUND_LOCAL_BACKEND_URL": self.backend_url, "PYTHONPATH": str(ROOT),
               "PLAYGROUND_DATA_DIR": str(ROOT / "bench" / "results" / "data")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--global.developmentMode", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(self.proc, self.url)

    def cpu(self) -> float:
        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@contextmanager
def page_and_reference(backend: LocalBackend):
    """The playground and the plain ``st.write_stream`` page, both on ``backend``, and a
    browser to drive them: ``(browser, {"page": App, "reference": App})``. Everything,
    the backend included, is stopped afterwards."""
    from playwright.sync_api import sync_playwright
    apps = {"page": App("page", "playground.py", backend.base_url),
            "reference": App("reference", "bench/reference_stream_app.py", backend.base_url)}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser, apps
            browser.close()
    finally:
        for app in apps.values():
            app.stop()
        backend.stop()


def browser_cpu() -> float:
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                t = proc.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


# ---------------------------------------------------------------- one measured run

@dataclass
class Result:
    kind: str
    rate: int
    n: int
    tokens: int
    ws_mb: float
    server_cpu: float
    browser_cpu: float
    end_delay_ms: float
    stream_s: float
    p50_ms: float | None = None
    p95_ms: float | None = None


def page_path(n: int, tokens: int, prompt: str = PROMPT) -> str:
    values = {"model": MODEL, "prompt": prompt, "max_tokens": tokens, "n": n,
              "logit_bias": NO_EOS, "stream": True}
    params = sharelink.encode_state({"page": "completions", "values": values, "pinned": [],
                                     "extra": {}})
    return "Completions?" + urlencode(params)


def reference_path(n: int, tokens: int, prompt: str = PROMPT) -> str:
    return "?" + urlencode({"n": n, "max_tokens": tokens, "prompt": prompt, "model": MODEL,
                            "logit_bias": json.dumps(NO_EOS)})


def clock_offset(page) -> float:
    """Browser clock minus ours, in seconds, from the tightest of a few round trips."""
    best = None
    for _ in range(15):
        before = time.time()
        browser_ms = page.evaluate("performance.timeOrigin + performance.now()")
        after = time.time()
        if best is None or after - before < best[0]:
            best = (after - before, browser_ms / 1000 - (before + after) / 2)
    return best[1]


def measure(browser, backend, app: App, kind: str, rate: int, n: int, tokens: int,
            latency: bool) -> Result:
    backend.configure(tokens_per_second=rate)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    frames = [0]

    def on_ws(ws):
        ws.on("framereceived", lambda payload: frames.__setitem__(0, frames[0] + len(payload)))
        ws.on("framesent", lambda payload: frames.__setitem__(0, frames[0] + len(payload)))

    page.on("websocket", on_ws)
    path = page_path(n, tokens) if kind == "page" else reference_path(n, tokens)
    page.goto(f"{app.url}/{path}")
    wait_for_app(page)
    button = "Generate" if kind == "page" else "Go"
    page.get_by_role("button", name=button, exact=True).wait_for()
    selector = ('[class*="st-key-choice-"] .ct:not(.ct-wait)' if kind == "page"
                else '[class*="st-key-choice-"] [data-testid="stMarkdownContainer"]')
    page.evaluate(OBSERVER_JS, {"sel": selector, "immediate": latency})
    offset = clock_offset(page)
    page.wait_for_timeout(300)
    WRITES.clear()
    frames[0] = 0
    cpu_server, cpu_browser = app.cpu(), browser_cpu()
    page.get_by_role("button", name=button, exact=True).click()
    while not token_times()[1]:
        page.wait_for_timeout(50)
    if kind == "page":
        page.get_by_role("button", name="Generate", exact=True).wait_for()
    wait_for_app(page, timeout=120_000)
    page.wait_for_timeout(300)
    cpu_server, cpu_browser = app.cpu() - cpu_server, browser_cpu() - cpu_browser
    records = [(t / 1000 - offset, count) for t, count in page.evaluate("window.__rec")]
    context.close()

    written, _ = token_times()
    final = records[-1][1]
    if kind == "page" and final != written[-1][1]:
        print(f"  WARNING: the page shows {final} letters and digits, the stream sent "
              f"{written[-1][1]}", flush=True)
    visible_at = next(t for t, count in records if count == final)
    # The last token that added a letter or digit: trailing spaces change no count.
    last_write = next(t for t, total in written if total == written[-1][1])
    result = Result(kind, rate, n, len(written), frames[0] / 1e6, cpu_server, cpu_browser,
                    (visible_at - last_write) * 1000, written[-1][0] - written[0][0])
    if latency:
        delays = token_delays(written, records)
        q = statistics.quantiles([d * 1000 for d in delays], n=20)
        result.p50_ms, result.p95_ms = statistics.median(delays) * 1000, q[18]
    return result


def token_delays(written: list[tuple[float, int]], records: list[tuple[float, int]]
                 ) -> list[float]:
    """Seconds from each token's write to the first DOM record showing it, from cumulative
    letter+digit counts on both sides (a token adding none is not observable)."""
    deficit = written[-1][1] - records[-1][1]   # letters Markdown may have dropped (reference)
    delays, i, previous = [], 0, 0
    for stamp, total in written:
        if total == previous:
            continue
        previous = total
        while i < len(records) and records[i][1] < total - deficit:
            i += 1
        if i < len(records):
            delays.append(records[i][0] - stamp)
    return delays


# ---------------------------------------------------------------- report

def table(results: list[Result]) -> str:
    lines = ["| run | kind | tokens | stream s | ws MB | server CPU s | browser CPU s | "
             "end → DOM ms | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        p = (f"{r.p50_ms:.0f} | {r.p95_ms:.0f}" if r.p50_ms is not None else "– | –")
        lines.append(f"| {r.rate} tok/s n={r.n} | {r.kind} | {r.tokens} | {r.stream_s:.1f} | "
                     f"{r.ws_mb:.2f} | {r.server_cpu:.2f} | {r.browser_cpu:.2f} | "
                     f"{r.end_delay_ms:.0f} | {p} |")
    return "\n".join(lines)


def ratios(results: list[Result]) -> tuple[str, list[str]]:
    lines = ["| run | bytes page/ref | server CPU page/ref | browser CPU page/ref | "
             "end delay page − ref ms |", "|---|---|---|---|---|"]
    missed = []
    pairs = {}
    for r in results:
        pairs.setdefault((r.rate, r.n), {})[r.kind] = r
    for (rate, n), pair in pairs.items():
        p, ref = pair["page"], pair["reference"]
        b, s, c = p.ws_mb / ref.ws_mb, p.server_cpu / ref.server_cpu, \
            p.browser_cpu / ref.browser_cpu
        lines.append(f"| {rate} tok/s n={n} | {b:.3f} | {s:.2f} | {c:.2f} | "
                     f"{p.end_delay_ms - ref.end_delay_ms:+.0f} |")
        name = f"{rate} tok/s n={n}"
        if rate >= 500:
            if b > 0.2:
                missed.append(f"{name}: bytes ratio {b:.3f} > 0.2")
            if s > 0.5:
                missed.append(f"{name}: server CPU ratio {s:.2f} > 0.5")
            if c > 0.5:
                missed.append(f"{name}: browser CPU ratio {c:.2f} > 0.5")
        if p.end_delay_ms > 250:
            missed.append(f"{name}: complete text {p.end_delay_ms:.0f} ms after the stream's end")
        if p.end_delay_ms > ref.end_delay_ms + CLOCK_TOLERANCE_MS:
            missed.append(f"{name}: complete text {p.end_delay_ms - ref.end_delay_ms:.0f} ms "
                          "later than the reference")
        if p.p95_ms is not None and p.p95_ms >= 100:
            missed.append(f"{name}: p95 token-to-DOM {p.p95_ms:.0f} ms ≥ 100 ms")
    return "\n".join(lines), missed


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 tokens instead of 4,000")
    args = parser.parse_args(argv)
    big = 1000 if args.quick else 4000
    runs = [(500, 1, big, False), (500, 4, big, False), (2000, 1, big, False),
            (2000, 4, big, False), (50, 1, 200, True)]

    backend = LocalBackend(port=0, tokens_per_second=0).start()
    results = []
    started = time.monotonic()
    with page_and_reference(backend) as (browser, apps):
        for rate, n, tokens, latency in runs:
            for kind in ("reference", "page"):
                r = measure(browser, backend, apps[kind], kind, rate, n, tokens, latency)
                print(f"  {kind:9} {rate:5} tok/s n={n}: {r.ws_mb:7.2f} MB, server "
                      f"{r.server_cpu:5.2f} s, browser {r.browser_cpu:5.2f} s, end "
                      f"{r.end_delay_ms:5.0f} ms", flush=True)
                results.append(r)
    ratio_table, missed = ratios(results)
    report = (f"# Completions rendering benchmark\n\n{table(results)}\n\n## Page / reference\n\n"
              f"{ratio_table}\n\n## Targets missed\n\n"
              + ("\n".join(f"- {m}" for m in missed) if missed else "- none")
              + f"\n\nTotal bench time {time.monotonic() - started:.0f} s; tokens per run are "
                "per choice (n=4 streams four times as many).\n")
    return publish(RESULTS, report)


if __name__ == "__main__":
    main()
