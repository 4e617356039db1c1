"""Lab graders: each kind on real outputs, their checks, and the regex time box."""
import time

import pytest

from lib.lab import graders as g

ROW = {"city": "Paris", "expected": "  paris "}


def verdicts(grader, text, tokens=None, logprob=None):
    return g.grade(grader, g.Output(text, ROW, tokens, logprob))


def test_each_kind_passes_and_fails_where_it_should():
    assert verdicts(g.Grader(g.CONTAINS, text="Par"), "in Paris").passed
    assert not verdicts(g.Grader(g.CONTAINS, text="Rome"), "in Paris").passed
    assert verdicts(g.Grader(g.CONTAINS, column="city"), "in Paris").passed
    assert not verdicts(g.Grader(g.NOT_CONTAINS, column="city"), "in Paris").passed
    assert verdicts(g.Grader(g.EQUALS, loose=True), "PARIS").passed
    assert not verdicts(g.Grader(g.EQUALS), "PARIS").passed
    assert verdicts(g.Grader(g.EQUALS), "  paris ").passed
    assert verdicts(g.Grader(g.MAX_WORDS, number=2), "one two").passed
    assert verdicts(g.Grader(g.MAX_WORDS, number=2), "one two three") == g.Grade(False, "3 words")
    assert verdicts(g.Grader(g.MAX_TOKENS, number=5), "x", tokens=5).passed
    assert not verdicts(g.Grader(g.MAX_TOKENS, number=5), "x", tokens=6).passed
    assert verdicts(g.Grader(g.IS_JSON), '{"a": [1]}').passed
    assert not verdicts(g.Grader(g.IS_JSON), "{a}").passed
    assert verdicts(g.Grader(g.LOGPROB, number=-1.5), "x", logprob=-1.2).passed
    assert not verdicts(g.Grader(g.LOGPROB, number=-1.0), "x", logprob=-1.2).passed
    assert verdicts(g.Grader(g.LOGPROB, number=-1.0), "x").note == "no logprobs came back"
    assert g.Grader(g.LOGPROB).asks_logprobs and not g.Grader(g.IS_JSON).asks_logprobs


def test_a_regex_grades_every_output_in_one_child_process():
    grades = g.grade_all([g.Grader(g.REGEX, text=r"\d{3}")], [
        g.Output("code 123", ROW), g.Output("none", ROW)])
    assert [x[0].passed for x in grades] == [True, False]


def test_a_catastrophic_regex_is_stopped_at_the_time_limit_and_says_why():
    start = time.monotonic()
    grade = verdicts(g.Grader(g.REGEX, text=r"(a+)+$"), "a" * 40 + "!")
    assert time.monotonic() - start < g.REGEX_TIMEOUT_S + 5
    assert not grade.passed and "stopped" in grade.note
    start = time.monotonic()  # the verdict is remembered: no second wait
    assert verdicts(g.Grader(g.REGEX, text=r"(a+)+$"), "a" * 40 + "!") == grade
    assert time.monotonic() - start < 0.5


@pytest.mark.parametrize("grader, message", [
    (g.Grader(g.CONTAINS), "give the text"),
    (g.Grader(g.CONTAINS, column="nope"), "no column 'nope'"),
    (g.Grader(g.REGEX, text="(unclosed"), "not a regular expression"),
    (g.Grader(g.EQUALS), "no expected column"),
    (g.Grader(g.MAX_WORDS, number=2.5), "whole number"),
    (g.Grader(g.LOGPROB, number=1), "between -100 and 0"),
    (g.Grader(g.CONTAINS, text="x" * 501), "at most 500"),
])
def test_a_grader_that_cannot_run_is_refused_with_what_is_allowed(grader, message):
    with pytest.raises(g.GraderError, match=message):
        g.check(grader, ["city"])


def test_graders_from_saved_data_are_checked():
    assert g.from_json({"kind": "max_words", "number": 3}, []) == g.Grader(g.MAX_WORDS, number=3.0)
    assert g.check(g.Grader(g.MAX_WORDS, number=3), []).number == 3  # an int is a whole number
    for raw, message in (([], "object"), ({"kind": "exec"}, "Unknown grader"),
                         ({"kind": "json", "number": "3"}, "must be a number"),
                         ({"kind": "contains", "text": 3}, "must be text")):
        with pytest.raises(g.GraderError, match=message):
            g.from_json(raw, [])


def test_labels_name_the_argument():
    assert g.Grader(g.CONTAINS, text="Paris").label() == 'contains "Paris"'
    assert g.Grader(g.NOT_CONTAINS, column="city").label() == "does not contain {city}"
    assert g.Grader(g.MAX_TOKENS, number=20).label() == "at most 20 tokens"
    assert g.Grader(g.EQUALS, loose=True).label() == "equals expected (loose)"
