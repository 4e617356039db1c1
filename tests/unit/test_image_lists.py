"""image_loras and reference_images (issue 13 item 1): checked item by item, carried by PNGs
and share links, and honoured visibly by the local backend over real HTTP."""
from __future__ import annotations

import base64

import pytest
import requests
from PIL import Image

from lib.catalogue import IMAGES, ValidationError, build_request, validate
from lib.images.png_settings import encode_png, read_png_settings
from lib.saved.presets import PresetError, parse_preset
from lib.saved.sharelink import decode_state, encode_state

LORA = {"path": "https://huggingface.co/strangerzonehf/Flux-Midjourney-Mix2-LoRA",
        "scale": 0.8}
REFERENCE = "https://example.com/style/reference.png"
BASE = {"model": "m", "prompt": "a lighthouse"}


def problem(name, value):
    with pytest.raises(ValidationError) as info:
        validate(IMAGES, {**BASE, name: value})
    return info.value.for_field(name)


def test_good_items_are_normalised_and_sent():
    body = build_request(IMAGES, {**BASE, "image_loras": [{"path": f" {LORA['path']} ",
                                                           "scale": "1"}],
                                  "reference_images": [REFERENCE]})
    assert body["image_loras"] == [{"path": LORA["path"], "scale": 1.0}]
    assert body["reference_images"] == [REFERENCE]


def test_empty_lists_are_not_sent():
    body = build_request(IMAGES, {**BASE, "image_loras": [], "reference_images": []})
    assert "image_loras" not in body and "reference_images" not in body


@pytest.mark.parametrize("value, message", [
    ([{"path": "huggingface.co/x", "scale": 1}],
     "image_loras item 1: path must be an http(s) URL, got 'huggingface.co/x'"),
    ([LORA, {"path": LORA["path"], "scale": -2.5}],
     "image_loras item 2: scale must be a number from -2 to 2, got -2.5"),
    ([{"path": LORA["path"], "scale": "strong"}],
     "image_loras item 1: scale must be a number from -2 to 2, got 'strong'"),
    ([{"path": "https://h.co/l"}],
     "image_loras item 1 must be an object with exactly path and scale, got "
     "{'path': 'https://h.co/l'}"),
    ([LORA] * 5, "image_loras may hold at most 4 items, got 5"),
    ({"path": "https://h.co/l", "scale": 1},
     "image_loras must be a list of {path, scale} objects, got {'path': 'https://h.co/l', "
     "'scale': 1}"),
])
def test_bad_loras_name_the_item_and_what_is_allowed(value, message):
    assert problem("image_loras", value) == message


@pytest.mark.parametrize("value, message", [
    (["javascript:alert(1)"], "reference_images item 1 must be an http(s) URL, got "
                              "'javascript:alert(1)'"),
    ([REFERENCE, ""], "reference_images item 2 must be an http(s) URL, got ''"),
    ([REFERENCE, 7], "reference_images item 2 must be an http(s) URL, got 7"),
    (["https://e.com/" + "a" * 8200], "reference_images item 1 must be at most 8,192 "
                                       "characters, got 8,214"),
    (REFERENCE, "reference_images must be a list of http(s) URLs, got "
                "'https://example.com/style/reference.png'"),
])
def test_bad_reference_images_name_the_item_and_what_is_allowed(value, message):
    assert problem("reference_images", value) == message


def test_png_carries_both_lists_and_restores_them():
    settings = {**BASE, "image_loras": [LORA], "reference_images": [REFERENCE]}
    restored = read_png_settings(encode_png(Image.new("RGB", (8, 8)), settings))
    assert restored.values["image_loras"] == [LORA]
    assert restored.values["reference_images"] == [REFERENCE]
    assert not restored.dropped


def test_share_link_round_trips_both_lists():
    values = {"image_loras": [LORA, {"path": "http://127.0.0.1:9/l", "scale": -1.5}],
              "reference_images": [REFERENCE]}
    state = decode_state(encode_state({"page": "images", "values": values,
                                       "pinned": []}))
    assert state["values"] == values


def _picture(backend, **extra) -> bytes:
    body = {"model": "local/procedural-image", "prompt": "a lighthouse at dusk", "seed": 7,
            "width": 128, "height": 128, "response_format": "base64", "output_format": "png",
            **extra}
    response = requests.post(f"{backend.base_url}/images/generations", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return base64.b64decode(response.json()["data"][0]["b64_json"])


def test_local_backend_lora_changes_the_picture_by_its_scale(fresh_backend):
    plain = _picture(fresh_backend)
    pictures = [_picture(fresh_backend, image_loras=[{**LORA, "scale": s}])
                for s in (0.0, 0.5, 1.5)]
    assert pictures[0] == plain  # scale 0: no effect
    assert len({plain, *pictures[1:]}) == 3


def test_local_backend_reference_image_tints_without_fetching(fresh_backend):
    plain = _picture(fresh_backend)
    # A URL nothing listens on: a fetch would fail the request, a tint from its text does not.
    tinted = _picture(fresh_backend, reference_images=["http://127.0.0.1:9/ref.png"])
    other = _picture(fresh_backend, reference_images=[REFERENCE])
    assert len({plain, tinted, other}) == 3
    assert tinted == _picture(fresh_backend, reference_images=["http://127.0.0.1:9/ref.png"])


def test_a_preset_keeps_both_lists_and_refuses_a_bad_item():
    values = {"image_loras": [LORA], "reference_images": [REFERENCE]}
    preset = parse_preset({"name": "styled", "page": "images", "values": values},
                          where="preset 1")
    assert preset.values == values
    with pytest.raises(PresetError, match=r"reference_images item 1 must be an http\(s\) URL"):
        parse_preset({"name": "bad", "page": "images",
                      "values": {"reference_images": ["ftp://x"]}}, where="preset 1")
