"""The Completions page in headless Chromium against the app on the local backend."""
import json
import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from lib.saved.sharelink import encode_state
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from tests.support.canned_server import json_route
from tests.support.browser import (assert_no_exception, open_app, set_number, set_slider,
                                   wait_for_app)
from tests.support.browser import (button as _button, card as _card, card_text as _text,
                                   shoot as _shoot)

pytestmark = pytest.mark.e2e
FINISHED = re.compile(r"· (length|eos|stop) ·")
NO_EOS_STATE = {"page": "completions", "values": {"logit_bias": {"0": -100.0}}}
HOSTILE = "Look: <img src=x onerror=alert(1)> and <script>alert(2)</script> done"


@pytest.fixture
def completions(app_server, page, fresh_backend):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # Opened through a share link that bans end-of-text (token 0): the local model's text
    # is random and may otherwise end after a token or two, before a test could watch it.
    open_app(page, app_server.url, f"Completions?{urlencode(encode_state(NO_EOS_STATE))}")
    page.dialogs = dialogs
    return page


def _prompt(page, text):
    box = page.get_by_label("Prompt", exact=True)
    box.fill(text)
    return box


def _generate(page, prompt="The playground"):
    _prompt(page, prompt)
    _button(page, "Generate").click()


def _finished(page, i=0):
    expect(_card(page, i)).to_contain_text("tokens", timeout=30_000)
    expect(_button(page, "Generate")).to_be_visible(timeout=30_000)
    wait_for_app(page)


def test_text_streams_in_growing_and_finishes(completions, fresh_backend, screenshot_dir):
    page = completions
    fresh_backend.configure(tokens_per_second=25)
    set_number(page, "Max tokens", 60, tab="Output")
    _generate(page)
    text = _card(page).locator(".ct").first
    expect(text).not_to_have_text("", timeout=20_000)
    early = _text(page)
    expect(_button(page, "Stop")).to_be_visible()   # the early text was read mid-stream
    expect(text).not_to_have_text(early)            # and more came after it
    _finished(page)
    final = _text(page)
    assert final.startswith(early.rstrip()) and len(final) > len(early) > 0
    expect(_card(page)).to_contain_text(FINISHED)
    expect(page.get_by_text("Time to first token")).to_be_visible()
    assert_no_exception(page)
    _shoot(page, screenshot_dir / "completions_finished.png")


def test_n3_shows_three_cards_and_the_board(completions, fresh_backend, screenshot_dir):
    page = completions
    set_number(page, "Completions (n)", 3, tab="Output")
    set_slider(page, "Logprobs", 3, tab="Output")
    set_number(page, "Max tokens", 40, tab="Output")
    _generate(page)
    for i in range(3):
        _finished(page, i)
        assert _text(page, i)
    expect(_card(page, 3)).to_have_count(0)
    expect(page.get_by_role("heading", name="Choices board")).to_be_visible()
    expect(page.get_by_role("heading", name="Token probabilities")).to_be_visible()
    assert page.locator(".tv-tok").count() > 10
    assert_no_exception(page)
    _shoot(page, screenshot_dir / "completions_n3.png")


def test_stop_keeps_the_partial_text_and_marks_it_stopped(completions, fresh_backend,
                                                          screenshot_dir):
    page = completions
    fresh_backend.configure(tokens_per_second=15)
    set_number(page, "Max tokens", 2000, tab="Output")
    _generate(page)
    expect(_card(page).locator(".ct").first).not_to_have_text("", timeout=20_000)
    expect(_card(page)).not_to_contain_text("waiting for the first token")
    _button(page, "Stop").click()
    _finished(page)
    expect(_card(page)).to_contain_text("stopped")
    kept = _text(page)
    assert kept.strip()
    page.wait_for_timeout(500)   # nothing more may arrive after Stop
    assert _text(page) == kept
    assert_no_exception(page)
    _shoot(page, screenshot_dir / "completions_stopped.png")


def test_stop_answers_while_the_server_is_still_silent(completions, fresh_backend):
    page = completions
    fresh_backend.add_fault({"kind": "slow_first_byte", "seconds": 30})
    _generate(page)
    expect(page.get_by_text("Waiting for the server…")).to_be_visible()
    _button(page, "Stop").click()
    expect(_card(page)).to_contain_text("stopped")     # long before the server's 30 s
    expect(_button(page, "Generate")).to_be_visible()
    assert _text(page) == ""
    assert_no_exception(page)


def test_another_click_during_a_stream_loses_nothing(completions, fresh_backend):
    page = completions
    fresh_backend.configure(tokens_per_second=20)
    set_number(page, "Max tokens", 60, tab="Output")
    _generate(page)
    expect(_card(page).locator(".ct").first).not_to_have_text("", timeout=20_000)
    _button(page, "Copy link").click()          # reruns the whole page mid-stream
    expect(page.locator(".st-key-completions-share-link code")).to_be_visible()
    _finished(page)
    expect(_card(page)).to_contain_text(FINISHED)
    assert _text(page)


def test_ctrl_enter_in_the_prompt_generates(completions, fresh_backend):
    page = completions
    box = _prompt(page, "Typed then Ctrl+Enter")
    box.press("Control+Enter")
    _finished(page)
    sent = [r["body"] for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]
    assert sent and sent[-1]["prompt"] == "Typed then Ctrl+Enter"


