"""Team mode's rules: owners, the allowlist, the signed-out list, and an old history file
opened by the new code (each person sees only their own runs; personal-mode runs are no
one's until assigned)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lib.saved.history import SCHEMA_VERSION, History, Run
from lib.saved.owner import (LOCAL_OWNER, DenyList, allowed, check_owner, owner_folder,
                             owner_id, parse_allow, sign_in_digest)

ROOT = Path(__file__).resolve().parent.parent.parent
# Made by the playground before team mode (history schema 2): two runs from a laptop.
PERSONAL_DB = Path(__file__).parent / "fixtures" / "history_v2_personal.db"
ALICE = owner_id("http://127.0.0.1:9/", "alice")
BOB = owner_id("http://127.0.0.1:9/", "bob")


def run(prompt: str) -> Run:
    return Run(page="completions", model="m", request={"model": "m", "prompt": prompt})


# ---------------------------------------------------------------- owners

def test_the_owner_is_the_issuer_and_subject_hashed_never_a_name():
    assert ALICE != BOB
    assert owner_id("http://other-issuer/", "alice") != ALICE  # same sub, other provider
    assert ALICE == owner_id("http://127.0.0.1:9/", "alice")  # stable across sign-ins
    assert "alice" not in ALICE and check_owner(ALICE) == ALICE


@pytest.mark.parametrize("issuer, subject", [("", "alice"), ("http://i/", ""), (None, "a")])
def test_a_half_identity_owns_nothing(issuer, subject):
    with pytest.raises(ValueError, match="issuer.*subject"):
        owner_id(issuer, subject)


@pytest.mark.parametrize("bad", ["../x", "alice@example.com", "u-zz", ""])
def test_an_owner_that_could_name_another_folder_is_refused(bad):
    with pytest.raises(ValueError, match="An owner is"):
        check_owner(bad)


def test_personal_mode_keeps_its_folder_and_each_person_gets_their_own(tmp_path):
    assert owner_folder(tmp_path, LOCAL_OWNER) == tmp_path
    assert owner_folder(tmp_path, ALICE) == tmp_path / "owners" / ALICE
    assert owner_folder(tmp_path, ALICE) != owner_folder(tmp_path, BOB)


# ---------------------------------------------------------------- allowlist

def test_an_empty_allowlist_lets_every_signed_in_person_in():
    assert allowed("anyone@anywhere.org", parse_allow(None))


def test_addresses_and_domains_are_matched_exactly_and_without_case():
    allow = parse_allow(["Ana@Example.com", "team.org", "@corp.io"])
    assert allowed("ana@example.com", allow) and allowed("ANA@example.COM", allow)
    assert allowed("bo@team.org", allow) and allowed("cy@corp.io", allow)
    assert not allowed("bob@example.com", allow)       # another address at ana's domain
    assert not allowed("x@evil-team.org", allow)       # not a suffix match
    assert not allowed("x@sub.team.org", allow)        # not its subdomains
    assert not allowed("team.org", allow) and not allowed(None, allow)


@pytest.mark.parametrize("value, message", [
    ("example.com", "must be a list"), (["not an address"], "neither an e-mail"),
    ([42], "neither an e-mail"), (["a@b@c.com"], "neither an e-mail")])
def test_a_malformed_allowlist_is_refused_saying_what_is_allowed(value, message):
    with pytest.raises(ValueError, match=message):
        parse_allow(value)


# ---------------------------------------------------------------- signed out

def claims(**kw) -> dict:
    return {"iss": "http://127.0.0.1:9/", "sub": "alice", "nonce": "n1", "iat": 100, **kw}


def test_a_signed_out_sign_in_stays_denied_and_a_new_one_is_not(tmp_path):
    deny = DenyList(tmp_path / "signed-out.txt")
    assert sign_in_digest(claims()) not in deny
    deny.add(sign_in_digest(claims()))
    assert sign_in_digest(claims()) in DenyList(tmp_path / "signed-out.txt")  # another session
    assert sign_in_digest(claims(nonce="n2", iat=200)) not in deny  # signing in again works
    assert stat.S_IMODE(os.stat(tmp_path / "signed-out.txt").st_mode) == 0o600


def test_entries_older_than_the_cookie_are_dropped(tmp_path):
    deny = DenyList(tmp_path / "signed-out.txt")
    deny.add("a" * 64, now=0.0)
    deny.add("b" * 64, now=32 * 86400.0)
    assert "a" * 64 not in deny and "b" * 64 in deny


# ---------------------------------------------------------------- history by owner

def test_each_owner_sees_only_their_runs_and_another_id_is_not_found(tmp_path):
    path = tmp_path / "history.db"
    alice, bob = History(path, owner=ALICE), History(path, owner=BOB)
    alice_id = alice.record(run("alice's secret prompt"))
    bob.record(run("bob's prompt"))
    assert [r.title for r in bob.list()] == ["bob's prompt"]
    assert bob.get(alice_id) is None and bob.count(search="secret") == 0
    assert not bob.update(alice_id, status="ok") and not bob.delete(alice_id)
    assert bob.delete_all() == 1
    assert [r.title for r in alice.list()] == ["alice's secret prompt"]
    assert alice.get(alice_id).status == "failed"  # bob's update did not reach it


def test_a_database_from_before_team_mode_survives_and_its_runs_are_no_ones_until_assigned(
        tmp_path):
    path = tmp_path / "history.db"
    shutil.copy(PERSONAL_DB, path)
    alice = History(path, owner=ALICE)
    assert alice.list() == [] and alice.count() == 0 and alice.models() == []
    laptop = History(path)  # personal mode: the local owner, as before
    assert [r.title for r in laptop.list()] == ["A laptop picture",
                                                "A laptop prompt from personal mode"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    out = subprocess.run([sys.executable, "-m", "lib.saved.admin", "assign-local", "--to", ALICE],
                         cwd=ROOT, env={**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "2 runs" in out.stdout
    assert alice.count() == 2 and laptop.count() == 0 and History(path, owner=BOB).count() == 0
    assert alice.list(search="laptop prompt")[0].outputs == [{"index": 0, "text": "laptop text"}]


def test_the_admin_command_refuses_an_owner_it_does_not_make(tmp_path):
    out = subprocess.run([sys.executable, "-m", "lib.saved.admin", "assign-local", "--to",
                          "alice@example.com"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path)}, timeout=60)
    assert out.returncode == 2 and "An owner is" in out.stderr


# ---------------------------------------------------------------- team defaults

def test_team_mode_switches_custom_off_unless_the_operator_allows_it():
    from lib.connection import load_settings
    assert load_settings({}).custom_enabled  # personal mode: as before
    assert not load_settings({}, team=True).custom_enabled
    assert load_settings({"PLAYGROUND_CUSTOM": "on"}, team=True).custom_enabled
    assert load_settings({"PLAYGROUND_CUSTOM_BASE_URLS": "http://vllm:8000/v1"},
                         team=True).custom_enabled


def test_personal_mode_listens_on_loopback_only():
    import tomllib
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
