"""Starting and waiting on Streamlit the way Streamlit's own e2e suite does.

Shared by the browser tests and the benchmarks, which drive the same app and browser.
"""
from __future__ import annotations

import subprocess
import time

import requests

from playwright.sync_api import Page, TimeoutError as PlaywrightTimeoutError, expect

CHROMIUM = "/usr/bin/chromium"
# The probe's flags: without the background-networking ones Chromium keeps dialling out.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 60.0,
                 interval: float = 0.2) -> None:
    """Until ``/_stcore/health`` answers ok; fail at once if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            if requests.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                return
        except requests.RequestException:
            pass
        time.sleep(interval)
    raise RuntimeError("streamlit did not become healthy in time")


def wait_for_app(page: Page, timeout: float = 30_000) -> None:
    """Connected, script finished, no skeleton left."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']",
                           timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def open_app(page: Page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    wait_for_app(page)


def go_to(page: Page, name: str) -> None:
    """Another page in the same session (a new URL would be a new session, without the key)."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name).first).to_be_visible()
    wait_for_app(page)


def fill(page: Page, label: str, text: str) -> None:
    """Type into the field labelled ``label`` and leave it, so Streamlit reruns."""
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Tab")
    wait_for_app(page)


def toggle(page: Page, tab: str, label: str) -> None:
    """Click the checkbox ``label`` on the parameter tab ``tab``."""
    page.get_by_role("tab", name=tab).click()
    page.get_by_test_id("stCheckbox").filter(has_text=label).locator("label").click()
    wait_for_app(page)


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


# Helpers shared by several browser test files (moved here from test_e2e_completions.py and
# test_e2e_images.py so the fault, security and concurrency suites drive the pages the same way).

def button(page: Page, name: str):
    """A page button (Streamlit's own header grows a "Stop" while a script runs long)."""
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name,
                                                                   exact=True)


def card(page: Page, i: int = 0, prefix: str = ""):
    """Completion card ``i`` (Compare prefixes its columns' cards with ``col<k>-``)."""
    return page.locator(f".st-key-{prefix}choice-{i}")


def card_text(page: Page, i: int = 0, prefix: str = "") -> str:
    """The model text shown in a card (not its "waiting…" or "(no text)" placeholders)."""
    return "".join(card(page, i, prefix).locator(".ct:not(.ct-wait)").all_inner_texts())


def settled(page: Page) -> None:
    """Wait until the browser has laid out and painted twice since now (after a resize)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def shoot(page: Page, path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 2400})
    settled(page)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def set_number(page: Page, label: str, value: int, tab: str | None = None) -> None:
    """Type ``value`` into a number field (on ``tab`` first, if given) and wait for it."""
    if tab:
        page.get_by_role("tab", name=tab).click()
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)
    expect(box).to_have_value(str(value))


def set_slider(page: Page, label: str, target: int, tab: str | None = None) -> None:
    """Arrow keys until the slider shows ``target`` (on ``tab`` first, if given); again if
    a rerun reset it (the app may still be redrawing after the previous field when the
    keys land)."""
    if tab:
        page.get_by_role("tab", name=tab).click()
    widget = page.get_by_test_id("stSlider").filter(has_text=label)
    slider, shown = widget.get_by_role("slider"), widget.get_by_test_id("stSliderThumbValue")
    for _ in range(3):
        for _ in range(60):
            now = round(float(shown.inner_text()))
            if now == target:
                break
            slider.press("ArrowRight" if now < target else "ArrowLeft")
        wait_for_app(page)
        if round(float(shown.inner_text())) == target:
            return
    expect(shown).to_have_text(str(target))


def pick(page: Page, label: str, option: str) -> None:
    """Choose in a selectbox by typing: the list filters to the option, which is given the
    keyboard focus and taken with Enter (or, when a fuzzy filter leaves others, clicked),
    and the box must then show it once it has lost the focus (else try again).

    Enter takes the focused option only, and a freshly filtered list focuses none: an
    Enter then closed the list, left the typed text in the box and chose nothing (the
    sweep's Y axis stayed "none" behind a box reading "Guidance scale"). So the check is
    made after a blur, which puts back the box's real value.

    A rerun started by the step before (a field committed just before the pick) can redraw
    the box and close its list between finding the option and taking it. That attempt is
    then made again: in a full run the click once waited out its timeout on an option gone.
    """
    select = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box = select.locator("input")
    for _ in range(3):
        wait_for_app(page)
        box.click()
        box.fill(option)
        choice = page.get_by_role("option", name=option)
        if choice.count() == 1:
            try:
                if page.get_by_role("option").count() == 1:
                    box.press("ArrowDown")
                    expect(choice).to_have_attribute("data-focused", "true", timeout=5_000)
                    box.press("Enter")
                else:
                    choice.click(force=True, timeout=5_000)
            except (AssertionError, PlaywrightTimeoutError):
                pass  # the list closed under us: the box's value, read below, decides
            wait_for_app(page)
        box.blur()
        wait_for_app(page)
        if option in box.input_value():
            return
    raise AssertionError(f"{label}: option {option!r} could not be picked")


def use_custom_provider(page: Page, base_url: str, key: str) -> None:
    """The Custom provider at ``base_url`` with ``key`` (one we can look for everywhere)."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Custom", exact=True).click()
    wait_for_app(page)
    for name, value in (("Base URL", base_url), ("API key", key)):
        box = sidebar.get_by_role("textbox", name=name)
        box.fill(value)
        box.press("Enter")
        wait_for_app(page)


def small_image_batch(page: Page, prompt: str, n: int) -> None:
    """On the Images page: ``prompt`` and ``n`` images of 256x256 in 4 steps (quick to draw)."""
    box = page.get_by_role("textbox", name="Prompt", exact=True)
    box.fill(prompt)
    box.press("Control+Enter")
    wait_for_app(page)
    set_number(page, "Width", 256)
    set_number(page, "Height", 256)
    set_slider(page, "Steps", 4)
    set_slider(page, "Images (n)", n)
    expect(page.get_by_text(f"{n} image{'s' if n > 1 else ''} of 256×256")).to_be_visible(
        timeout=20_000)
