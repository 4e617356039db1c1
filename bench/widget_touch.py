"""Widget touch: one slider changed on Completions, until its rerun has finished, against the
same on a bare page with as many widgets of each kind (``bench/bare_widgets_app.py``).

Both pages are open side by side in one headless Chromium, on one local backend in this
process; touches alternate (page, bare, page, ...) so load drifting on a shared machine hits
both alike. A touch is one arrow key on the Temperature slider's thumb (right, then left,
so the value stays in range); its time runs in the browser, from the key's ``keydown`` to
the app's script state going back to ``notRunning`` after the rerun the key started (a
MutationObserver on ``stApp``). Streamlit's slider waits for the key to settle before it
sends the value; both pages pay that alike.

The widget counts are read from the Completions page as drawn (sidebar included) and handed
to the bare page in its URL. During the page's touches the backend's request log must show
no ``/models`` request, and nothing may be trained: no training call in this process (the
backend's) and no model cache written to the app's data folder.

    python -m bench.widget_touch [--quick]

Target (issue 14): median and p95 of 30 touches each <= 1.5x the bare page's; no model
list fetched and nothing trained by a touch.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare_widgets_app import widget_counts  # noqa: E402
from bench.completions_render import App  # noqa: E402
from lib.local_backend import LocalBackend, model_cache  # noqa: E402
from bench.report import publish  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, wait_for_app  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "widget_touch.md"
TARGET = 1.5
SLIDER = "Temperature"
START_WAIT_MS = 5_000   # a touch's rerun starts well within this, even on a loaded machine
PRESSES = 3

# Stamps each keydown, and the end of the first rerun that started after it. Every state
# the attribute went through is read from the records (each holds the value before its
# change): a fast rerun's "running" and "notRunning" can come in one batch, and reading
# only the attribute's last value then missed the start and waited forever.
TOUCH_JS = """() => {
  window.__t0 = 0; window.__running = 0; window.__done = 0;
  document.addEventListener("keydown", () => {
    window.__t0 = performance.now(); window.__running = 0; window.__done = 0;
  }, true);
  const app = document.querySelector("[data-testid='stApp']");
  const ATTR = "data-test-script-state";
  new MutationObserver((records) => {
    if (!window.__t0) return;
    const states = records.slice(1).map((r) => r.oldValue).concat([app.getAttribute(ATTR)]);
    for (const state of states) {
      if (state === "running") window.__running = performance.now();
      else if (state === "notRunning" && window.__running && !window.__done)
        window.__done = performance.now();
    }
  }).observe(app, {attributes: true, attributeFilter: [ATTR], attributeOldValue: true});
}"""


def touch(page, key: str) -> float:
    """Milliseconds from one arrow key on the slider to its rerun's end, in the browser.

    A key that started no rerun within START_WAIT_MS (the thumb was being redrawn as it
    arrived, so the slider never saw it) is pressed again and timed from the new press;
    before, such a touch waited out the 60 s timeout and failed the whole run."""
    thumb = page.get_by_test_id("stSlider").filter(has_text=SLIDER).get_by_role("slider")
    for attempt in range(PRESSES):
        thumb.press(key)
        try:
            page.wait_for_function("window.__running > window.__t0", timeout=START_WAIT_MS)
            break
        except PlaywrightTimeout:
            if attempt == PRESSES - 1:
                raise
    page.wait_for_function("window.__done > window.__t0", timeout=60_000)
    return page.evaluate("window.__done - window.__t0")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def cache_files() -> set[tuple[str, float]]:
    """Model caches in the apps' data folder (``App``'s): a new one means an app trained."""
    cache = ROOT / "bench" / "results" / "data" / model_cache.FOLDER
    return {(p.name, p.stat().st_mtime) for p in cache.glob(f"{model_cache.PREFIX}*")}


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 touches instead of 30")
    args = parser.parse_args(argv)
    touches = 10 if args.quick else 30
    trainings = [0]
    real_train = model_cache.train

    def counted_train(sources):
        trainings[0] += 1
        return real_train(sources)

    model_cache.train = counted_train
    from playwright.sync_api import sync_playwright
    backend = LocalBackend(port=0, tokens_per_second=0, control=True).start()
    apps = {"page": App("page", "playground.py", backend.base_url),
            "bare": App("bare", "bench/bare_widgets_app.py", backend.base_url)}
    times: dict[str, list[float]] = {"page": [], "bare": []}
    began = time.monotonic()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {name: browser.new_page(viewport={"width": 1400, "height": 1000})
                     for name in apps}
            pages["page"].goto(f"{apps['page'].url}/Completions")
            wait_for_app(pages["page"], 120_000)
            counts = widget_counts(pages["page"])
            pages["bare"].goto(f"{apps['bare'].url}/?{urlencode(counts)}")
            wait_for_app(pages["bare"], 120_000)
            for page in pages.values():
                page.evaluate(TOUCH_JS)
                for key in ("ArrowRight", "ArrowLeft"):   # warm-up, not counted
                    touch(page, key)
            caches_before, trained_before = cache_files(), trainings[0]
            backend.clear_requests()
            for i in range(touches):
                key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
                for name, page in pages.items():
                    times[name].append(touch(page, key))
            models_fetched = sum(r["path"].rstrip("/").endswith("/models")
                                 for r in backend.requests_seen)
            trained = trainings[0] - trained_before + len(cache_files() - caches_before)
            browser.close()
    finally:
        for app in apps.values():
            app.stop()
        backend.stop()
    report = compose(times, counts, models_fetched, trained, time.monotonic() - began)
    return publish(RESULTS, report)


def compose(times: dict[str, list[float]], counts: dict[str, int], models_fetched: int,
            trained: int, seconds: float) -> str:
    page, bare = times["page"], times["bare"]
    lines = [f"{len(page)} touches each, interleaved; widgets on both pages: "
             + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) + ".", "",
             "| measure | Completions | bare page | ratio | target | pass/miss |",
             "|---|---|---|---|---|---|"]
    for label, get in (("median ms", statistics.median), ("p95 ms", p95)):
        a, b = get(page), get(bare)
        ok = a / b <= TARGET
        lines.append(f"| touch → rerun done, {label} | {a:.0f} | {b:.0f} | {a / b:.2f}x | "
                     f"<= {TARGET}x | {'pass' if ok else f'miss: {a / b:.2f}x > {TARGET}x'} |")
    lines.append(f"| model list requests during the touches | {models_fetched} | | | 0 | "
                 + ("pass" if models_fetched == 0 else f"miss: {models_fetched} fetched") + " |")
    lines.append(f"| models trained during the touches | {trained} | | | 0 | "
                 + ("pass" if trained == 0 else f"miss: {trained} trained") + " |")
    return "\n".join(lines) + f"\n\nTotal bench time {seconds:.0f} s.\n"


if __name__ == "__main__":
    main()
