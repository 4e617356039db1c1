"""Bad input through the pages (AppTest): each gives a clear message naming what is wrong,
sends nothing, loses nothing and raises nothing.

The catalogue's own messages for every parameter are checked in unit/test_catalogue.py;
here the same bad values arrive the ways a user can bring them in (a share link, a preset
file, a dropped PNG) and the page must say so. The engine's side (arbitrary bytes on the
wire, the timeout setting) is in unit/test_bad_wire_input.py.
"""
from __future__ import annotations

import base64
import json
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin
from streamlit.testing.v1 import AppTest

from lib.api import Client
from lib.images import encode_png
from lib.saved import History, PresetStore, Run, sharelink
from lib.ui import presets_panel
from tests.support.cases import COMPLETION_CASES, IMAGE_CASES
from tests.support.pages import open_page
from tests.support.png import chunk, insert_after_header, photo, png_bytes
from tests.support.shown import shown

PAGES = {"completions": "pages/1_Completions.py", "images": "pages/2_Images.py"}
UNICODE = "שלום עולם · مرحبا ‮reversed‬ · 👩🏽‍🚀🏳️‍🌈 · e\u0301\u0302\u0303 Z\u0335\u0321 · 𝔘𝔫𝔦 · NUL\x00here"


def _app(page: str, query: dict | None = None) -> AppTest:
    return open_page(PAGES[page], query)


def _api_requests(backend) -> list[dict]:
    return [r for r in backend.requests_seen if r["method"] == "POST"]


def _raw_link(state: object) -> dict[str, str]:
    """A link made by hand, bypassing the encoder's checks, as a tamperer would."""
    raw = json.dumps(state).encode()
    return {"s": base64.urlsafe_b64encode(zlib.compress(raw)).rstrip(b"=").decode(), "v": "1"}


def _linkable(cases):
    """One case per field whose bad value survives JSON (others cannot be in a link)."""
    seen, out = set(), []
    for name, value, message in cases:
        if name in seen or "required" in message:
            continue
        try:
            json.loads(json.dumps(value, allow_nan=False))
        except ValueError:
            continue
        seen.add(name)
        out.append(pytest.param(name, value, id=name))
    return out


# ---------------------------------------------------------------- every field, via a link

@pytest.mark.parametrize("page, cases", [("completions", COMPLETION_CASES),
                                          ("images", IMAGE_CASES)])
def test_every_field_beyond_its_limits_in_a_link_is_named_and_nothing_changes(local, page,
                                                                              cases):
    for param in _linkable(cases):
        name, value = param.values
        at = _app(page, _raw_link({"page": page, "values": {"prompt": "kept?", name: value}}))
        errors = [shown(e) for e in at.error]
        assert any(e.startswith("This link could not be opened") and name in e
                   for e in errors), (name, errors)
        assert at.session_state[f"{page}.values"].get("prompt") != "kept?"  # nothing applied
    assert _api_requests(local) == []


@pytest.mark.parametrize("damage, words", [
    (lambda s: s[:-9], "damaged"),
    (lambda s: s[:20] + "!!" + s[22:], "characters a link does not produce"),
    (lambda s: "A" * 70_000, "links hold at most"),
    (lambda s: base64.urlsafe_b64encode(zlib.compress(b" " * 4_000_000)).decode().rstrip("="),
     "unpacks to more than"),
    (lambda s: base64.urlsafe_b64encode(zlib.compress(b'{"page": "nowhere"}')).decode(),
     "unknown page"),
    (lambda s: base64.urlsafe_b64encode(zlib.compress(b'{"page": "completions", '
                                                      b'"values": {"temperature": NaN}}')
                                        ).decode(), "not valid JSON"),
])
def test_a_tampered_share_link_says_so_and_keeps_the_page(local, damage, words):
    good = sharelink.encode_state({"page": "completions", "values": {"prompt": "Linked"}})
    at = _app("completions", {"s": damage(good["s"]), "v": "1"})
    assert any(shown(e).startswith("This link could not be opened") and words in shown(e)
               for e in at.error), [shown(e) for e in at.error]
    assert at.session_state["completions.values"]["prompt"] == ""
    assert _api_requests(local) == []


def test_a_link_for_another_page_names_that_page_and_changes_nothing(local):
    link = sharelink.encode_state({"page": "images", "values": {"prompt": "A lighthouse"}})
    at = _app("completions", link)
    assert any(shown(e).startswith("This link holds settings for the Images page")
               for e in at.error), [shown(e) for e in at.error]
    assert at.session_state["completions.values"]["prompt"] == ""
    assert _api_requests(local) == []