@pytest.mark.parametrize("fault, words, partial", [
    ({"kind": "status", "status": 401}, "Invalid API key", False),
    ({"kind": "status", "status": 429, "retry_after": 0.1, "times": 3}, "Rate limited", False),
    ({"kind": "status", "status": 500, "times": 3}, "Server error", False),
    ({"kind": "drop_after", "tokens": 8}, "The stream broke off", True),
    ({"kind": "error_chunk", "after": 8, "message": "model overloaded"}, "model overloaded", True),
])
def test_faults_show_a_clear_message_and_keep_partial_text(completions, fresh_backend,
                                                           screenshot_dir, fault, words, partial):
    page = completions
    fresh_backend.add_fault(fault)
    _generate(page)
    alert = page.get_by_test_id("stAlertContentError").filter(has_text=words)
    expect(alert).to_be_visible(timeout=30_000)
    expect(_button(page, "Generate")).to_be_visible()
    text = _text(page)
    assert bool(text.strip()) == partial
    # "error" unless the choice had already ended (the demo model may emit eos early).
    expect(_card(page)).to_contain_text(re.compile(r"· (error|eos|stop) ·"))
    assert_no_exception(page)
    name = f"completions_fault_{fault['kind']}_{fault.get('status', '')}.png"
    _shoot(page, screenshot_dir / name)


def _hostile_stream(request):
    """The only completion this server knows is hostile markup (the local models cannot be
    made to say it), so the page's text rendering can be checked end to end."""
    pieces = [HOSTILE[i:i + 7] for i in range(0, len(HOSTILE), 7)]
    events = []
    for k, piece in enumerate(pieces):
        last = k == len(pieces) - 1
        events.append({"id": "c", "object": "completion.chunk", "choices": [
            {"index": 0, "text": piece, "finish_reason": "stop" if last else None,
             "seed": 1 if last else None, "logprobs": -0.5}],
            "usage": {"prompt_tokens": 3, "completion_tokens": len(pieces),
                      "total_tokens": 3 + len(pieces)} if last else None})
    data = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return 200, {"Content-Type": "text/event-stream"}, data + b"data: [DONE]\n\n"


HOSTILE_MODELS = json.dumps([{"id": "canned/html", "object": "model", "created": 0,
                              "type": "language", "pricing": {"input": 0, "output": 0}}])


@pytest.fixture
def canned_server(canned):
    server = canned({"/v1/models": json_route(200, HOSTILE_MODELS.encode()),
                     "/v1/completions": _hostile_stream})
    return f"{server.url}/v1"


def test_markup_in_a_completion_is_shown_as_text_and_never_runs(completions, canned_server,
                                                                screenshot_dir):
    page = completions
    page.get_by_text("Custom", exact=True).click()
    wait_for_app(page)
    url = page.get_by_role("textbox", name="Base URL")
    url.fill(canned_server)
    url.press("Enter")
    wait_for_app(page)
    set_slider(page, "Logprobs", 1, tab="Output")
    _generate(page)
    _finished(page)
    card = _card(page)
    expect(card.locator(".ct")).to_have_text(HOSTILE)
    assert card.locator("img").count() == 0 and card.locator("script").count() == 0
    assert page.locator(".tv-body img").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert_no_exception(page)
    _shoot(page, screenshot_dir / "completions_markup_as_text.png")
    page.get_by_text("Local", exact=True).click()     # leave the shared app as we found it
    wait_for_app(page)



def _sent_elements(frames: list) -> list[str]:
    """The fragment id (or "" outside any fragment) of each element the server sent."""
    messages = [ForwardMsg.FromString(f) for f in frames if isinstance(f, bytes)]
    return [m.delta.fragment_id for m in messages if m.WhichOneof("type") == "delta"]


def test_a_parameter_touch_redraws_the_parameter_panel_alone(app_server, page, fresh_backend):
    """Issue 14: a touch reran the sidebar, prompt and output too, nearly twice a bare page's
    cost. The request line under the parameters still follows at once, and a value the
    prompt column speaks of (Max tokens past the context) still reaches it."""
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    open_app(page, app_server.url, "Completions")
    _prompt(page, "The playground").press("Control+Enter")   # commits it: a request to sum up
    _finished(page)
    slider = page.get_by_test_id("stSlider").filter(has_text="Temperature")
    frames.clear()
    slider.get_by_role("slider").press("ArrowRight")
    value = slider.get_by_test_id("stSliderThumbValue")
    expect(value).not_to_have_text("0.70")
    expect(page.get_by_text(f"temperature={value.inner_text()}")).to_be_visible()
    wait_for_app(page)
    sent = _sent_elements(frames)
    assert sent and all(sent), f"{sent.count('')} of {len(sent)} elements outside the panel"

    warning = page.get_by_test_id("stAlertContentWarning").filter(has_text="Likely to be refused")
    frames.clear()
    set_number(page, "Max tokens", 5000, tab="Output")
    expect(warning).to_be_visible()
    assert "" in _sent_elements(frames)                 # the whole page ran for it
    set_number(page, "Max tokens", 100)
    expect(warning).to_have_count(0)
    assert_no_exception(page)


def test_a_field_fixed_in_the_parameter_panel_brings_its_request_line_back(app_server, page,
                                                                           fresh_backend):
    """A rerun of the panel alone is handed the full run's set of invalid fields: a fix
    made there kept counting as invalid until something reran the whole page."""
    open_app(page, app_server.url, "Completions")
    _prompt(page, "The playground").press("Control+Enter")
    _finished(page)
    page.get_by_role("tab", name="Seed & bias").click()
    bias = page.get_by_label("Logit bias", exact=True)
    for text, line in (("the: 5", None), ("13: 5", 'logit_bias={"13": 5.0}')):
        bias.fill(text)
        bias.blur()
        wait_for_app(page)
        if line is None:
            expect(page.get_by_text("line 1", exact=False).first).to_be_visible()
            expect(page.get_by_text("Sent: ")).to_have_count(0)
        else:
            expect(page.get_by_text(line)).to_be_visible()
    assert_no_exception(page)
