"""The SSE parser must give the same events however the bytes were split or terminated."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.api.sse import SSEEvent, SSEParser


def parse_all(*chunks: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    events = [e for chunk in chunks for e in parser.feed(chunk)]
    return events + parser.flush()


def test_a_data_line_and_a_blank_line_make_one_event():
    assert parse_all(b"data: hello\n\n") == [SSEEvent(data="hello")]


def test_an_event_is_dispatched_only_at_the_blank_line():
    parser = SSEParser()
    assert parser.feed(b"data: a\n") == []
    assert parser.feed(b"\n") == [SSEEvent(data="a")]


def test_all_three_line_endings_are_accepted():
    assert parse_all(b"data: a\r\rdata: b\r\n\r\ndata: c\n\n") == [
        SSEEvent(data="a"), SSEEvent(data="b"), SSEEvent(data="c")]


def test_cr_and_lf_split_across_chunks_are_one_line_end():
    assert parse_all(b"data: a\r", b"\n\r", b"\ndata: b\r", b"\r") == [
        SSEEvent(data="a"), SSEEvent(data="b")]


def test_a_lone_cr_at_a_chunk_end_dispatches_without_waiting():
    parser = SSEParser()
    assert parser.feed(b"data: a\r\r") == [SSEEvent(data="a")]
    assert parser.feed(b"\ndata: b\n\n") == [SSEEvent(data="b")]


def test_data_with_and_without_the_space_and_only_one_space_is_removed():
    assert parse_all(b"data:a\n\ndata:  b\n\n") == [SSEEvent(data="a"), SSEEvent(data=" b")]


def test_multi_line_data_is_joined_with_newlines():
    assert parse_all(b"data: one\ndata:\ndata: three\n\n") == [SSEEvent(data="one\n\nthree")]


def test_a_field_without_colon_has_an_empty_value():
    assert parse_all(b"data\ndata\n\n") == [SSEEvent(data="\n")]


def test_comments_are_ignored_and_a_comment_only_block_dispatches_nothing():
    assert parse_all(b": keep-alive\n\n:x\ndata: a\n: mid\n\n") == [SSEEvent(data="a")]


def test_event_id_and_retry_fields():
    events = parse_all(b"event: update\nid: 7\nretry: 1500\ndata: a\n\ndata: b\n\n")
    assert events == [SSEEvent(event="update", data="a", id="7", retry=1500),
                      SSEEvent(event="message", data="b", id="7", retry=1500)]


def test_invalid_retry_and_id_with_nul_are_ignored():
    assert parse_all(b"retry: 1.5\nid: a\x00b\ndata: x\n\n") == [SSEEvent(data="x")]


def test_unknown_fields_are_ignored():
    assert parse_all(b"foo: bar\ndata: x\n\n") == [SSEEvent(data="x")]


def test_a_leading_bom_is_stripped_even_when_split():
    assert parse_all(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == [SSEEvent(data="a")]


def test_a_bom_later_in_the_stream_is_data():
    assert parse_all(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [SSEEvent(data="a")]


def test_a_multibyte_character_split_across_chunks():
    raw = "data: é€😀\n\n".encode()
    for cut in range(len(raw)):
        assert parse_all(raw[:cut], raw[cut:]) == [SSEEvent(data="é€😀")]


def test_u2028_inside_data_is_not_a_line_break():
    assert parse_all('data: {"t": "a\u2028b\u0085c"}\n\n'.encode()) == [
        SSEEvent(data='{"t": "a\u2028b\u0085c"}')]


def test_invalid_utf8_is_replaced_not_fatal():
    assert parse_all(b"data: a\xffb\n\n") == [SSEEvent(data="a\ufffdb")]


def test_flush_delivers_an_unterminated_last_event():
    parser = SSEParser()
    assert parser.feed(b"data: [DONE]") == []
    assert parser.flush() == [SSEEvent(data="[DONE]")]


def test_flush_after_a_complete_stream_gives_nothing():
    parser = SSEParser()
    parser.feed(b"data: a\n\n")
    assert parser.flush() == []


# ----------------------------------------------------------------- property

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
                max_size=20)
_events = st.lists(st.tuples(st.one_of(st.just(""), st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
                             st.lists(_text, min_size=1, max_size=3)),
                   max_size=6)


@st.composite
def serialised_streams(draw):
    """Events, and their wire form with random endings, comments, spacing and splits."""
    events = draw(_events)
    out = bytearray(draw(st.sampled_from([b"", b"\xef\xbb\xbf"])))

    def line(content: bytes) -> None:
        endings = [b"\n", b"\r\n", b"\r"]
        if not content and out.endswith(b"\r"):
            endings.remove(b"\n")  # "\r" + "\n" would be one line end, not a blank line
        out.extend(content + draw(st.sampled_from(endings)))

    expected = []
    for name, lines in events:
        if draw(st.booleans()):
            line(b":" + draw(_text).encode())
        if name:
            line(b"event: " + name.encode())
        for text in lines:
            space = b" " if text.startswith(" ") else draw(st.sampled_from([b"", b" "]))
            line(b"data:" + space + text.encode())
        line(b"")
        expected.append(SSEEvent(event=name or "message", data="\n".join(lines)))
    cuts = sorted(draw(st.lists(st.integers(0, len(out)), max_size=8)))
    chunks = [bytes(out[a:b]) for a, b in zip([0] + cuts, cuts + [len(out)])]
    return expected, bytes(out), chunks


@settings(max_examples=200, deadline=None)
@given(serialised_streams())
def test_random_streams_split_anywhere_parse_like_unsplit(case):
    expected, whole, chunks = case
    assert parse_all(whole) == expected
    assert parse_all(*chunks) == expected


@settings(max_examples=40, deadline=None)
@given(serialised_streams())
def test_one_byte_at_a_time_parses_like_unsplit(case):
    expected, whole, _ = case
    assert parse_all(*(whole[i:i + 1] for i in range(len(whole)))) == expected
