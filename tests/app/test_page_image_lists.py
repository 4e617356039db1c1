"""LoRA and reference image rows on the Images page (issue 13 item 1), under AppTest with
the local backend over real HTTP: rows are added and removed, each item is checked, and
what the rows hold is what is sent, restored from a PNG and put back by a share link."""
from __future__ import annotations

import pytest
from PIL import Image

from lib.images import encode_png
from lib.saved.sharelink import encode_state
from tests.support.pages import open_page
from tests.support.shown import shown

PAGE_FILE = "pages/2_Images.py"
LORA = "https://huggingface.co/XLabs-AI/flux-RealismLora"
REFERENCE = "https://example.com/ref.png"


@pytest.fixture
def at(local):
    return open_page(PAGE_FILE)


def button(at, key):
    return at.button(key=key)


def url_inputs(at, label):
    return [w for w in at.text_input if w.label.startswith(f"{label} ")]


def sent_bodies(backend):
    return [r["body"] for r in backend.requests_seen
            if r["path"].endswith("/images/generations")]


def small(at):
    at.text_area(key="w:images.prompt.0").set_value("a fox")
    at.number_input(key="w:images.width.0").set_value(64)
    at.number_input(key="w:images.height.0").set_value(64)
    at.slider(key="w:images.steps.0").set_value(2)


def test_rows_are_added_filled_and_removed_and_sent(at, fresh_backend):
    small(at)
    button(at, "images:image_loras:add").click().run()
    button(at, "images:image_loras:add").click().run()
    assert len(url_inputs(at, "LoRAs")) == 2
    assert not at.error  # empty rows are neither flagged nor sent
    url_inputs(at, "LoRAs")[0].set_value(LORA)
    at.number_input(key="w:images.image_loras.0.scale").set_value(0.5)
    url_inputs(at, "LoRAs")[1].set_value("https://h.co/second").run()
    button(at, "images:image_loras:remove:0").click().run()
    assert [w.value for w in url_inputs(at, "LoRAs")] == ["https://h.co/second"]
    button(at, "images:reference_images:add").click().run()
    url_inputs(at, "Reference images")[0].set_value(REFERENCE).run()
    at.button(key="images:generate").click().run()
    assert not at.exception
    (sent,) = sent_bodies(fresh_backend)
    assert sent["image_loras"] == [{"path": "https://h.co/second", "scale": 1.0}]
    assert sent["reference_images"] == [REFERENCE]


def test_a_bad_item_is_named_and_nothing_is_sent(at, fresh_backend):
    small(at)
    button(at, "images:reference_images:add").click().run()
    url_inputs(at, "Reference images")[0].set_value("file:///etc/passwd").run()
    assert "reference_images item 1 must be an http(s) URL, got 'file:///etc/passwd'" in [
        shown(e) for e in at.error]
    at.button(key="images:generate").click().run()
    assert sent_bodies(fresh_backend) == []


def test_add_stops_at_the_catalogue_limit(at):
    for _ in range(4):
        button(at, "images:reference_images:add").click().run()
    assert button(at, "images:reference_images:add").disabled


def test_a_png_and_a_share_link_put_the_rows_back(local):
    settings = {"model": "local/procedural-image", "prompt": "a fox",
                "image_loras": [{"path": LORA, "scale": -1.25}],
                "reference_images": [REFERENCE]}
    at = open_page(PAGE_FILE)
    at.file_uploader(key="images:upload").upload(
        "made_here.png", encode_png(Image.new("RGB", (8, 8)), settings), "image/png").run()
    assert [w.value for w in url_inputs(at, "LoRAs")] == [LORA]
    assert at.number_input(key="w:images.image_loras.0.scale").value == -1.25
    assert [w.value for w in url_inputs(at, "Reference images")] == [REFERENCE]
    linked = open_page(PAGE_FILE, encode_state({"page": "images", "values": settings,
                                                "pinned": []}))
    assert [w.value for w in url_inputs(linked, "LoRAs")] == [LORA]
    assert [w.value for w in url_inputs(linked, "Reference images")] == [REFERENCE]
