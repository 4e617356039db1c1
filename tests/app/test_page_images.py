"""The Images page under AppTest, talking to the local backend over real HTTP."""
from __future__ import annotations

import pytest
from PIL import Image

from lib.images import encode_png
from lib.saved import History
from tests.support.pages import open_page
from tests.support.shown import shown

PAGE_FILE = "pages/2_Images.py"


@pytest.fixture
def at(local):
    return open_page(PAGE_FILE)


def by_label(widgets, label):
    matches = [w for w in widgets if w.label == label]
    assert matches, f"no widget labelled {label!r}; have {[w.label for w in widgets]}"
    return matches[0]


def uploader(at):
    return by_label(at.file_uploader, "Restore settings from a PNG")


def image_requests(backend):
    return [r["body"] for r in backend.requests_seen
            if r["path"].endswith("/images/generations")]


def small(at, prompt="a red fox in snow", n=1):
    by_label(at.text_area, "Prompt").set_value(prompt)
    by_label(at.number_input, "Width").set_value(64)
    by_label(at.number_input, "Height").set_value(64)
    by_label(at.slider, "Steps").set_value(2)
    by_label(at.slider, "Images (n)").set_value(n)
    at.run()


def test_every_parameter_has_a_widget(at):
    assert {"Prompt", "Negative prompt"} <= {w.label for w in at.text_area}
    assert {"Width", "Height"} <= {w.label for w in at.number_input}
    assert {"Steps", "Guidance scale", "Images (n)"} <= {w.label for w in at.slider}
    assert "Image URL" in {w.label for w in at.text_input}
    assert {"Disable safety checker"} <= {w.label for w in at.toggle}
    groups = {g.label for g in at.button_group}
    assert {"Output format", "Response format", "Seed"} <= groups
    assert by_label(at.selectbox, "Model").value == "local/procedural-image"
    assert by_label(at.button, "Generate images")
    assert by_label(at.file_uploader, "Restore settings from a PNG")


def test_width_not_a_multiple_of_8_is_explained_and_nothing_is_sent(at, fresh_backend):
    by_label(at.text_area, "Prompt").set_value("a fox")
    by_label(at.number_input, "Width").set_value(1001).run()
    messages = [shown(e) for e in at.error]
    assert any("width must be an integer from 64 to 2048 and a multiple of 8, got 1001" in m
               for m in messages)
    by_label(at.button, "Generate images").click().run()
    assert any(m.startswith("Nothing was sent.") for m in (shown(e) for e in at.error))
    assert image_requests(fresh_backend) == []
    assert not at.image


def test_swap_and_aspect_presets_keep_the_longer_side(at):
    by_label(at.number_input, "Width").set_value(512)
    by_label(at.number_input, "Height").set_value(256).run()
    by_label(at.button, "Swap").click().run()
    assert (by_label(at.number_input, "Width").value,
            by_label(at.number_input, "Height").value) == (256, 512)
    by_label(at.button, "16:9").click().run()
    assert (by_label(at.number_input, "Width").value,
            by_label(at.number_input, "Height").value) == (512, 288)
    by_label(at.button, "3:4").click().run()
    assert (by_label(at.number_input, "Width").value,
            by_label(at.number_input, "Height").value) == (384, 512)


def test_generating_two_images_shows_both_with_their_seeds(at, fresh_backend):
    small(at, n=2)
    assert "2 images of 64×64" in " ".join(c.value for c in at.caption)
    by_label(at.button, "Generate images").click().run()
    assert not at.exception
    (sent,) = image_requests(fresh_backend)
    assert sent["n"] == 2 and sent["width"] == 64 and isinstance(sent["seed"], int)
    captions = [i.captions[0] for i in at.image]
    seed = sent["seed"]
    assert captions == [f"#1 · seed {seed}", f"#2 · seed {seed + 1}"]
    assert [b.label for b in at.button].count("Reuse seed") == 2
    downloads = [d.label for d in at.get("download_button")]
    assert {"Download grid (PNG)", "Download all (ZIP)"} <= set(downloads)
    assert downloads.count("PNG") == 2
    (recorded,) = History().list(page="images")
    assert recorded.status == "ok" and recorded.request == sent  # the drawn seed included
    assert [o["seed"] for o in recorded.outputs] == [seed, seed + 1]
    # reuse the second image's seed: the seed field switches to fixed with that number
    [b for b in at.button if b.label == "Reuse seed"][1].click().run()
    assert by_label(at.text_input, "Seed value").value == str(seed + 1)


