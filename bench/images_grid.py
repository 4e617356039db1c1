"""Images page: from decoded response to grid on screen, and to each download, against a
plain baseline, for 4 and 8 images of 1024x1024 arriving as base64 PNG.

Both paths run in this process on the same images and call what a Streamlit script
would: the page path is the Images page's own functions (``settle`` stores each image and
its small JPEG, the tiles go through st.image's ``image_to_url``, downloads through the
page's ``EncodeCache``); the baseline decodes, pastes into a full-size grid, hands that to
``image_to_url`` and encodes every download eagerly with Pillow's default PNG settings, as
a script does on every rerun when it passes bytes to st.download_button.

Targets (issue 4): grid on screen at least 5x sooner than the baseline and under 100 ms
after the last image is decoded; nothing encoded for download until asked; a rerun that
changes no image re-encodes nothing.

    python -m bench.images_grid [--repeats 3] [--quick]
"""
from __future__ import annotations

import base64
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from streamlit.elements.lib.image_utils import image_to_url  # noqa: E402
from streamlit.elements.lib.layout_utils import LayoutConfig  # noqa: E402

from bench.report import repeats as bench_repeats  # noqa: E402
from lib.api.image_decode import decode_image
from lib.api.results import GeneratedImage, ImageResult  # noqa: E402
from lib.images import EncodeCache  # noqa: E402
from lib.images.batch import Outcome, plan_batch, settle  # noqa: E402
from lib.images.run import BATCH, ImageRun, cached, grid_png, image_png, zip_bytes  # noqa: E402
from lib.images.store import ImageStore  # noqa: E402
from lib.local_backend.procedural import ImageSpec, render  # noqa: E402

SIZE = 1024
COUNTS = (4, 8)
BASELINE_COLS = {4: 2, 8: 4}    # 2x2 and 4x2 grids, as in the measurements
STRETCH = LayoutConfig(width="stretch")  # what st.image(..., width="stretch") passes
RESULTS = ROOT / "bench" / "results" / "images_grid.md"


def responses(count: int) -> list[str]:
    """base64 PNGs as the API sends them: 1024x1024, photo-like grain, default PNG level."""
    out = []
    for seed in range(count):
        image = render(ImageSpec(f"a harbour at dusk {seed}", "", seed, 8, 3.5, SIZE, SIZE))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        out.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    return out


def decode_all(b64: list[str]) -> list[tuple[bytes, Image.Image]]:
    pairs = []
    for text in b64:
        data = base64.b64decode(text)
        pairs.append((data, decode_image(data)))
    return pairs


