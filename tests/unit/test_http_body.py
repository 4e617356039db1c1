"""The chunked-body decoder gives the same bytes however the framing is split."""
import pytest
from hypothesis import given, strategies as st

from lib.api.http_body import ChunkedDecoder


def frame(pieces: list[bytes], ext: bytes = b"") -> bytes:
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(p), ext, p) for p in pieces if p)
    return body + b"0\r\nTrailer: x\r\n\r\n"


def decode_in_parts(wire: bytes, cuts: list[int]) -> tuple[bytes, bool]:
    decoder, out, start = ChunkedDecoder(), [], 0
    for cut in sorted(set(cuts)) + [len(wire)]:
        out.append(decoder.feed(wire[start:cut]))
        start = cut
    return b"".join(out), decoder.done


@given(st.lists(st.binary(max_size=40), max_size=12),
       st.lists(st.integers(min_value=0, max_value=2000), max_size=20),
       st.sampled_from([b"", b";name=value"]))
def test_any_split_gives_the_body_and_sees_the_end(pieces, cuts, ext):
    wire = frame(pieces, ext)
    body, done = decode_in_parts(wire, [c % (len(wire) + 1) for c in cuts])
    assert body == b"".join(pieces)
    assert done


def test_every_single_offset_of_an_sse_stream():
    pieces = [b"data: {\"a\": 1}\n\n", b"data: \xe2\x80\xa8\n\n", b"data: [DONE]\n\n"]
    wire = frame(pieces)
    for cut in range(len(wire) + 1):
        assert decode_in_parts(wire, [cut]) == (b"".join(pieces), True)


def test_bytes_after_the_last_chunk_are_not_body():
    decoder = ChunkedDecoder()
    assert decoder.feed(b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK") == b"abc"
    assert decoder.done and decoder.feed(b"more") == b""


def test_a_garbled_size_line_is_an_error():
    with pytest.raises(ValueError, match="bad chunk size"):
        ChunkedDecoder().feed(b"zz\r\nabc\r\n")
