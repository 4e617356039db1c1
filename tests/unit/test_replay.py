"""Replay: word diffs that rebuild both texts, honest summaries, and paced playback."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.text.replay import (DELETE, EQUAL, INSERT, ReplayError, compare_outputs, diff_choice,
                             paced_events, replay_plan)


def rebuild(segments, side: str) -> str:
    keep = {EQUAL, DELETE} if side == "recorded" else {EQUAL, INSERT}
    return "".join(text for op, text in segments if op in keep)


# ---------------------------------------------------------------- verdicts

def test_identical_runs():
    verdict = compare_outputs(["a b", "c", ""], ["a b", "c", ""])
    assert verdict.identical
    assert verdict.summary == "identical: 3 of 3 choices match"
    assert [c.segments for c in verdict.choices] == [[(EQUAL, "a b")], [(EQUAL, "c")], []]
    assert compare_outputs(["x"], ["x"]).summary == "identical: 1 of 1 choice match"


def test_a_divergence_is_located_by_choice_and_word():
    recorded = " ".join(f"w{i}" for i in range(1, 31))
    replayed = recorded.replace("w17 w18", "other words")
    verdict = compare_outputs(["same text", recorded, "also same"],
                              ["same text", replayed, "also same"])
    assert not verdict.identical
    assert verdict.summary == "differs: choice 2 diverges at word 17"
    second = verdict.choices[1]
    assert (second.index, second.identical, second.diverges_at) == (1, False, 17)
    assert second.segments == [
        (EQUAL, " ".join(f"w{i}" for i in range(1, 17)) + " "),
        (DELETE, "w17 w18 "), (INSERT, "other words "),
        (EQUAL, " ".join(f"w{i}" for i in range(19, 31)))]


def test_several_differences_are_counted():
    verdict = compare_outputs(["a", "b", "c"], ["a", "B", "C"])
    assert verdict.summary == "differs: choice 2 diverges at word 1 (2 of 3 choices differ)"


def test_missing_and_extra_choices():
    short = compare_outputs(["a", "b"], ["a"])
    assert short.summary == "differs: choice 2 is missing from the replay"
    assert short.choices[1].segments == [(DELETE, "b")]
    extra = compare_outputs(["a"], ["a", "b"])
    assert extra.summary == "differs: choice 2 was not in the recorded run"
    assert extra.choices[1].segments == [(INSERT, "b")]


@pytest.mark.parametrize("recorded, replayed, word", [
    ("one two", "one two three", 3),       # the replay goes on
    ("one two three", "one two", 3),       # the replay stops early
    ("one two", "one  two", 2),            # only the spacing after "one" differs
    ("  lead", "lead", 1),
    ("x", "y", 1),
])
def test_first_differing_word(recorded, replayed, word):
    assert diff_choice(0, recorded, replayed).diverges_at == word


def test_segments_carry_text_not_markup():
    choice = diff_choice(0, "<b>bold</b> & co", "<i>it</i> & co")
    assert choice.segments == [(DELETE, "<b>bold</b> "), (INSERT, "<i>it</i> "),
                               (EQUAL, "& co")]


def test_one_change_in_long_repetitive_text_stays_one_change():
    base = ("the cat sat on the mat and the dog sat on the rug " * 40).strip()
    changed = base.replace("dog", "fox", 1)
    choice = diff_choice(0, base, changed)
    assert [op for op, _ in choice.segments] == [EQUAL, DELETE, INSERT, EQUAL]
    assert choice.diverges_at == 9


words = st.lists(st.sampled_from(["a", "b", "the", "cat", "\n", "  ", "é", "x y"]),
                 max_size=30).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(words, words)
def test_segments_rebuild_both_texts(recorded, replayed):
    choice = diff_choice(0, recorded, replayed)
    assert rebuild(choice.segments, "recorded") == recorded
    assert rebuild(choice.segments, "replayed") == replayed
    assert choice.identical == (recorded == replayed)
    assert all(text for _, text in choice.segments)
    assert all(a[0] != b[0] for a, b in zip(choice.segments, choice.segments[1:]))


# ---------------------------------------------------------------- paced playback

class FakeTime:
    """A clock that only moves when someone sleeps (or the test says so)."""

    def __init__(self, now: float = 100.0):
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds


EVENTS = [(0.0, 0, "Hel"), (0.5, 0, "lo"), (0.5, 1, "Hi"), (2.0, 0, "!")]


def play(events, **kw) -> tuple[list, FakeTime]:
    fake = FakeTime()
    out = list(paced_events(events, sleep=fake.sleep, clock=fake.clock, **kw))
    return out, fake


def test_events_come_at_their_recorded_times():
    out, fake = play(EVENTS)
    assert out == EVENTS
    assert fake.sleeps == [0.5, 1.5]
    assert fake.now == 102.0


def test_speed_scales_the_waits():
    _, fake = play(EVENTS, speed=2.0)
    assert fake.sleeps == [0.25, 0.75]
    _, instant = play(EVENTS, speed=float("inf"))
    assert instant.sleeps == []


def test_max_gap_shortens_long_pauses():
    _, fake = play([(3.0, 0, "late"), (3.1, 0, "x"), (10.0, 0, "y")], max_gap=1.0)
    assert fake.sleeps == [1.0, 0.1, 1.0]


def test_nothing_waits_before_it_is_asked_for():
    fake = FakeTime()
    gen = paced_events(EVENTS, sleep=fake.sleep, clock=fake.clock)
    assert fake.sleeps == []
    assert next(gen) == (0.0, 0, "Hel") and fake.sleeps == []
    assert next(gen) == (0.5, 0, "lo") and fake.sleeps == [0.5]


def test_a_slow_consumer_catches_up_instead_of_drifting():
    fake = FakeTime()
    gen = paced_events(EVENTS, sleep=fake.sleep, clock=fake.clock)
    next(gen)
    fake.now += 1.0  # drawing the first event took a second
    assert next(gen) == (0.5, 0, "lo")   # already late: no wait
    assert next(gen) == (0.5, 1, "Hi")
    assert next(gen) == (2.0, 0, "!")
    assert fake.sleeps == [1.0]          # 2.0 after start, 1.0 already gone


def test_lists_from_json_and_odd_offsets_are_accepted():
    out, fake = play([[0.2, 0, "a"], [0.1, "1", "b"], [float("nan"), 0, "c"]])
    assert out == [(0.2, 0, "a"), (0.1, 1, "b"), (0.2, 0, "c")]
    assert fake.sleeps == [0.2]


@pytest.mark.parametrize("kw", [{"speed": 0}, {"speed": -1}, {"speed": float("nan")},
                                {"max_gap": -0.5}])
def test_bad_pacing_is_refused(kw):
    with pytest.raises(ValueError):
        list(paced_events(EVENTS, **kw))


def test_replay_uses_the_sent_seed_else_each_choices_reported_one():
    (sent,) = replay_plan({"prompt": "p", "seed": 3}, [{"seed": 9}]).requests
    assert sent.body["seed"] == 3
    each = replay_plan({"prompt": "p"}, [{"seed": 9}, {"seed": 10}]).requests
    assert [(r.body["seed"], r.choices) for r in each] == [(9, [0]), (10, [1])]
    with pytest.raises(ReplayError, match="no recorded seed"):
        replay_plan({"prompt": "p"}, [{"seed": None}])