def test_a_batch_over_the_cap_is_split_but_shown_as_one_grid(at, fresh_backend):
    small(at, n=6)
    assert "in 2 requests (at most 4 images each)" in " ".join(c.value for c in at.caption)
    by_label(at.button, "Generate images").click().run()
    sent = sorted(image_requests(fresh_backend), key=lambda b: b["seed"])
    assert [b["n"] for b in sent] == [4, 2] and sent[1]["seed"] == sent[0]["seed"] + 4
    assert len(at.image) == 6


def test_a_failed_request_keeps_the_other_images_and_says_why(at, fresh_backend):
    small(at, n=5)
    fresh_backend.add_fault({"kind": "status", "status": 400, "path": "images"})
    by_label(at.button, "Generate images").click().run()
    assert not at.exception
    errors = [shown(e) for e in at.error]
    assert any("Invalid request (HTTP 400)" in m for m in errors)
    assert 1 <= len(at.image) <= 4  # one of the two requests failed, the other's images show
    assert any("failed" in w.value for w in at.warning)


def test_dropping_a_png_restores_its_settings(at):
    settings = {"model": "some/other-model", "prompt": "a lighthouse", "width": 640,
                "height": 384, "seed": 1234, "steps": 7, "guidance_scale": 5.0,
                "api_key": "must-not-restore", "sampler": "euler"}
    png = encode_png(Image.new("RGB", (8, 8)), settings)
    uploader(at).upload("made_here.png", png, "image/png").run()
    assert not at.exception
    assert by_label(at.text_area, "Prompt").value == "a lighthouse"
    assert (by_label(at.number_input, "Width").value,
            by_label(at.number_input, "Height").value) == (640, 384)
    assert by_label(at.slider, "Steps").value == 7
    assert by_label(at.text_input, "Seed value").value == "1234"
    assert by_label(at.text_input, "Model id").value == "some/other-model"
    note = at.success[0].value
    assert "Restored" in note and "sampler" in note
    assert "must-not-restore" not in note


def test_a_png_without_settings_is_refused_in_plain_words(at):
    uploader(at).upload("plain.png", encode_png(Image.new("RGB", (4, 4))), "image/png").run()
    assert "carries no generation settings" in shown(at.error[0])


def test_sweep_shows_the_request_count_and_asks_before_a_big_one(at, fresh_backend):
    small(at)
    by_label(at.text_area, "X axis values").set_value("1-3").run()
    by_label(at.selectbox, "Y axis").set_value("steps").run()
    by_label(at.text_area, "Y axis values").set_value("2, 4").run()
    assert any("2 × 3 = 6 requests" in m.value for m in at.markdown)
    assert not by_label(at.button, "Run sweep").disabled
    by_label(at.text_area, "X axis values").set_value("1-9").run()
    assert any("2 × 9 = 18 requests" in m.value for m in at.markdown)
    assert by_label(at.button, "Run sweep").disabled
    by_label(at.checkbox, "Yes, send 18 requests (more than 16)").check().run()
    assert not by_label(at.button, "Run sweep").disabled
    assert image_requests(fresh_backend) == []


def test_a_2x2_sweep_shows_a_plot_and_its_cells(at, fresh_backend):
    small(at)
    by_label(at.text_area, "X axis values").set_value("5, 6").run()
    by_label(at.selectbox, "Y axis").set_value("guidance_scale").run()
    by_label(at.text_area, "Y axis values").set_value("1, 9").run()
    by_label(at.button, "Run sweep").click().run()
    assert not at.exception
    sent = image_requests(fresh_backend)
    assert sorted((b["seed"], b["guidance_scale"]) for b in sent) == [
        (5, 1.0), (5, 9.0), (6, 1.0), (6, 9.0)]
    captions = [c for i in at.image for c in i.captions]
    assert captions[0] == "X/Y plot: Seed × Guidance scale"
    assert len(captions) == 5  # the plot, then the four cells with their seeds
