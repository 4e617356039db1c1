"""Which key goes to which host, and the operator's Custom settings (issue 9, items 1, 2, 7).

The pure rules, on lib.connection; the pages' use of them (home page, presenter mode) is
checked under AppTest in app/test_page_keys.py.
"""
from __future__ import annotations

import pytest

from lib import connection
from lib.connection import (CUSTOM, LOCAL, TOGETHER, TYPED, Settings, TypedKeys, check_key,
                            choose_key, key_note, load_settings, origin, resolve)

TEAM_KEY = "tgp_v1_TEAM_sentinel_" + "Q9" * 10
TYPED_TOGETHER = "tgp_v1_typed_for_together_" + "x" * 10
TYPED_CUSTOM = "custom-typed-key-" + "y" * 10
OPERATOR_CUSTOM = "operator-custom-key-" + "z" * 10
LOCAL_ENV = {connection.LOCAL_URL_ENV: "http://127.0.0.1:1/v1"}  # never started, never called


# ------------------------------------------------------------------ the key choice

def test_the_configured_together_key_goes_only_to_together():
    settings = load_settings({"TOGETHER_API_KEY": TEAM_KEY})
    together = resolve(TOGETHER, settings=settings)
    assert (together.api_key, together.key_source) == (TEAM_KEY, "TOGETHER_API_KEY")
    assert together.base_url == connection.TOGETHER_BASE_URL
    custom = resolve(CUSTOM, "http://127.0.0.1:9/v1", settings=settings)
    assert custom.api_key is None and custom.key_source == ""
    assert resolve(LOCAL, settings=settings, env=LOCAL_ENV).api_key is None


def test_together_base_url_setting_is_where_the_together_key_goes():
    settings = load_settings({"TOGETHER_API_KEY": TEAM_KEY,
                              "TOGETHER_BASE_URL": "http://127.0.0.1:7/v1/"})
    conn = resolve(TOGETHER, settings=settings)
    assert (conn.base_url, conn.api_key) == ("http://127.0.0.1:7/v1", TEAM_KEY)


def test_custom_sends_its_own_setting_or_a_key_typed_for_its_origin():
    url = "http://127.0.0.1:9/v1"
    operator = load_settings({"TOGETHER_API_KEY": TEAM_KEY,
                              "PLAYGROUND_CUSTOM_API_KEY": OPERATOR_CUSTOM})
    assert choose_key(CUSTOM, url, TypedKeys(), operator) == connection.KeyChoice(
        OPERATOR_CUSTOM, "PLAYGROUND_CUSTOM_API_KEY")
    typed = TypedKeys(custom=TYPED_CUSTOM, custom_for=origin(url))
    assert choose_key(CUSTOM, url, typed, operator) == connection.KeyChoice(TYPED_CUSTOM, TYPED)


def test_a_key_typed_for_one_provider_never_goes_to_the_other():
    url = "http://127.0.0.1:9/v1"
    settings = Settings()
    for_together = TypedKeys(together=TYPED_TOGETHER)
    assert choose_key(CUSTOM, url, for_together, settings).key is None
    for_custom = TypedKeys(custom=TYPED_CUSTOM, custom_for=origin(url))
    assert choose_key(TOGETHER, connection.TOGETHER_BASE_URL, for_custom, settings).key is None
    assert choose_key(TOGETHER, connection.TOGETHER_BASE_URL, for_together,
                      settings).key == TYPED_TOGETHER


@pytest.mark.parametrize("typed_for", ["", "http://127.0.0.1:8", "https://127.0.0.1:9"])
def test_a_custom_key_typed_for_another_origin_is_not_sent(typed_for):
    typed = TypedKeys(custom=TYPED_CUSTOM, custom_for=typed_for)
    assert choose_key(CUSTOM, "http://127.0.0.1:9/v1", typed, Settings()).key is None


def test_origin_ignores_path_and_case_but_not_scheme_or_port():
    assert origin("HTTP://Example.COM:8000/v1/") == origin("http://example.com:8000/other")
    assert origin("http://example.com/v1") != origin("https://example.com/v1")
    assert origin("http://example.com:81/v1") != origin("http://example.com/v1")
    assert origin("not a url") == ""


