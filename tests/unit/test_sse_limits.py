"""The SSE parser's size limit: one line or one event may not grow without end.

A server that never ends a line, or sends data lines without the blank line that ends
the event, would otherwise make the parser hold everything it sends. Over real HTTP
(with gzip, and the peak memory of the reading process) this is in test_client_limits.
"""
from __future__ import annotations

import pytest

from lib.api.sse import EVENT_MAX_BYTES, EventTooLarge, SSEParser

CHUNK = b'data: {"choices": [{"index": 0, "text": "a"}]}\n\n'


def test_the_default_limit_is_far_above_a_real_event_and_named():
    assert EVENT_MAX_BYTES == 1024 * 1024
    with pytest.raises(EventTooLarge, match="1,048,576-byte limit on one stream line or event"):
        parser = SSEParser()
        for _ in range(EVENT_MAX_BYTES // 4096 + 1):
            parser.feed(b"x" * 4096)


def test_a_line_that_never_ends_raises_once_it_passes_the_limit():
    parser = SSEParser(max_event_bytes=1000)
    assert parser.feed(b"data: " + b"x" * 900) == []
    with pytest.raises(EventTooLarge, match="1,000-byte limit"):
        parser.feed(b"x" * 200)


def test_data_lines_without_the_closing_blank_line_raise_once_they_pass_the_limit():
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge, match="1,000-byte limit"):
        for _ in range(20):
            parser.feed(b"data: " + b"y" * 90 + b"\n")


def test_events_completed_before_the_limit_are_handed_over_with_the_error():
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge) as info:
        parser.feed(CHUNK * 3 + b"data: " + b"z" * 2000)
    assert [e.data for e in info.value.events] == [CHUNK[6:-2].decode()] * 3
    parser = SSEParser(max_event_bytes=1000)
    with pytest.raises(EventTooLarge) as info:
        parser.feed(CHUNK * 2 + b"data: z\n" * 200)
    assert len(info.value.events) == 2


def test_an_event_just_under_the_limit_passes_and_comments_never_count():
    parser = SSEParser(max_event_bytes=1000)
    for _ in range(100):
        assert parser.feed(b": keep-alive " + b"k" * 50 + b"\n\n") == []
    (event,) = parser.feed(b"data: " + b"w" * 900 + b"\n\n")
    assert event.data == "w" * 900
    (event,) = parser.feed(b"data: " + b"v" * 900 + b"\n\n")
    assert event.data == "v" * 900