def to_screen(image) -> None:
    image_to_url(image, STRETCH, clamp=False, channels="RGB", output_format="auto",
                 image_id="bench")


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``fn`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


# ---------------------------------------------------------------- the page's path

def page_settle(decoded, store: ImageStore, positions: range) -> ImageRun:
    """What the page does when answers land: split as it would, store bytes and tiles."""
    body = {"model": "bench/model", "prompt": "a harbour at dusk", "n": len(decoded),
            "seed": 0, "response_format": "base64", "output_format": "png"}
    plans = plan_batch(body, cap=4)
    run = ImageRun.from_plans(BATCH, body, plans)
    for index, plan in enumerate(plans):
        if not set(plan.positions) & set(positions):
            continue
        images = [GeneratedImage(i, decoded[plan.first + i][1], decoded[plan.first + i][0],
                                 "png", seed=plan.body["seed"] + i)
                  for i in range(plan.count)]
        run.add(settle(Outcome(index, ImageResult("id", "bench/model", images)), plans, store))
    return run


def page_draw(run: ImageRun, store: ImageStore) -> None:
    """draw_results: each tile's stored JPEG through st.image."""
    for position in sorted(run.images):
        to_screen(store.get(run.images[position].thumb_key))


# ---------------------------------------------------------------- the baseline

def baseline_grid(decoded, cols: int) -> Image.Image:
    rows = -(-len(decoded) // cols)
    grid = Image.new("RGB", (cols * SIZE, rows * SIZE), (255, 255, 255))
    for i, (_, image) in enumerate(decoded):
        grid.paste(image, ((i % cols) * SIZE, (i // cols) * SIZE))
    return grid


def baseline_downloads(decoded, grid: Image.Image) -> None:
    """Eager bytes for each image, the grid and a zip, default PNG settings."""
    files = []
    for i, (_, image) in enumerate(decoded):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        files.append((f"image_{i}.png", buffer.getvalue()))
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    files.append(("grid.png", buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files:
            archive.writestr(name, data)


# ---------------------------------------------------------------- one count

def measure(count: int, repeats: int) -> dict[str, float | int]:
    b64 = responses(count)
    decoded = decode_all(b64)
    cols = BASELINE_COLS[count]
    row: dict[str, float | int] = {"count": count}
    row["decode"] = timed(lambda: decode_all(b64), repeats)

    with tempfile.TemporaryDirectory() as folder:
        store = ImageStore(folder)
        everything = range(count)
        last_request = range(count - (count - 1) % 4 - 1, count)  # the last request's images
        fresh = iter(range(repeats))

        def all_arrive() -> None:
            """Into an empty store each time, so every file write is paid."""
            empty = ImageStore(Path(folder) / f"fresh{next(fresh)}")
            page_draw(page_settle(decoded, empty, everything), empty)
        row["page_grid_all"] = timed(all_arrive, repeats)

        run = page_settle(decoded, store, everything)
        page_draw(run, store)

        def last_arrives() -> None:
            page_settle(decoded, store, last_request)  # only the last answer is new
            # (its bytes are already in the store here, so writes are skipped: the
            # worst-case row above pays them)
            page_draw(run, store)                      # the whole grid is redrawn
        row["page_grid_last"] = timed(last_arrives, repeats)

        cache = EncodeCache()
        page_draw(run, store)
        row["page_encodes_at_render"] = cache.encodes
        row["page_click_png"] = timed(lambda: image_png(run, 0, store), repeats)
        row["page_click_grid"] = timed(lambda: grid_png(run, store), repeats)
        row["page_click_zip"] = timed(lambda: zip_bytes(run, store, EncodeCache()), repeats)
        # clicks through the cache, then a rerun that asks again for everything
        cached(cache, run, ("png", 0), lambda: image_png(run, 0, store))
        cached(cache, run, "grid", lambda: grid_png(run, store))
        cached(cache, run, "zip", lambda: zip_bytes(run, store, cache))
        after_clicks = cache.encodes

        def rerun() -> None:
            page_draw(run, store)
            cached(cache, run, ("png", 0), lambda: image_png(run, 0, store))
            cached(cache, run, "grid", lambda: grid_png(run, store))
            cached(cache, run, "zip", lambda: zip_bytes(run, store, cache))
        row["page_rerun"] = timed(rerun, repeats)
        row["page_encodes_after_clicks"] = after_clicks
        row["page_encodes_after_reruns"] = cache.encodes

    row["base_grid"] = timed(lambda: to_screen(baseline_grid(decoded, cols)), repeats)
    grid = baseline_grid(decoded, cols)
    row["base_downloads"] = timed(lambda: baseline_downloads(decoded, grid), repeats)
    row["base_rerun"] = row["base_grid"] + row["base_downloads"]
    row["base_encodes_per_rerun"] = count + 1
    return row


def report(rows: list[dict], repeats: int) -> str:
    ms = lambda s: f"{s * 1000:,.0f} ms" if s >= 0.01 else f"{s * 1000:.1f} ms"  # noqa: E731
    lines = [f"# Images grid: page vs baseline ({SIZE}x{SIZE} PNG tiles, median of "
             f"{repeats})", ""]
    for r in rows:
        n = r["count"]
        lines += [
            f"## {n} images (baseline grid {BASELINE_COLS[n]} across)", "",
            "| step | page | baseline | baseline / page |", "|---|---|---|---|",
            f"| decode all responses (same for both, not counted below) | {ms(r['decode'])} "
            f"| {ms(r['decode'])} | 1.0 |",
            f"| grid on screen after the last decode: all {n} images new (worst case) | "
            f"{ms(r['page_grid_all'])} | {ms(r['base_grid'])} | "
            f"{r['base_grid'] / r['page_grid_all']:.1f}x |",
            f"| grid on screen after the last decode: last request's answer new (as the page "
            f"runs) | {ms(r['page_grid_last'])} | {ms(r['base_grid'])} | "
            f"{r['base_grid'] / r['page_grid_last']:.1f}x |",
            f"| downloads ready at render | 0 ms ({r['page_encodes_at_render']} encodes; "
            f"built on click) | {ms(r['base_downloads'])} ({n + 1} PNG encodes + zip) | — |",
            f"| click: one image PNG | {ms(r['page_click_png'])} | (paid at render) | — |",
            f"| click: grid PNG | {ms(r['page_click_grid'])} | (paid at render) | — |",
            f"| click: ZIP (images, grid, manifest) | {ms(r['page_click_zip'])} | "
            "(paid at render) | — |",
            f"| rerun that changes no image | {ms(r['page_rerun'])}, "
            f"{r['page_encodes_after_reruns'] - r['page_encodes_after_clicks']} encodes | "
            f"{ms(r['base_rerun'])}, {r['base_encodes_per_rerun']} encodes | "
            f"{r['base_rerun'] / r['page_rerun']:.0f}x |",
            ""]
    lines += ["Targets: grid on screen ≥5x sooner than the baseline and < 100 ms after the last "
              "decode; 0 encodes until a download is asked for; 0 encodes on a rerun.", ""]
    for r in rows:
        worst = r["page_grid_all"]
        lines.append(
            f"- {r['count']} images: {r['base_grid'] / worst:.1f}x sooner (worst case), "
            f"{ms(worst)} after the last decode ({'met' if worst < 0.1 else 'MISSED'}); "
            f"last answer only {ms(r['page_grid_last'])} "
            f"({'met' if r['page_grid_last'] < 0.1 else 'MISSED'}); "
            f"encodes at render {r['page_encodes_at_render']}, on rerun "
            f"{r['page_encodes_after_reruns'] - r['page_encodes_after_clicks']}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> str:
    repeats = bench_repeats(argv, __doc__.split("\n\n")[0], "one repeat (smoke run)")
    rows = [measure(count, repeats) for count in COUNTS]
    text = report(rows, repeats)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return text


if __name__ == "__main__":
    main()
