"""Odd values from outside, through the pages a user opens (AppTest over real HTTP).

A loopback server stands in for a provider that sends Infinity/NaN, string seeds, lone
surrogates, a GIF among PNGs; a hand-made share link carries a lone surrogate; a history
file holds a cut-off row. Each page shows what it can and says what it cannot, and never
a traceback.
"""
from __future__ import annotations

import base64
import io
import json
import sqlite3
import zlib

import pytest
from PIL import Image

from lib.saved import History, Run
from tests.support.canned_server import CannedServer
from tests.support.pages import open_page
from tests.support.shown import shown

MODEL = "local/canned"
SURROGATE = "\\ud800"   # as JSON spells it: json.loads turns it into a lone surrogate


def _json(status: int, text: str, content_type: str = "application/json"):
    return lambda request: (status, {"Content-Type": content_type}, text.encode())


ODD_MODELS = ('[{"id": "%s", "type": "language", "context_length": Infinity, '
              '"pricing": {"input": NaN, "output": -Infinity}}]' % MODEL)
PLAIN_MODELS = json.dumps([{"id": MODEL, "type": "language"}, {"id": "local/img", "type": "image"}])


def _stream() -> str:
    chunks = ['{"choices": [{"index": 0, "text": "odd %s text", "logprobs": NaN}]}' % SURROGATE,
              '{"choices": [{"index": 0, "text": " end", "logprobs": -0.5, '
              '"finish_reason": "length", "seed": "12345"}], '
              '"usage": {"prompt_tokens": 2, "completion_tokens": Infinity, '
              '"total_tokens": NaN}}']
    return "".join(f"data: {c}\n\n" for c in chunks) + "data: [DONE]\n\n"


def _whole() -> str:
    return ('{"id": "c", "created": Infinity, "choices": [{"index": 0, "text": "odd %s text", '
            '"finish_reason": "length", "seed": "abc", "logprobs": {"tokens": ["odd", "%s"], '
            '"token_logprobs": [NaN, -Infinity], "top_logprobs": [{"odd": NaN}, null]}}], '
            '"usage": {"prompt_tokens": 1e400, "completion_tokens": 2, "total_tokens": 3}}'
            % (SURROGATE, SURROGATE))


def _completions(request) -> tuple[int, dict, bytes]:
    """A stream or a whole answer, as asked, each carrying the same odd values."""
    if json.loads(request.body).get("stream"):
        return 200, {"Content-Type": "text/event-stream"}, _stream().encode()
    return 200, {"Content-Type": "application/json"}, _whole().encode()


def _b64(image: Image.Image, fmt: str) -> str:
    out = io.BytesIO()
    image.save(out, fmt)
    return base64.b64encode(out.getvalue()).decode()


def _images(request) -> tuple[int, dict, bytes]:
    png = _b64(Image.new("RGB", (64, 64), (200, 30, 30)), "PNG")
    gif = _b64(Image.new("P", (64, 64)), "GIF")
    data = [{"index": 0, "b64_json": png, "seed": "7"}, {"index": 1, "b64_json": gif},
            {"index": 2, "b64_json": png, "seed": 9}]
    return 200, {"Content-Type": "application/json"}, json.dumps(
        {"id": "i", "model": MODEL, "data": data}).encode()


@pytest.fixture
def serve(monkeypatch):
    """Start a loopback provider with the given /v1/models body; the pages talk to it."""
    servers = []

    def start(models: str) -> CannedServer:
        server = CannedServer({
            "/v1/models": _json(200, models),
            "/v1/completions": _completions,
            "/v1/images/generations": _images})
        servers.append(server)
        monkeypatch.setenv("PLAYGROUND_LOCAL_BACKEND_URL", server.url + "/v1")
        return server
    yield start
    for server in servers:
        server.stop()


