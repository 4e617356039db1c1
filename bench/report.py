"""Every benchmark of the project in one run, written to ``bench/REPORT.md``.

Each benchmark runs in its own subprocess (``python -m bench.<name>``), so one that fails
or hangs is recorded as failed and the others still run. Its table is read from the
``bench/results/<name>.md`` it writes (deleted beforehand, so a stale file from an earlier
run can never pass for this one's), and a pass/miss column is added wherever the issues set
a target. The header says when and on what machine the figures were taken.

    python -m bench.report [--quick] [--only NAME ...] [--out FILE]   (also: make bench)
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
REPORT = ROOT / "bench" / "REPORT.md"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 30 * 60
NO_TARGET = "–"


# ---------------------------------------------------------------- adding a pass/miss column

def cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def with_verdicts(text: str, is_header: Callable[[list[str]], bool],
                  verdict: Callable[[list[str]], str | None]) -> str:
    """Append a pass/miss column to each table whose header ``is_header`` accepts.

    ``verdict`` gets a row's cells and returns "pass", "miss: why", or None where the row
    has no target. A row it cannot read is marked "?" rather than guessed.
    """
    out, in_table = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
        elif not out or not out[-1].startswith("|"):
            in_table = is_header(cells(line))
            if in_table:
                line += " pass/miss |"
        elif in_table and set(line.replace("|", "").strip()) <= set("-: "):
            line += "---|"
        elif in_table:
            try:
                line += f" {verdict(cells(line)) or NO_TARGET} |"
            except (ValueError, IndexError, AttributeError):
                line += " ? |"
        out.append(line)
    return "\n".join(out)


def number(cell: str) -> float:
    """The first number in a cell: '12.3x SDK' -> 12.3, '1,500 ms' -> 1500, '+0.31 ms' -> 0.31."""
    return float(re.search(r"[-+]?[\d,]*\.?\d+", cell).group().replace(",", ""))


def verdict(ok: bool, why: str) -> str:
    return "pass" if ok else f"miss: {why}"


# ---------------------------------------------------------------- each benchmark's targets

def judge_client(text: str) -> str:
    def row(c: list[str]) -> str | None:
        measure, ours, ratio = c[1], c[2], c[5]
        if measure.startswith("events/s"):
            return verdict(number(ratio) >= 5, f"{ratio} < 5x")
        if measure.startswith("first event"):
            return verdict(number(ratio) <= 2, f"{ratio} > 2 ms")
        if measure.startswith("bytes-to-delivery"):
            p95 = number(ours.split("/")[1])
            return verdict(p95 < 1, f"p95 {p95} ms >= 1 ms")
        return None
    return with_verdicts(text, lambda c: c[:2] == ["framing", "measure"], row)


def judge_render(text: str) -> str:
    """The script lists every missed target under '## Targets missed', each led by its run."""
    missed = text.split("## Targets missed", 1)[1] if "## Targets missed" in text else ""
    bullets = [b[2:] for b in missed.splitlines() if b.startswith("- ") and b != "- none"]

    def row(c: list[str]) -> str:
        mine = [b.split(": ", 1)[1] for b in bullets if b.startswith(c[0] + ":")]
        return verdict(not mine, "; ".join(mine))
    return with_verdicts(text, lambda c: c[:2] == ["run", "bytes page/ref"], row)


def judge_images(text: str) -> str:
    def row(c: list[str]) -> str | None:
        step, page, ratio = c[0], c[1], c[3]
        if step.startswith("grid on screen"):
            ms = number(page)
            return verdict(number(ratio) >= 5 and ms < 100,
                           f"{ratio} sooner (target >= 5x), {page} (target < 100 ms)")
        if step.startswith("downloads ready at render"):
            return verdict("(0 encodes" in page, "encodes before a download was asked for")
        if step.startswith("rerun that changes no image"):
            return verdict(", 0 encodes" in page, "a rerun re-encoded")
        return None
    return with_verdicts(text, lambda c: c[:2] == ["step", "page"], row)


@dataclass(frozen=True)
class Bench:
    name: str          # the module bench.<name>, writing bench/results/<name>.md
    title: str
    targets: str       # as the issues set them, in words
    judge: Callable[[str], str] | None   # None: the benchmark writes its own pass/miss


BENCHES = (
    Bench("client_delivery", "Client stream delivery vs the official `together` SDK and a "
          "bare socket (issue 2)",
          "events/s at least 5x the SDK's; time to first event within 2 ms of the bare socket; "
          "p95 delay from an event's bytes arriving to its delivery under 1 ms at 50 events/s.",
          judge_client),
    Bench("completions_render", "Browser token latency and cost vs plain `st.write_stream` "
          "(issue 3)",
          "at 500 and 2,000 tok/s at most 1/5 of the reference's websocket bytes and 1/2 of its "
          "server and browser CPU; the complete text visible no later than the reference's and "
          "within 250 ms of the stream's end; p95 token-to-DOM under 100 ms at 50 tok/s.",
          judge_render),
    Bench("images_grid", "Image grid vs plain Pillow (issue 4)",
          "grid on screen at least 5x sooner than the baseline and under 100 ms after the last "
          "image is decoded; nothing encoded for download until it is asked for; a rerun that "
          "changes no image re-encodes nothing.",
          judge_images),
    Bench("cold_start", "Cold start, page switches and memory vs a hello-world Streamlit app "
          "(issues 6, 14)",
          "home interactive at most 1.2x the hello-world app's cold start (median of 3 "
          "interleaved); the first visit of Completions, Images and Compare each at most 0.4x "
          "that, a second visit at most 0.1x; server RSS after every page at most 2x hello's, "
          "each further idle browser session at most 5 MB more.", None),
    Bench("widget_touch", "Widget touch on Completions vs a bare page with the same widgets "
          "(issue 14)",
          "one slider changed until the rerun has finished, median and p95 of 30 touches in the "
          "browser, at most 1.5x the bare page's; a touch never fetches the model list or "
          "trains anything.", None),
    Bench("stream_capacity", "Streaming capacity: server CPU per stream-second with 1, 10 and "
          "20 sessions (issue 14)",
          "at 50 tok/s, n=1, at most 20 ms of server CPU per stream-second (50 streams per "
          "core), or within 1.5x of a minimal st.write_stream page's where that floor is above "
          "20 ms; p95 token-to-screen at 20 sessions under 250 ms.", None),
    Bench("lab_grid", "Prompt lab, 50 rows × 4 variants (issue 15)", "figures only.", None),
)


# ---------------------------------------------------------------- running one

def repeats(argv: list[str] | None, description: str, quick_help: str) -> int:
    """How many times a benchmark repeats each measure: ``--repeats N`` (3), or one with
    ``--quick`` (a smoke run)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args(argv)
    return 1 if args.quick else args.repeats