# ---------------------------------------------------------------- prompts

def _generate(at: AppTest) -> None:
    at.button(key="generate").click().run()
    assert not at.exception, at.exception


def test_an_empty_prompt_names_the_prompt_and_sends_nothing(local):
    at = _app("completions")
    _generate(at)
    assert any("prompt" in e.value.lower() and "required" in e.value.lower() for e in at.error)
    assert _api_requests(local) == []


def test_a_1_mb_prompt_is_sent_whole_and_its_answer_or_refusal_is_plain(local):
    prompt = ("The playground holds up. " * 42_000)[:1_000_000]
    at = _app("completions")
    at.text_area(key="w:completions.prompt.0").set_value(prompt)
    at.run()
    _generate(at)
    assert at.session_state["completions:run"].join(60)
    at.run()
    assert not at.exception
    sent = [r["body"] for r in _api_requests(local) if r["path"].endswith("/completions")]
    assert len(sent) == 1 and sent[0]["prompt"] == prompt
    assert at.session_state["completions.values"]["prompt"] == prompt   # nothing lost
    run = History().list(page="completions")[0]
    assert History().get(run.id).request["prompt"] == prompt


def test_a_prompt_over_the_catalogue_cap_is_refused_naming_the_prompt(local):
    at = _app("completions")
    at.text_area(key="w:completions.prompt.0").set_value("x" * 2_000_001)
    at.run()
    _generate(at)
    assert any("prompt" in shown(e) and "2000000" in shown(e).replace(",", "")
               for e in at.error), [shown(e) for e in at.error]
    assert _api_requests(local) == []


def test_unusual_unicode_round_trips_through_the_stream_and_the_history(local, byte_server,
                                                                         tmp_path):
    """RTL, bidi overrides, ZWJ emoji, stacked combining marks, astral letters, NUL: echoed
    back by the local backend, and streamed raw as UTF-8 by a
    server that says them, they come back and are stored exactly."""
    with Client(api_key="", base_url=local.base_url) as client:
        echoed = client.complete({"model": "local/ngram-docs", "prompt": UNICODE,
                                  "echo": True, "max_tokens": 1})
    assert echoed.prompt_text == UNICODE
    pieces = [UNICODE[i:i + 3] for i in range(0, len(UNICODE), 3)]
    byte_server.body = b"".join(
        b"data: " + json.dumps({"choices": [{"index": 0, "text": p}]},
                               ensure_ascii=False).encode() + b"\n\n" for p in pieces
    ) + b"data: [DONE]\n\n"
    with Client(api_key="", base_url=byte_server.url, max_retries=0) as client:
        text = "".join(e.text for e in client.stream({"model": "m", "prompt": UNICODE}))
    assert text == UNICODE
    store = History(tmp_path / "h.db")
    run_id = store.record(Run(page="completions", model="m", request={"prompt": UNICODE},
                              outputs=[{"index": 0, "text": text}], status="ok"))
    back = store.get(run_id)
    assert back.request["prompt"] == UNICODE and back.outputs[0]["text"] == UNICODE
    assert store.list(search="👩🏽\u200d🚀")[0].id == run_id


def test_overlapping_stop_sequences_end_at_the_first_one_and_never_show_it(local):
    """"he", "the", "e " overlap each other; whichever matches first ends the text, and no
    stop sequence is left in what is shown."""
    stops = ["the", "he", "e ", "ee"]
    with Client(api_key="", base_url=local.base_url) as client:
        plain = client.complete({"model": "local/ngram-docs", "prompt": "The", "seed": 3,
                                 "max_tokens": 60, "temperature": 0}).choices[0].text
        stopped = client.complete({"model": "local/ngram-docs", "prompt": "The", "seed": 3,
                                   "max_tokens": 60, "temperature": 0, "stop": stops})
    first = min((plain.find(s) for s in stops if s in plain), default=-1)
    assert first >= 0, "the plain text should hold one of the stops for this test to mean it"
    choice = stopped.choices[0]
    assert choice.text == plain[:first] and choice.finish_reason == "stop"
    assert not any(s in choice.text for s in stops)


# ---------------------------------------------------------------- preset files