def _no_traceback(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_the_home_page_lists_models_whose_numbers_are_infinity_or_nan(serve):
    serve(ODD_MODELS)
    at = open_page("playground.py")
    _no_traceback(at)
    (table,) = [shown(m) for m in at.markdown if m.value.startswith("| id |")]
    assert table.splitlines()[2] == f"| {MODEL} | language |  | – | – | – |"   # unknown


@pytest.mark.parametrize("stream, text, seed", [(True, "odd \ufffd text end", 12345),
                                                 (False, "odd \ufffd text", None)],
                         ids=["stream", "whole"])
def test_a_completion_with_a_lone_surrogate_nan_logprobs_and_an_odd_seed_shows_its_text(
        serve, stream, text, seed):
    """Streamed: a string seed "12345"; whole: the seed "abc". Both carry NaN logprobs and
    Infinity in usage."""
    serve(PLAIN_MODELS)
    at = open_page("pages/1_Completions.py")
    at.text_area(key="w:completions.prompt.0").set_value("Hi")
    at.slider(key="w:completions.logprobs.0").set_value(1)
    next(w for w in at.toggle if w.label == "Stream").set_value(stream)
    at.run()
    at.button(key="generate").click().run()
    _no_traceback(at)
    assert not at.error, [shown(e) for e in at.error]
    texts = [h.proto.body for h in at.get("html") if h.proto.body.startswith('<div class="ct">')]
    assert text in "".join(texts)
    titles = [m.value for m in at.markdown if m.value.startswith("Choice ")]
    assert titles and (seed is None or str(seed) in titles[0])
    assert at.session_state["completions:run"].join(10)
    (recorded,) = History().list(page="completions")
    assert recorded.status == "ok"
    assert History().get(recorded.id).outputs[0]["seed"] == seed


def test_an_image_batch_with_a_gif_keeps_the_other_images_and_names_the_format(serve):
    serve(PLAIN_MODELS)
    at = open_page("pages/2_Images.py")
    prompt = next(w for w in at.text_area if w.label == "Prompt")
    prompt.set_value("a red square")
    next(w for w in at.slider if w.label == "Images (n)").set_value(3)
    at.run()
    next(b for b in at.button if b.label == "Generate images").click().run()
    _no_traceback(at)
    assert len(at.image) == 2
    assert [i.captions[0] for i in at.image] == ["#1 · seed 7", "#3 · seed 9"]
    errors = " ".join(shown(e) for e in at.error) + " ".join(w.value for w in at.warning)
    assert "GIF" in errors and "PNG" in errors


def _raw_link(state_json: str) -> dict[str, str]:
    packed = zlib.compress(state_json.encode())
    return {"s": base64.urlsafe_b64encode(packed).rstrip(b"=").decode(), "v": "1"}


def test_a_share_link_carrying_a_lone_surrogate_opens_with_a_replacement_character(local):
    link = _raw_link('{"page": "completions", "values": {"prompt": "a %s b", '
                     '"stop": ["x%s", "\u3002"]}}' % (SURROGATE, SURROGATE))
    at = open_page("pages/1_Completions.py", link)
    _no_traceback(at)
    values = at.session_state["completions.values"]
    assert values["prompt"] == "a \ufffd b" and values["stop"] == ["x\ufffd", "\u3002"]
    assert next(w for w in at.text_area if w.label == "Prompt").value == "a \ufffd b"


def test_the_history_page_shows_a_cut_off_row_as_unreadable_and_the_rest(local):
    store = History()
    good = store.record(Run(page="completions", model="m", request={"prompt": "fine"},
                            outputs=[{"index": 0, "text": "kept"}], status="ok"))
    bad = store.record(Run(page="completions", model="m", request={"prompt": "cut"},
                           outputs=[{"index": 0, "text": "lost"}], status="ok"))
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET outputs = '[{\"index\": 0, \"te', created = created + 1 "
                   "WHERE id = ?", (bad,))
    at = open_page("pages/5_History.py")
    _no_traceback(at)
    (table,) = at.dataframe
    assert sorted(table.value["id"]) == [good, bad]
    assert any("This row is unreadable" in c.value for c in at.caption)   # newest is opened
    restore = next(b for b in at.button if b.label == "Restore")
    restore.click().run()
    _no_traceback(at)
    assert any("cannot be restored" in shown(e) for e in at.error), [shown(e) for e in at.error]
    next(b for b in at.button if b.label == "Replay").click().run()
    _no_traceback(at)
    assert any("cannot be replayed" in shown(e) for e in at.error)
    assert not [r for r in local.requests_seen if r["method"] == "POST"]
    at.selectbox(key="history:open").set_value(good).run()
    _no_traceback(at)
    assert any("kept" in h.proto.body for h in at.get("html"))