def test_the_sidebar_words_say_which_key_goes_to_which_host():
    settings = load_settings({"TOGETHER_API_KEY": TEAM_KEY})
    assert key_note(resolve(TOGETHER, settings=settings)) == \
        "Key from TOGETHER_API_KEY → api.together.xyz"
    typed = TypedKeys(custom=TYPED_CUSTOM, custom_for="http://127.0.0.1:8000")
    assert key_note(resolve(CUSTOM, "http://127.0.0.1:8000/v1", typed, settings)) == \
        "Key typed here → 127.0.0.1:8000"
    assert key_note(resolve(CUSTOM, "http://127.0.0.1:8001/v1", typed, settings)) == \
        "No key is sent to 127.0.0.1:8001"


# ------------------------------------------------------------------ the key check

@pytest.mark.parametrize("key, words", [
    ("Bearer tgp_v1_abcdefghijklmnop", "without 'Bearer '"),
    ("bearer  tgp_v1_abcdefghijklmnop", "without 'Bearer '"),
    ("tgp_v1_abc defghijklmnop", "contains a space"),
    ("tgp_v1_abc\tdefghijklmnop", "contains a space"),
    ("tgp_v1_abcdéfghijklmnop", "cannot be sent"),
    ("tgp_v1_abc\ndefghijklmnop", "contains a space"),
    ("k" * 5000, "at most"),
])
def test_a_malformed_key_is_refused_in_words_without_echoing_it(key, words):
    with pytest.raises(ValueError) as info:
        check_key(key, TYPED)
    message = str(info.value)
    assert words in message and message.startswith("The key typed here")
    assert "abcdefghijklmnop" not in message and "defghijklmnop" not in message
    assert "k" * 50 not in message


def test_a_malformed_key_stops_resolve_naming_its_source():
    settings = load_settings({"TOGETHER_API_KEY": "Bearer " + TEAM_KEY})
    with pytest.raises(ValueError, match="^TOGETHER_API_KEY starts with 'Bearer '"):
        resolve(TOGETHER, settings=settings)
    assert check_key("  " + TEAM_KEY + "\n", TYPED) == TEAM_KEY


# ------------------------------------------------------------------ the Custom settings

def test_settings_come_from_the_environment_first_then_secrets():
    secrets = {"TOGETHER_API_KEY": "from-secrets-key-000", "PLAYGROUND_CUSTOM": False,
               "PLAYGROUND_CUSTOM_BASE_URLS": ["http://a:8000/v1"],
               "PLAYGROUND_CUSTOM_API_KEY": OPERATOR_CUSTOM}
    settings = load_settings({"TOGETHER_API_KEY": TEAM_KEY}, secrets)
    assert settings.together_key == TEAM_KEY and settings.custom_key == OPERATOR_CUSTOM
    assert settings.custom_enabled is False
    assert settings.custom_base_urls == ("http://a:8000/v1",)
    assert TEAM_KEY not in repr(settings) and OPERATOR_CUSTOM not in repr(settings)


@pytest.mark.parametrize("value", ["off", "OFF", "false", "0", "no"])
def test_custom_off_takes_it_out_of_the_providers_and_resolve_refuses_it(value):
    settings = load_settings({"PLAYGROUND_CUSTOM": value})
    assert connection.providers(settings) == (LOCAL, TOGETHER)
    with pytest.raises(ValueError, match="switched off.*PLAYGROUND_CUSTOM"):
        resolve(CUSTOM, "http://127.0.0.1:9/v1", settings=settings)


def test_custom_is_on_by_default():
    assert connection.providers(load_settings({})) == (LOCAL, TOGETHER, CUSTOM)


def test_the_allowlist_admits_listed_urls_and_names_them_when_refusing():
    settings = load_settings({"PLAYGROUND_CUSTOM_BASE_URLS": "http://a:8000/v1, https://B/v1/"})
    assert resolve(CUSTOM, "https://b/v1", settings=settings).base_url == "https://b/v1"
    assert resolve(CUSTOM, "http://a:8000/v1/", settings=settings).base_url == "http://a:8000/v1"
    with pytest.raises(ValueError) as info:
        resolve(CUSTOM, "http://a:8000/admin", settings=settings)
    assert "not on PLAYGROUND_CUSTOM_BASE_URLS" in str(info.value)
    assert "http://a:8000/v1, https://b/v1" in str(info.value)


@pytest.mark.parametrize("env, words", [
    ({"PLAYGROUND_CUSTOM": "maybe"}, "PLAYGROUND_CUSTOM must be on or off"),
    ({"PLAYGROUND_CUSTOM_BASE_URLS": "ftp://a/v1"}, "PLAYGROUND_CUSTOM_BASE_URLS"),
])
def test_a_bad_setting_is_named(env, words):
    with pytest.raises(ValueError, match=words):
        load_settings(env)
