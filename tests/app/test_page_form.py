"""The parameter form on the pages, under AppTest: first touch (issue 11 item 7)."""
import pytest
from tests.support.pages import open_page
from tests.support.shown import shown

COMPLETIONS_FILE = "pages/1_Completions.py"
IMAGES_FILE = "pages/2_Images.py"


@pytest.fixture
def at(local):
    return open_page(COMPLETIONS_FILE)


def _not_ready(at):
    return [shown(c) for c in at.caption if shown(c).startswith("Not ready to send")]


def test_a_fresh_page_says_nothing_is_missing_until_generate_is_pressed(at, fresh_backend):
    assert _not_ready(at) == []
    assert not any("required" in shown(e) for e in at.error)
    at.button(key="generate").click().run()
    assert _not_ready(at) == ["Not ready to send: prompt is required and must not be empty."]
    assert any(shown(e).startswith("Nothing was sent. prompt is required") for e in at.error)
    at.text_area(key="w:completions.prompt.0").set_value("Hi").run()
    assert _not_ready(at) == []   # fixed: the message goes


def test_the_images_page_waits_for_generate_too(local):
    at = open_page(IMAGES_FILE)
    assert _not_ready(at) == []
    at.button(key="images:generate").click().run()
    assert _not_ready(at) == ["Not ready to send: prompt is required and must not be empty."]


def test_n_is_a_number_input_not_a_slider(at):
    assert not [s for s in at.slider if s.label == "Completions (n)"]
    n = at.number_input(key="w:completions.n.0")
    assert n.label == "Completions (n)"
    n.set_value(3)
    at.text_area(key="w:completions.prompt.0").set_value("Hi")
    at.run()
    assert any(shown(c).startswith("Sent: ") and "n=3" in shown(c) for c in at.caption)


@pytest.mark.parametrize("page_file, key, example", [
    (COMPLETIONS_FILE, "w:completions.prompt.0", "Write a prompt, e.g."),
    (IMAGES_FILE, "w:images.prompt.0", "Write a prompt, e.g."),
])
def test_the_prompt_box_has_a_placeholder(local, page_file, key, example):
    at = open_page(page_file)
    assert at.text_area(key=key).placeholder.startswith(example)


def test_the_sweep_page_waits_for_run_before_saying_what_is_missing(local, fresh_backend):
    at = open_page("pages/4_Sweep.py")
    assert not [c for c in at.caption if shown(c).startswith("Not ready to run")]
    at.button(key="sweep-run").click().run()
    assert any(shown(c) == "Not ready to run: prompt is required and must not be empty."
               for c in at.caption)
    assert at.button(key="sweep-run").disabled
    assert not [r for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]
