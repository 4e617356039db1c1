"""One redaction rule everywhere: a key echoed by a server never reaches an error, and a
key pasted into settings never reaches a PNG, its A1111 text or a download ZIP.

Two keys: one shaped like a Together key (caught by shape alone) and a plain one of the
kind a self-hosted server takes, which only the process's own knowledge of its keys
(``lib.api.redact.remember``, done by every Client) can catch.
"""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from lib.api import Client
from lib.api.errors import AuthenticationError, TogetherError
from lib.images.archive import ZipImage, build_zip, png_with_settings
from lib.images.png_settings import a1111_parameters, encode_png
from tests.support.canned_server import CannedServer

TOGETHER_KEY = "tgp_v1_redaction-test-key-0123456789abcdef"
PLAIN_KEY = "custom-server-secret-8641"
KEYS = pytest.mark.parametrize("key", [TOGETHER_KEY, PLAIN_KEY], ids=["together", "plain"])


def echo_key(with_body: bool):
    """A route answering 401 that quotes the Authorization header back in the reason
    phrase, in headers (by value and by name) and, ``with_body``, in every JSON field."""
    def route(request):
        auth = request.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ")
        body = {"error": {"message": f"key {key} refused", "type": key, "code": key,
                          "param": key}, "id": key} if with_body else None
        headers = {"Content-Type": "application/json", "X-Request-Id": key, "X-Echo": auth,
                   "X-Debug": f"seen key={key};", f"X-{key}": "1",
                   "WWW-Authenticate": f'Bearer realm="{key}"'}
        return (401, f"Unauthorized {auth}"), headers, json.dumps(body).encode() if body else b""
    return route


@pytest.fixture(params=[False, True], ids=["reason-phrase", "json-body"])
def echo(request):
    server = CannedServer({"/v1/completions": echo_key(request.param)})
    yield server.url + "/v1"
    server.stop()


def everything_raised(error: TogetherError) -> str:
    """Every text the page, the history or a log could take from the error."""
    return "\n".join([str(error), error.describe(), repr(vars(error)), repr(error.headers),
                      str(error.request_id), str(error.type), str(error.code),
                      str(error.param)])


@KEYS
def test_a_key_echoed_in_reason_headers_and_body_is_in_no_part_of_the_error(echo, key):
    with pytest.raises(AuthenticationError) as info:
        Client(api_key=key, base_url=echo, max_retries=0).complete(
            {"model": "m", "prompt": "x"})
    text = everything_raised(info.value)
    assert key not in text, text
    assert "refused" in text or "Unauthorized" in text   # the server's words still show
    assert "x-debug" in info.value.headers                 # headers kept, values scrubbed


SETTINGS = {"model": "m", "prompt": "a fox", "seed": 7, "steps": 4, "width": 64,
            "height": 48}


def key_in(settings: dict, key: str) -> dict:
    """Settings where the key was pasted into the prompt, a known field and a nested one."""
    return {**SETTINGS, "prompt": f"a fox, my key is {key}", "negative_prompt": key,
            "extra": {"notes": [f"use {key}"], key: "as a name"}}


def assert_no_key(data: bytes, key: str) -> None:
    assert key.encode() not in data
    assert key.encode("utf-16-le") not in data


def png_texts(data: bytes) -> str:
    return repr(Image.open(io.BytesIO(data)).text)


def photo() -> Image.Image:
    return Image.linear_gradient("L").resize((64, 48)).convert("RGB")


@KEYS
def test_a_png_carries_no_key_from_its_settings(key):
    Client(api_key=key, base_url="http://127.0.0.1:9/v1").close()  # as the page holds it
    settings = key_in(SETTINGS, key)
    encoded = encode_png(photo(), settings)
    received = png_with_settings(ZipImage(photo(), settings, encode_png(photo())))
    for data in (encoded, received):
        assert_no_key(data, key)
        texts = png_texts(data)
        assert key not in texts and "a fox, my key is [redacted]" in texts
    assert key not in a1111_parameters(settings)


@KEYS
def test_a_zip_carries_no_key_in_its_images_or_manifest(key):
    Client(api_key=key, base_url="http://127.0.0.1:9/v1").close()
    settings = key_in(SETTINGS, key)
    manifest = {"request": settings, "requests": [settings], "error": f"401 for {key}"}
    data = build_zip([ZipImage(photo(), settings)], encode_png(photo(), settings), manifest)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["grid.png", "image_0001_seed7.png",
                                              "manifest.json"]
        for name in archive.namelist():
            entry = archive.read(name)
            assert_no_key(entry, key)
            if name.endswith(".png"):
                assert key not in png_texts(entry)
        assert '"error": "401 for [redacted]"' in archive.read("manifest.json").decode()


@KEYS
def test_a_key_echoed_in_a_successful_answers_request_id_is_not_kept(key):
    """The request id of a run is shown on the page and stored in its history row."""
    def route(request):
        body = {"id": "c", "choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]}
        return 200, {"Content-Type": "application/json", "X-Request-Id": f"rid-{key}-x" * 40}, \
            json.dumps(body).encode()
    server = CannedServer({"/v1/completions": route})
    try:
        completion = Client(api_key=key, base_url=server.url + "/v1").complete(
            {"model": "m", "prompt": "x"})
    finally:
        server.stop()
    assert completion.request_id.startswith("rid-[redacted]-x")
    assert key not in completion.request_id and len(completion.request_id) <= 200
