"""The stream renderer's pacing and its text escaping (the drawing itself is in AppTest/e2e)."""
from lib.text.stream_run import ChoiceView
from lib.ui.stream_view import empty_note, frame_interval, text_html


def _empty(finish_reason, done=True):
    return ChoiceView(index=0, text="", tokens=(), token_count=0, finish_reason=finish_reason,
                      seed=None, ttft=None, tokens_per_s=None, version=1, done=done)


def test_frames_are_batched_more_the_faster_the_stream():
    assert frame_interval(0, 0.0) == frame_interval(100, 1.0) == 1 / 20
    assert frame_interval(2000, 1.0) == 1 / 10


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