def publish(result_file: Path, text: str) -> str:
    """A benchmark's own report: printed, and written where ``run`` reads it."""
    print(text)
    result_file.parent.mkdir(parents=True, exist_ok=True)
    result_file.write_text(text)
    return text


@dataclass
class Outcome:
    command: str
    seconds: float
    text: str | None       # the benchmark's own report, None when it failed
    failure: str | None    # what went wrong, with the end of its output


def run(bench: Bench, quick: bool) -> Outcome:
    args = ["-m", f"bench.{bench.name}"] + (["--quick"] if quick else [])
    command = "python " + " ".join(args)
    result_file, log_file = RESULTS / f"{bench.name}.md", RESULTS / f"{bench.name}.log"
    result_file.unlink(missing_ok=True)
    print(f"== {command}", flush=True)
    began = time.monotonic()
    # Its own process group, so a timeout also ends the servers and browser it started.
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(TIMEOUT_S, kill)
    timer.start()
    tail: list[str] = []
    with open(log_file, "w") as log:
        for line in proc.stdout:
            log.write(line)
            print(f"   {line}", end="", flush=True)
            tail = (tail + [line.rstrip()])[-25:]
    code = proc.wait()
    timer.cancel()
    seconds = time.monotonic() - began
    if timed_out.is_set():
        failure = f"timed out after {TIMEOUT_S} s"
    elif code != 0:
        failure = f"exit code {code}"
    elif not result_file.exists():
        failure = f"exited 0 but wrote no {result_file.relative_to(ROOT)}"
    else:
        return Outcome(command, seconds, result_file.read_text(), None)
    return Outcome(command, seconds, None, failure + "\n\n```\n" + "\n".join(tail) + "\n```")


