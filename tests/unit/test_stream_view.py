"""The stream renderer's pacing and its text escaping (the drawing itself is in AppTest/e2e)."""
from lib.ui.stream_view import frame_interval, text_html


def test_frames_are_batched_more_the_faster_the_stream():
    assert frame_interval(0, 0.0) == frame_interval(100, 1.0) == 1 / 20
    assert frame_interval(2000, 1.0) == 1 / 10


def test_model_text_becomes_escaped_text_with_its_whitespace():
    out = text_html("  <img src=x onerror=alert(1)>\n\tend ")
    assert out == ('<div class="ct">  &lt;img src=x onerror=alert(1)&gt;\n\tend </div>')
