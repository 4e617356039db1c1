"""Ranking the n choices and finding where they part from the most likely one."""
import pytest

from lib.api.results import TokenLogprob
from lib.text import choice_board as cb


def _entry(i, text, lps=()):
    return cb.Entry(i, text, tuple(TokenLogprob("t", lp) for lp in lps))


def test_rank_by_mean_logprob_is_length_fair_and_puts_unknown_last():
    a = _entry(0, "long answer", [-1.0] * 10)      # sum -10, mean -1
    b = _entry(1, "short", [-3.0])                 # sum -3, mean -3
    c = _entry(2, "no logprobs")
    assert [e.index for e in cb.rank([c, b, a])] == [0, 1, 2]
    assert [e.index for e in cb.rank([a, b, c], cb.BY_LENGTH)] == [0, 2, 1]
    assert cb.reference([b, a]).index == 0
    assert cb.reference([]) is None
    with pytest.raises(ValueError):
        cb.rank([a], "sideways")


def test_segments_mark_shared_and_different_words_and_rebuild_the_text():
    ref = "The cat sat on the mat."
    other = "The cat lay on the red mat."
    parts = cb.segments(ref, other)
    assert "".join(p.text for p in parts) == other
    assert [p.text for p in parts if not p.shared] == ["lay", "red "]
    assert cb.first_divergence(ref, other) == 2
    assert cb.first_divergence(ref, ref) is None
    assert cb.first_divergence("a b", "a b c") == 2


def test_diff_html_escapes_model_output():
    out = cb.diff_html(cb.segments("hi", "hi <img src=x onerror=alert(1)>"))
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out

