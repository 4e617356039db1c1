"""The sign-in gate under AppTest: team mode (an ``[auth]`` section) shows a signed-out visitor
nothing to use and sends nothing; a signed-in person gets the sidebar with their name and a
sign-out that sticks; personal mode warns when its key is open to the network.

The browser tests (e2e/test_e2e_team.py) do the same against a real sign-in provider.
"""
from __future__ import annotations

import json

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from lib.connection import CUSTOM
from lib.saved.owner import DenyList, sign_in_digest
from tests.support.app_server import ROOT
from tests.support.canned_server import CannedServer, json_route
from tests.support.shown import shown

KEY = "tgp_v1_TEAM_gate_sentinel_" + "Z7" * 10
MODELS = json.dumps({"data": [{"id": "vendor/model-a", "object": "model"}]}).encode()
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 64,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ALICE = {"is_logged_in": True, "iss": "http://127.0.0.1:9/", "sub": "alice",
         "email": "alice@example.com", "nonce": "n1", "iat": 100}


@pytest.fixture
def together(monkeypatch):
    server = CannedServer({"/v1/models": json_route(200, MODELS)})
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", server.url + "/v1")
    yield server
    server.stop()


def run(page: str, user: dict | None = None, team: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=30)
    if user is not None:
        at.secrets["auth"] = AUTH
        at.user = user
    if team is not None:
        at.secrets["team"] = team
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return " ".join(shown(e) for kind in ("markdown", "caption", "error", "warning")
                    for e in getattr(at, kind))


@pytest.mark.parametrize("page", ["playground.py", "pages/1_Completions.py",
                                  "pages/5_History.py"])
def test_signed_out_there_is_only_a_sign_in_button_and_no_request(together, page):
    at = run(page, user={"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.text_area and not [t for t in at.text_input if t.label == "API key"]
    assert KEY not in texts(at)
    assert together.requests == []


def test_signed_in_the_sidebar_names_the_person_and_the_page_works(together):
    at = run("playground.py", user=dict(ALICE))
    assert "Signed in as alice@example.com" in [shown(c) for c in at.sidebar.caption]
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert together.requests, "the model list is fetched once signed in"
    assert CUSTOM not in at.radio(key="w:provider").options  # team default: Custom off


def test_signing_out_denies_that_sign_in_even_when_its_cookie_comes_back(together):
    at = run("playground.py", user=dict(ALICE))
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert sign_in_digest(ALICE) in DenyList()
    replayed = run("playground.py", user=dict(ALICE))  # the same claims: a copied cookie
    assert [b.label for b in replayed.button] == ["Sign in"]
    again = run("playground.py", user={**ALICE, "nonce": "n2", "iat": 200})
    assert "Sign out" in [b.label for b in again.sidebar.button]


def test_someone_off_the_allowlist_is_told_so_and_gets_nothing(together):
    at = run("pages/1_Completions.py", user={**ALICE, "email": "mallory@evil.test"},
             team={"allow": ["example.com"]})
    assert any("mallory@evil.test may not use this playground" in shown(e) for e in at.error)
    assert not at.text_area and together.requests == []


@pytest.fixture
def address():
    """server.address as the operator set it, put back afterwards."""
    before = config.get_option("server.address")
    yield lambda value: config.set_option("server.address", value)
    config.set_option("server.address", before)


def test_personal_mode_warns_when_the_key_is_open_to_the_network(together, address,
                                                                 monkeypatch):
    address("0.0.0.0")
    assert any("anyone who can open this page spends that key" in shown(w)
               for w in run("playground.py").warning)
    address("127.0.0.1")
    assert not any("spends that key" in shown(w) for w in run("playground.py").warning)
    address("0.0.0.0")
    monkeypatch.delenv("TOGETHER_API_KEY")  # no key configured: nothing to spend
    assert not any("spends that key" in shown(w) for w in run("playground.py").warning)


def _where_saved_things_go() -> None:
    import streamlit as st

    from lib.ui import account
    st.text(str(account.preset_store().path))
    st.text(str(account.image_store().root))


def test_presets_and_images_are_kept_apart_per_person(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    folders = []
    for user in (ALICE, {**ALICE, "sub": "bob", "email": "bob@example.com"}):
        at = AppTest.from_function(_where_saved_things_go, default_timeout=30)
        at.secrets["auth"], at.user = AUTH, dict(user)
        at.run()
        assert not at.exception, at.exception
        folders.append([t.value for t in at.text])
    (alice_presets, alice_images), (bob_presets, bob_images) = folders
    assert alice_presets != bob_presets and alice_images != bob_images
    for path in (alice_presets, alice_images, bob_presets, bob_images):
        assert path.startswith(str(tmp_path / "owners" / "u-"))
