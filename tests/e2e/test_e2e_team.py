"""Team mode in Chromium against a real OpenID Connect provider on loopback: signed out
there is nothing to use, and each person's runs are their own.

The app runs with a configured key (sent to the local backend as "Together"), so a page
that leaked it, or a request made for a signed-out visitor, would show here.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer, free_port
from tests.support.browser import button, card, open_app, wait_for_app
from tests.support.oidc import OidcProvider, offline, sign_in, sign_out, write_secrets

pytestmark = pytest.mark.e2e

KEY = "tgp_v1_TEAMKEYdoNotLeak0123456789abcdef"
ALICE_PROMPT = "Alice's quarterly numbers 7391"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    p = OidcProvider({"alice": "alice@example.com", "bob": "bob@example.com"},
                     tmp_path_factory.mktemp("oidc") / "provider.log")
    yield p
    p.stop()


@pytest.fixture(scope="module")
def team_app(backend, provider, tmp_path_factory):
    folder = tmp_path_factory.mktemp("team")
    port = free_port()
    secrets_file = write_secrets(folder, port, provider)
    server = AppServer(backend.base_url, folder / "data", folder / "streamlit.log",
                       env={"TOGETHER_API_KEY": KEY, "TOGETHER_BASE_URL": backend.base_url},
                       port=port, args=("--secrets.files", str(secrets_file)))
    yield server
    server.stop()


@pytest.fixture
def person(browser):
    """A fresh browser for one person (its own cookies), as many as a test asks for."""
    contexts = []

    def new(cookies: list | None = None):
        context = offline(browser.new_context(viewport={"width": 1400, "height": 1000}))
        if cookies:
            context.add_cookies(cookies)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield new
    for context in contexts:
        context.close()


def generate(page, url: str, prompt: str) -> None:
    open_app(page, url, "Completions")
    page.get_by_label("Prompt", exact=True).fill(prompt)
    button(page, "Generate").click()
    expect(card(page, 0)).to_contain_text("tokens", timeout=30_000)
    expect(button(page, "Generate")).to_be_visible(timeout=30_000)
    wait_for_app(page)


def open_history(page, url: str, query: str = "") -> None:
    open_app(page, url, f"History{query}")
    expect(page.get_by_role("heading", name="History")).to_be_visible()


def opened_run_id(page) -> int:
    """The run the History page has open, from its address (what a person would copy)."""
    page.wait_for_url(re.compile(r"[?&]run=\d+"))
    return int(parse_qs(urlparse(page.url).query)["run"][0])


@pytest.fixture(scope="module")
def alice_run(browser, team_app):
    """Alice signs in, runs a prompt, and finds its id on History; her browser stays open."""
    context = offline(browser.new_context(viewport={"width": 1400, "height": 1000}))
    page = context.new_page()
    page.set_default_timeout(20_000)
    open_app(page, team_app.url)
    sign_in(page, "alice")
    generate(page, team_app.url, ALICE_PROMPT)
    open_history(page, team_app.url)
    expect(page.get_by_text(ALICE_PROMPT).first).to_be_attached()
    yield page, opened_run_id(page)
    context.close()


def test_signed_out_there_is_no_prompt_no_generate_no_key_and_no_request(
        team_app, backend, person):
    backend.clear_requests()
    page = person()
    for path in ("", "Completions", "Compare", "History"):
        open_app(page, team_app.url, path)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_label("Prompt", exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name="Generate")).to_have_count(0)
        expect(page.get_by_label("API key")).to_have_count(0)
        assert KEY not in page.content()
    assert backend.requests_seen == []  # not even the model list


def test_bob_sees_none_of_alices_runs_and_her_run_id_is_not_found(team_app, alice_run,
                                                                  person):
    _, run_id = alice_run
    bob = person()
    open_app(bob, team_app.url)
    sign_in(bob, "bob")
    expect(bob.get_by_text("Signed in as bob@example.com")).to_be_visible()
    for path in ("History", "Presenter", "Compare"):
        open_app(bob, team_app.url, path)
        assert ALICE_PROMPT not in bob.content(), path
    open_history(bob, team_app.url, f"?run={run_id}")
    expect(bob.get_by_text(f"Run {run_id} not found.")).to_be_visible()
    assert ALICE_PROMPT not in bob.content()


def test_alice_signing_in_again_sees_her_run(team_app, alice_run, person):
    _, run_id = alice_run
    again = person()
    open_app(again, team_app.url)
    sign_in(again, "alice")
    open_history(again, team_app.url, f"?run={run_id}")
    expect(again.get_by_text(ALICE_PROMPT).first).to_be_attached()
    expect(again.get_by_text("not found")).to_have_count(0)


def test_two_sessions_of_one_person_see_the_same_history(team_app, alice_run, person):
    first, _ = alice_run
    second = person()
    open_app(second, team_app.url)
    sign_in(second, "alice")
    generate(second, team_app.url, "Alice from her second window")
    for page in (first, second):
        open_history(page, team_app.url)
        expect(page.get_by_text(ALICE_PROMPT).first).to_be_attached()
        expect(page.get_by_text("Alice from her second window").first).to_be_attached()


def test_a_replayed_cookie_after_signing_out_is_signed_out(team_app, person):
    alice = person()
    open_app(alice, team_app.url)
    sign_in(alice, "alice")
    cookies = alice.context.cookies()
    copy = person(cookies)
    open_app(copy, team_app.url)  # while she is signed in, the copy is her: it can fail
    expect(copy.get_by_text("Signed in as alice@example.com")).to_be_visible()
    sign_out(alice)
    replay = person(cookies)
    open_app(replay, team_app.url)
    expect(replay.get_by_role("button", name="Sign in")).to_be_visible()
    expect(replay.get_by_text("Signed in as")).to_have_count(0)
    open_app(copy, team_app.url)  # the window that had it open is signed out as well
    expect(copy.get_by_role("button", name="Sign in")).to_be_visible()
