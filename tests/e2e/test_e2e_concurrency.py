"""Ten browser sessions stream at once against one app: all finish, none sees another's
prompt, output or key, and the app's memory comes back near where it started.

Memory is the streamlit process's RSS (psutil). The baseline is taken after one warm-up
run (imports, model list, first page build are one-off costs), the "after" figure once
every session has closed and the app has had a few seconds to drop them. Python rarely
hands freed memory back to the OS, so the tolerance allows a fixed slack; a leak of each
session's runs (ten streams of text, events and tokens) would exceed it on a second round.
"""
from __future__ import annotations

import re
import threading
import time

import psutil
import pytest
from playwright.sync_api import expect

from lib.local_backend import LocalBackend
from tests.support.app_server import AppServer
from tests.support.browser import (button, card, card_text, open_app, use_custom_provider,
                                   wait_for_app)

pytestmark = pytest.mark.e2e
SESSIONS = 10
TOLERANCE_MB = 60
ENDED = re.compile(r"· (length|eos|stop) ·")


def _rss_mb(proc: psutil.Process) -> float:
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def _steady_rss_mb(proc: psutil.Process, timeout: float = 30.0) -> float:
    """The server's memory once it stops moving (a closed session is dropped a little
    later): two readings half a second apart within 1 MB, or the last one at the timeout."""
    deadline = time.monotonic() + timeout
    last = _rss_mb(proc)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _rss_mb(proc)
        if abs(now - last) < 1:
            return now
        last = now
    return last


def _start(page, app_url: str, backend_url: str, key: str, prompt: str) -> None:
    open_app(page, app_url, "Completions")
    use_custom_provider(page, backend_url, key)
    page.get_by_role("tab", name="Output").click()
    box = page.get_by_label("Max tokens", exact=True)
    box.fill("600")
    box.press("Enter")
    wait_for_app(page)
    box = page.get_by_label("Prompt", exact=True)
    box.fill(prompt)
    box.press("Tab")
    wait_for_app(page)


def _round(browser, app, backend, tag: str) -> tuple[list[str], float]:
    """SESSIONS contexts, each set up, then all Generate clicks together; their texts."""
    contexts, pages = [], []
    try:
        for i in range(SESSIONS):
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            page.set_default_timeout(60_000)
            contexts.append(context)
            pages.append(page)
            _start(page, app.url, backend.base_url, _key(tag, i), _prompt(tag, i))
        started = time.monotonic()
        for page in pages:
            button(page, "Generate").click()
        for page in pages:
            expect(card(page)).to_contain_text(ENDED, timeout=120_000)
            expect(button(page, "Generate")).to_be_visible(timeout=60_000)
        elapsed = time.monotonic() - started
        texts = []
        for i, page in enumerate(pages):
            wait_for_app(page)
            body = page.locator("body").inner_text()
            source = page.content()
            for j in range(SESSIONS):
                if j != i:
                    assert _prompt(tag, j) not in body and _key(tag, j) not in source, (i, j)
            assert page.get_by_label("Prompt", exact=True).input_value() == _prompt(tag, i)
            texts.append(card_text(page))
        return texts, elapsed
    finally:
        for context in contexts:
            context.close()


def _prompt(tag: str, i: int) -> str:
    return f"The playground {tag}-marker-{i:02d}"


def _key(tag: str, i: int) -> str:
    return f"tgp_v1_{tag}_session_key_{i:02d}_" + "x" * 16


def test_ten_sessions_stream_at_once_and_stay_apart(browser, tmp_path):
    backend = LocalBackend(port=0, tokens_per_second=200).start()
    app = AppServer(backend.base_url, tmp_path / "data", tmp_path / "streamlit.log")
    try:
        proc = psutil.Process(app.proc.pid)
        warm = browser.new_context()
        page = warm.new_page()
        _start(page, app.url, backend.base_url, _key("warm", 0), _prompt("warm", 0))
        button(page, "Generate").click()
        expect(card(page)).to_contain_text(ENDED, timeout=60_000)
        warm.close()
        baseline = _steady_rss_mb(proc)

        peak = [baseline]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.25):
                peak[0] = max(peak[0], _rss_mb(proc))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        texts, elapsed = _round(browser, app, backend, "one")
        assert all(t.strip() for t in texts)
        # Each session's request carried its own prompt and its own key (has_auth only
        # says a key came; the prompts tie each request to its session).
        sent = [r for r in backend.requests_seen if r["path"].endswith("/completions")]
        assert sorted(r["body"]["prompt"] for r in sent[-SESSIONS:]) == [
            _prompt("one", i) for i in range(SESSIONS)]
        assert all(r["has_auth"] for r in sent)

        texts2, elapsed2 = _round(browser, app, backend, "two")
        sampling.set()
        sampler.join()
        assert all(t.strip() for t in texts2)
        deadline = time.monotonic() + 30
        after = _rss_mb(proc)
        while after > baseline + TOLERANCE_MB and time.monotonic() < deadline:
            time.sleep(2)                    # sessions are dropped a little after they close
            after = _rss_mb(proc)
        print(f"\nconcurrency: {SESSIONS} sessions x 2 rounds, up to 600 tokens at 200 tok/s each; "
              f"streams took {elapsed:.1f} s and {elapsed2:.1f} s; RSS baseline "
              f"{baseline:.0f} MB, peak {peak[0]:.0f} MB, after {after:.0f} MB "
              f"(tolerance +{TOLERANCE_MB} MB)")
        assert after <= baseline + TOLERANCE_MB
    finally:
        app.stop()
        backend.stop()