def test_a_tampered_preset_file_on_disk_is_reported_and_left_alone(local, tmp_path,
                                                                   monkeypatch):
    store = PresetStore()
    store.path.parent.mkdir(parents=True, exist_ok=True)
    tampered = json.dumps({"format": "together-playground-presets", "version": 1,
                           "presets": [{"page": "completions", "name": "Hot",
                                        "values": {"temperature": "very"}}]})
    store.path.write_text(tampered)
    at = _app("completions")
    assert not _messages(at)                                # the panel is read when opened
    at.session_state[presets_panel.open_key("completions")] = True
    at.run()
    assert any("temperature" in m for m in _messages(at)), _messages(at)
    assert store.path.read_text() == tampered                       # left exactly as it was


def _messages(at: AppTest) -> list[str]:
    return [shown(e) for e in (*at.error, *at.warning)]


@pytest.mark.parametrize("document, words", [
    (b"\xff\xfe not json", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    (json.dumps({"format": "together-playground-presets", "version": 1,
                 "presets": [{"page": "completions", "name": "X",
                              "values": {"top_k": 10**30}}]}).encode(), "top_k"),
    (json.dumps({"format": "together-playground-presets", "version": 1,
                 "presets": [{"page": "completions", "name": "<script>x</script>" * 50,
                              "values": {}}]}).encode(), "name"),
])
def test_importing_a_malformed_preset_file_says_why_and_keeps_every_preset(local, document,
                                                                           words):
    PresetStore().save(_preset("Mine"))
    before = PresetStore().export_json()
    at = _app("completions")
    at.session_state[presets_panel.open_key("completions")] = True
    at.run()
    at.file_uploader(key="completions:preset_upload").upload("bad.json", document,
                                                            "application/json").run()
    at.button(key="completions:preset_import").click().run()
    assert not at.exception
    assert any(m.startswith("Nothing was imported") and words in m
               for m in (*_messages(at), *[i.value for i in at.info])), _messages(at)
    assert PresetStore().export_json() == before


def _preset(name: str):
    from lib.saved.presets import Preset
    return Preset(page="completions", name=name, values={"temperature": 0.2})


# ---------------------------------------------------------------- PNGs dropped in

def _with_text(key: str, text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, text)
    return png_bytes(photo(), info)


def _huge_dimensions() -> bytes:
    png = png_bytes(photo())
    ihdr = struct.pack(">II", 100_000, 100_000) + png[24:29]
    data = png[:8] + chunk(b"IHDR", ihdr) + png[33:]
    return insert_after_header(data, chunk(b"tEXt", b"parameters\0a cat\nSteps: 9"))


@pytest.mark.parametrize("data, words", [
    (insert_after_header(png_bytes(photo()), chunk(b"tEXt", b"together-playground\0"
                                                   + b"x" * (50 * 2**20))), "text chunk of"),
    (insert_after_header(png_bytes(photo()), chunk(
        b"zTXt", b"together-playground\0\0" + zlib.compress(b" " * (50 * 2**20), 9))),
     "cannot be read"),
    (_huge_dimensions(), "too many pixels"),
    (_with_text("together-playground", "[" * 100_000 + "]" * 100_000), "not valid JSON"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "PNG"),
], ids=["50MB-text", "zTXt-bomb", "100k-by-100k", "deep-json", "garbage"])
def test_a_png_with_huge_or_malicious_metadata_is_refused_and_keeps_the_settings(local, data,
                                                                                 words):
    at = _app("images")
    at.text_area(key=[t.key for t in at.text_area if t.label == "Prompt"][0]).set_value(
        "keep this prompt").run()
    at.file_uploader[0].upload("evil.png", data, "image/png").run()
    assert not at.exception
    errors = [shown(e) for e in at.error]
    assert any(e.startswith("evil.png:") and words in e for e in errors), errors
    assert at.session_state["images.values"]["prompt"] == "keep this prompt"
    assert _api_requests(local) == []


def test_a_png_whose_settings_carry_markup_restores_them_as_plain_values(local):
    settings = {"prompt": '<img src=x onerror="window.__xss=1">', "width": 64, "height": 64,
                "model": "<script>x</script>"}
    at = _app("images")
    at.file_uploader[0].upload("made.png", encode_png(Image.new("RGB", (4, 4)), settings),
                               "image/png").run()
    assert not at.exception
    assert at.session_state["images.values"]["prompt"] == settings["prompt"]
    assert not [h for h in at.get("html") if "onerror" in h.proto.body]