# ---------------------------------------------------------------- the machine

def first_match(path: str, pattern: str) -> str | None:
    try:
        found = re.search(pattern, Path(path).read_text(), re.MULTILINE)
    except OSError:
        return None
    return found.group(1).strip() if found else None


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return out.strip().splitlines()[0] if out.strip() else "unavailable"


def machine() -> list[tuple[str, str]]:
    mem_kb = first_match("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    distro = first_match("/etc/os-release", r'^PRETTY_NAME="?([^"\n]+)') or platform.system()
    return [
        ("CPU", first_match("/proc/cpuinfo", r"^model name\s*:\s*(.+)$")
         or platform.processor() or "unknown"),
        ("Cores", f"{os.cpu_count()}" + (f" ({usable} usable)" if usable else "")),
        ("RAM", f"{int(mem_kb) / 2**20:.1f} GiB" if mem_kb else "unknown"),
        ("OS", f"{distro}, kernel {platform.release()}"),
        ("Python", platform.python_version()),
        ("Streamlit", version("streamlit")),
        ("Pillow", version("pillow")),
        ("requests", version("requests")),
        ("together SDK", version("together")),
        ("Chromium", chromium_version()),
    ]


# ---------------------------------------------------------------- the report

def demote(text: str, levels: int = 2) -> str:
    """Push the benchmark's own headings under this report's."""
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + levels) + " ", text,
                  flags=re.MULTILINE)


def targets_met(text: str) -> str:
    verdicts = re.findall(r"\| (pass|miss[^|]*) \|$", text, re.MULTILINE)
    if not verdicts:
        return NO_TARGET
    return f"{sum(v == 'pass' for v in verdicts)} of {len(verdicts)}"


def compose(outcomes: list[tuple[Bench, Outcome]], quick: bool, load: tuple[float, float],
            began: datetime.datetime, minutes: float) -> str:
    lines = ["# Benchmark report", "",
             f"Run {began:%Y-%m-%d %H:%M} UTC by `python -m bench.report"
             f"{' --quick' if quick else ''}` (also `make bench`), {minutes:.0f} min in all"
             + (": a QUICK smoke run, fewer tokens and repeats than the full one." if quick
                else "."), "",
             "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine()]
    lines += ["", f"**The machine is shared and noisy**: other engineers run test suites and "
              f"browsers on the same cores while this runs (load average {load[0]:.2f} at the "
              f"start, {load[1]:.2f} at the end). Absolute times move from run to run; the "
              "figures to read are the side-by-side ones, each measured against its baseline "
              "in the same run, interleaved.", "",
              "## Summary", "", "| benchmark | result | targets met | time | command |",
              "|---|---|---|---|---|"]
    bodies = []
    for bench, outcome in outcomes:
        if outcome.text is not None:
            body = bench.judge(outcome.text) if bench.judge else outcome.text
            result, met = "ran", targets_met(body)
        else:
            body, result, met = f"**FAILED**: {outcome.failure}", "**FAILED**", NO_TARGET
        lines.append(f"| {bench.title} | {result} | {met} | {outcome.seconds:.0f} s | "
                     f"`{outcome.command}` |")
        bodies += [f"## {bench.title}", "", f"Command: `{outcome.command}` "
                   f"({outcome.seconds:.0f} s)", "", f"Targets: {bench.targets}", "",
                   demote(body).strip(), ""]
    return "\n".join(lines + [""] + bodies)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's smoke run")
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES],
                        help="run these benchmarks alone (to try one; a report is all of them)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    began, start = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    load_start = os.getloadavg()[0]
    outcomes = [(bench, run(bench, args.quick)) for bench in BENCHES
                if not args.only or bench.name in args.only]
    report = compose(outcomes, args.quick, (load_start, os.getloadavg()[0]), began,
                     (time.monotonic() - start) / 60)
    args.out.write_text(report)
    print(f"\nwritten to {args.out}")
    return report


if __name__ == "__main__":
    main()
