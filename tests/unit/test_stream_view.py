"""The stream renderer's pacing and its text escaping (the drawing itself is in AppTest/e2e)."""
from lib.text.stream_run import ChoiceView
from lib.ui.stream_view import (HEADER_INTERVAL_S, ChoiceCard, empty_note, frame_interval,
                                text_html)


def _empty(finish_reason, done=True):
    return ChoiceView(index=0, text="", tokens=(), token_count=0, finish_reason=finish_reason,
                      seed=None, ttft=None, tokens_per_s=None, version=1, done=done)


def test_frames_are_batched_more_the_faster_the_stream():
    assert frame_interval(0, 0.0) == frame_interval(10, 1.0) == 1 / 20
    assert frame_interval(2000, 1.0) == 1 / 10


def test_a_reading_speed_stream_gets_fifteen_frames_a_second():
    """Each frame costs the server a delta per element (issue 14), and a token must show
    within 100 ms (issue 3): 50 tok/s gets 15, a slow stream 20, a fast one 10."""
    assert frame_interval(50, 1.0) == 1 / 15
    assert frame_interval(10, 1.0) == 1 / 20
    assert frame_interval(500, 1.0) == 1 / 10


class Slot:
    """Records what a card sends to one of its elements."""

    def __init__(self):
        self.sent: list[str] = []

    def markdown(self, body: str) -> None:
        self.sent.append(body)

    html = markdown


def _streamed(tokens: int, finish_reason=None):
    return ChoiceView(index=0, text="word " * tokens, tokens=(), token_count=tokens,
                      finish_reason=finish_reason, seed=None, ttft=0.1, tokens_per_s=50.0,
                      version=tokens, done=finish_reason is not None)


def test_a_card_redraws_its_header_once_a_second_and_its_text_every_frame():
    now = [0.0]
    card = ChoiceCard(0, clock=lambda: now[0])
    card.header, card.tail = Slot(), Slot()
    for tokens in range(1, 21):          # 20 frames, 10 a second
        card.update(_streamed(tokens), running=True)
        now[0] += 0.1
    assert len(card.tail.sent) == 20
    # The first text's header at once (never "0 tokens" over text), then one a second.
    assert len(card.header.sent) <= 1 + 2 / HEADER_INTERVAL_S
    assert "1 tokens" in card.header.sent[0]
    card.update(_streamed(21, "length"), running=False)   # the end, at once
    assert "length" in card.header.sent[-1] and "21 tokens" in card.header.sent[-1]


def test_model_text_becomes_escaped_text_with_its_whitespace():
    out = text_html("  <img src=x onerror=alert(1)>\n\tend ")
    assert out == ('<div class="ct">  &lt;img src=x onerror=alert(1)&gt;\n\tend </div>')


def test_an_empty_card_says_why_it_is_empty_once_the_run_is_over():
    assert empty_note(_empty(None, done=False), running=True) == "waiting for the first token…"
    assert empty_note(_empty("error"), False, "Bad request (HTTP 400)") == (
        "Failed before any text: Bad request (HTTP 400)")
    assert empty_note(_empty("stopped"), False) == "Stopped before any text"
    assert empty_note(_empty("length"), False) == "Finished with no text (finish reason length)"
    assert empty_note(_empty("stop"), True) == "Finished with no text (finish reason stop)"
