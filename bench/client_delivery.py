"""Stream delivery: our client against the official `together` SDK and a bare socket read.

Runs side by side against the local backend (a separate process, so the server does not
compete with the reader for the GIL), in both HTTP framings, and prints ratios. Two SDK
generations are measured: the current `together` 3.x (httpx + a pydantic model per chunk;
run from its own venv, `.venv-sdk3`, made on first use) and the legacy 1.x the project's
tests pin (requests + pydantic). Targets (issue 2): events/s at least 5x the SDK's; time to
first event within 2 ms of the bare socket; p95 delay from an event's bytes arriving to
its delivery under 1 ms at 50 events/s.

    python -m bench.client_delivery [--events 20000] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOGETHER_NO_BANNER", "1")

from lib.api import Client  # noqa: E402
from lib.local_backend.server import CONTROL_TOKEN_ENV, control_headers  # noqa: E402
from tests.support.app_server import free_port  # noqa: E402

MODEL = "local/ngram-docs"
FRAMINGS = ("chunked", "close")
SDK3_VENV = ROOT / ".venv-sdk3"
SDK3 = "together==3.1.1"


@dataclass
class Backend:
    proc: subprocess.Popen
    base_url: str
    control_token: str

    @property
    def root(self) -> str:
        return self.base_url.rsplit("/v1", 1)[0]

    def configure(self, **settings) -> None:
        requests.post(f"{self.root}/_local/config", json=settings, timeout=5,
                      headers=control_headers(self.control_token)).raise_for_status()


def start_backend() -> Backend:
    port = free_port()
    token = secrets.token_urlsafe(32)
    proc = subprocess.Popen([sys.executable, "-m", "lib.local_backend", "--port", str(port),
                             "--tokens-per-second", "0", "--control"], cwd=ROOT,
                            env={**os.environ, CONTROL_TOKEN_ENV: token},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(300):
        try:
            if requests.get(f"{base}/models", timeout=1).ok:
                return Backend(proc, base, token)
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("local backend did not start")


def body(n: int, max_tokens: int) -> dict:
    # temperature 1 with a fixed seed: varied text, identical for every reader; the
    # end-of-text token (id 0) is banned so every choice runs to max_tokens.
    return {"model": MODEL, "prompt": "The function returns", "max_tokens": max_tokens,
            "n": n, "seed": 7, "temperature": 1.0, "logit_bias": {"0": -100}, "stream": True}


# ------------------------------------------------------------------ the three readers

def read_ours(base_url: str, params: dict) -> tuple[int, float, float]:
    """(events, seconds from request to first event, seconds from first to last event)."""
    client = Client(api_key="bench", base_url=base_url)
    t0 = time.perf_counter()
    first = last = None
    count = 0
    with client.stream(params) as stream:
        for _ in stream:
            last = time.perf_counter()
            first = first or last
            count += 1
    return count, first - t0, last - first


def read_sdk(base_url: str, params: dict) -> tuple[int, float, float]:
    from together import Together
    client = Together(api_key="bench", base_url=base_url)
    args = {k: v for k, v in params.items() if k != "stream"}
    t0 = time.perf_counter()
    first = last = None
    count = 0
    for chunk in client.completions.create(stream=True, **args):
        if chunk.choices:
            last = time.perf_counter()
            first = first or last
            count += len(chunk.choices)
    return count, first - t0, last - first


def read_socket(base_url: str, params: dict) -> tuple[int, float, float]:
    """The floor: one raw HTTP/1.0 request, recv() until close, count `data:` lines."""
    url = urlparse(base_url)
    payload = json.dumps(params).encode()
    request = (f"POST {url.path}/completions HTTP/1.0\r\nHost: {url.netloc}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
               ).encode() + payload
    t0 = time.perf_counter()
    first = last = None
    count, tail = 0, b""
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(request)
        while data := sock.recv(65536):
            seen = (tail + data).count(b"data: {")
            if seen:
                last = time.perf_counter()
                first = first or last
                count += seen
            tail = data[-7:]
    return count, first - t0, last - first


READERS = {"ours": read_ours, "together SDK": read_sdk, "bare socket": read_socket}


def sdk3_python() -> Path | None:
    """The interpreter of a venv holding the current SDK, made on first use."""
    python = SDK3_VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(SDK3_VENV)]).returncode == 0
        if not made or subprocess.run([str(python), "-m", "pip", "install", "-q", SDK3]
                                      ).returncode != 0:
            return None
    return python


def sdk3_rate(base_url: str, params: dict, repeats: int) -> float | None:
    python = sdk3_python()
    if python is None:
        return None
    done = subprocess.run([str(python), str(ROOT / "bench" / "sdk3_reader.py"), base_url,
                           json.dumps(params), str(repeats)], capture_output=True, text=True)
    return float(done.stdout) if done.returncode == 0 else None


# ------------------------------------------------------------------ measurements

def throughput(backend: Backend, framing: str, events: int) -> dict[str, float]:
    """Events per second from first to last event, best of three, pregenerated stream."""
    backend.configure(tokens_per_second=0, framing=framing, pregenerate=True)
    n = 8  # 8 interleaved choices: many events without passing the 4,096-token context
    params = body(n, min(events // n, 3_500))
    rates = {}
    for name, reader in READERS.items():
        best = 0.0
        for _ in range(3):
            count, _, span = reader(backend.base_url, params)
            best = max(best, count / span if span else float("inf"))
        rates[name] = best
    rates["together SDK 3.x"] = sdk3_rate(backend.base_url, params, 3)
    return rates


def first_event(backend: Backend, framing: str, repeats: int) -> dict[str, float]:
    """Median seconds from sending the request to the first event, short live streams."""
    backend.configure(tokens_per_second=0, framing=framing, pregenerate=False)
    params = body(1, 8)
    samples: dict[str, list[float]] = {name: [] for name in READERS}
    for _ in range(repeats):
        for name, reader in READERS.items():  # interleaved, so load drifts hit all alike
            samples[name].append(reader(backend.base_url, params)[1])
    return {name: statistics.median(values) for name, values in samples.items()}


def delivery_delay(backend: Backend, framing: str, tokens: int) -> list[float]:
    """Per event: seconds from its bytes leaving read1() to the event reaching the caller.

    The stream's read method is wrapped to stamp each arrival; an event's delay is the
    time from the last read before it was yielded to the moment it was yielded.
    """
    backend.configure(tokens_per_second=50, framing=framing, pregenerate=False)
    client = Client(api_key="bench", base_url=backend.base_url)
    delays = []
    with client.stream(body(1, tokens)) as stream:
        arrivals: list[float] = []
        original = stream._read

        def stamped_read(*args, **kwargs):
            data = original(*args, **kwargs)
            arrivals.append(time.perf_counter())
            return data

        stream._read = stamped_read
        for _ in stream:
            delays.append(time.perf_counter() - arrivals[-1])
    return delays


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> str:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--events", type=int, default=20_000)
    args.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    opts = args.parse_args(argv)
    backend = start_backend()
    lines = ["| framing | measure | ours | together SDK 1.x | bare socket | ratio | target |",
             "|---|---|---|---|---|---|---|"]
    try:
        for framing in FRAMINGS:
            rates = throughput(backend, framing, opts.events // (4 if opts.quick else 1))
            ratio = rates["ours"] / rates["together SDK"]
            lines.append(f"| {framing} | events/s | {rates['ours']:,.0f} | "
                         f"{rates['together SDK']:,.0f} | {rates['bare socket']:,.0f} | "
                         f"{ratio:.1f}x SDK 1.x | >= 5x |")
            sdk3 = rates["together SDK 3.x"]
            lines.append(f"| {framing} | events/s vs the current SDK 3.x | {rates['ours']:,.0f} | "
                         + (f"3.x: {sdk3:,.0f} | | {rates['ours'] / sdk3:.1f}x SDK 3.x | >= 5x |"
                            if sdk3 else "3.x unavailable | | | >= 5x |"))
            ttfe = first_event(backend, framing, 5 if opts.quick else 25)
            gap_ms = (ttfe["ours"] - ttfe["bare socket"]) * 1000
            lines.append(f"| {framing} | first event ms (median) | {ttfe['ours'] * 1000:.2f} | "
                         f"{ttfe['together SDK'] * 1000:.2f} | {ttfe['bare socket'] * 1000:.2f} "
                         f"| {gap_ms:+.2f} ms vs socket | <= 2 ms |")
            delays = delivery_delay(backend, framing, 50 if opts.quick else 200)
            lines.append(f"| {framing} | bytes-to-delivery ms at 50 ev/s (p50 / p95) | "
                         f"{p(delays, .5) * 1000:.3f} / {p(delays, .95) * 1000:.3f} | | | "
                         f"| p95 < 1 ms |")
    finally:
        backend.proc.terminate()
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "client_delivery.md").write_text(table + "\n")
    return table


if __name__ == "__main__":
    main()
