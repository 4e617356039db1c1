"""Client.generate_images over real HTTP: base64 and URL items, and per-item failures."""
from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from lib.api import Client
from lib.api.errors import ImageItemError
import lib.api.image_fetch
from tests.support.canned_server import CannedServer, json_route

IMAGE = "local/procedural-image"
PARAMS = {"model": IMAGE, "prompt": "a lighthouse", "width": 64, "height": 64, "n": 3,
          "seed": 40}



def client(backend) -> Client:
    return Client(api_key="tgp_v1_images-test-key-0123456789", base_url=backend.base_url)


def image_fetches(backend) -> list[dict]:
    return [r for r in backend.requests_seen if r["path"].startswith("/images/")]


@pytest.mark.parametrize("output_format", ["png", "jpeg"])
def test_base64_images_are_decoded_with_seeds_and_format(local, output_format):
    result = client(local).generate_images({**PARAMS, "output_format": output_format})
    assert [(i.index, i.seed, i.format, i.image.size) for i in result.images] == [
        (n, 40 + n, output_format, (64, 64)) for n in range(3)]
    assert all(Image.open(io.BytesIO(i.data)).format.lower() == output_format
               for i in result.images)
    assert result.errors == [] and result.request_id and result.model == IMAGE
    assert "b64_json" not in result.images[0].raw  # megabytes are kept once, as bytes


def test_url_images_are_fetched_without_the_key(local):
    result = client(local).generate_images({**PARAMS, "response_format": "url"})
    assert [i.index for i in result.images] == [0, 1, 2] and result.errors == []
    assert all(i.url.startswith(local.root_url + "/images/") for i in result.images)
    fetches = image_fetches(local)
    assert len(fetches) == 3 and not any(f["has_auth"] for f in fetches)


@pytest.mark.parametrize("fault, status, words", [
    ({"kind": "status", "status": 404}, 404, "HTTP 404"),
    ({"kind": "not_image"}, None, "returned text/html, not an image"),
    ({"kind": "bomb"}, None, "refused as a decompression bomb"),
])
def test_one_bad_url_item_is_reported_and_the_others_kept(local, fault, status, words):
    local.add_fault({**fault, "path": "image_file"})
    result = client(local).generate_images({**PARAMS, "response_format": "url"})
    assert [i.index for i in result.images] == [1, 2]
    ((index, error),) = result.errors
    assert index == 0 and isinstance(error, ImageItemError) and words in error.message
    assert error.status == status
    # The page numbers images itself: the message names the URL, not an index.
    assert error.message.startswith("127.0.0.1:")
    assert error.describe().startswith("This image could not be used")


def test_the_request_seed_numbers_images_when_items_carry_none():
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    item = {"b64_json": base64.b64encode(png.getvalue()).decode(), "type": "b64_json"}
    answer = {"id": "x", "model": "m", "object": "list",
              "data": [{**item, "index": 0}, {**item, "index": 1}]}
    server = CannedServer({"/v1/images/generations": json_route(200, json.dumps(answer).encode())})
    try:
        c = Client(api_key="", base_url=server.url + "/v1")
        assert [i.seed for i in c.generate_images({"model": "m", "prompt": "p", "seed": 7}
                                                  ).images] == [7, 8]
        assert [i.seed for i in c.generate_images({"model": "m", "prompt": "p"}).images] == [
            None, None]
    finally:
        server.stop()


def test_unsafe_urls_redirects_and_corrupt_items_fail_alone():
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(png, "PNG")
    server = CannedServer({
        "/good.png": lambda r: (200, {"Content-Type": "image/png"}, png.getvalue()),
        "/hop": lambda r: (302, {"Location": "http://example.com/x.png"}, b""),
    })
    items = [{"index": 0, "type": "url", "url": "http://example.com/x.png"},
             {"index": 1, "type": "url", "url": "file:///etc/passwd"},
             {"index": 2, "type": "url", "url": server.url + "/hop"},
             {"index": 3, "type": "b64_json", "b64_json": "not base64!"},
             {"index": 4, "type": "url", "url": server.url + "/good.png"},
             {"index": 5, "type": "url"}]
    server.routes["/v1/images/generations"] = json_route(
        200, json.dumps({"id": "x", "model": "m", "data": items}).encode())
    try:
        result = Client(api_key="", base_url=server.url + "/v1").generate_images(
            {"model": "m", "prompt": "p"})
    finally:
        server.stop()
    assert [(i.index, i.format) for i in result.images] == [(4, "png")]
    messages = {index: error.message for index, error in result.errors}
    assert sorted(messages) == [0, 1, 2, 3, 5]
    for index in (0, 1, 2):
        assert "only https URLs (or http to this machine) are fetched" in messages[index]
    assert messages[3] == "its base64 data is corrupt"
    assert messages[5] == "the response item has neither b64_json nor url"
    assert [r.path for r in server.requests if r.method == "GET"] == ["/hop", "/good.png"]


@pytest.mark.parametrize("extra_headers, words", [
    ({}, "5,000 bytes is over the 1,000-byte limit"),                   # declared length
    ({"Connection": "close"}, "more than the 1,000-byte limit"),        # counted while reading
])
def test_an_image_over_the_size_cap_is_refused(monkeypatch, extra_headers, words):
    monkeypatch.setattr(lib.api.image_fetch, "IMAGE_MAX_BYTES", 1000)
    server = CannedServer({
        "/big.png": lambda r: (200, {"Content-Type": "image/png", **extra_headers},
                               b"\x89PNG" + b"\0" * 4996)})
    server.routes["/v1/images/generations"] = json_route(200, json.dumps(
        {"data": [{"index": 0, "type": "url", "url": server.url + "/big.png"}]}).encode())
    try:
        result = Client(api_key="", base_url=server.url + "/v1").generate_images(
            {"model": "m", "prompt": "p"})
    finally:
        server.stop()
    ((index, error),) = result.errors
    assert result.images == [] and words in error.message
