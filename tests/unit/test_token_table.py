"""The heat-map escapes every token, tints by probability and admits missing alternatives."""
import html
import math
import re

from lib.api.results import TokenLogprob
from lib.text import token_table as tv

HOSTILE = ["<img src=x onerror=alert(1)>", "\"><script>alert(1)</script>", "&amp;", "'",
           "</span><b>", "\n", " <", "`${x}`"]


def _tokens(texts, logprob=-0.5, top=None):
    return [TokenLogprob(t, logprob, i, top) for i, t in enumerate(texts)]


def test_hostile_tokens_never_reach_the_html_as_markup():
    out = tv.heatmap_html(_tokens(HOSTILE, top={"<script>": -1.0, "x": -2.0}))
    assert "<img" not in out and "<script>" not in out and "</span><b>" not in out
    assert html.escape("<img src=x onerror=alert(1)>") in out
    # Every tag left in the output is one the view itself writes.
    tags = set(re.findall(r"</?([a-zA-Z]+)", out))
    assert tags <= {"style", "div", "span"}


def test_a_click_opens_probability_and_alternatives_escaped():
    tok = TokenLogprob(" Paris", math.log(0.8), 1, {" Paris": math.log(0.8), "\" onmouseover=\"x": math.log(0.1)})
    out = tv.heatmap_html([tok])
    pop = re.search(r'<span class="tv-pop">(.*?)</span></span>', out).group(1)
    assert "80.0%" in html.unescape(pop) and "10.0%" in html.unescape(pop)
    assert "onmouseover" in html.unescape(pop)             # shown as text ...
    assert '" onmouseover="' not in out                    # ... never as an attribute
    assert 'tabindex="0"' in out and ".tv-tok:focus .tv-pop" in out  # opened by a click
    assert "hover" not in out.split("</style>")[1]


def test_only_the_sampled_token_means_alternatives_not_returned():
    tok = TokenLogprob("a", -0.1, 5, {"a": -0.1})
    assert not tv.has_alternatives(tok)
    assert tv.describe_alternatives(tok) == tv.NO_ALTERNATIVES
    assert tv.NO_ALTERNATIVES in html.unescape(tv.heatmap_html([tok]))
    assert not tv.any_alternatives([tok])


def test_alternatives_are_ranked_most_likely_first():
    tok = TokenLogprob("a", math.log(0.5), 5, {"a": math.log(0.5), "b": math.log(0.1),
                                              "c": math.log(0.3)})
    assert [t for t, _ in tv.alternatives(tok)] == ["a", "c", "b"]
    assert tv.describe_alternatives(tok).startswith("a 50.0%, c 30.0%")


def test_tint_runs_red_to_green_and_unknown_is_grey():
    assert tv.tint(0.0).startswith("hsla(0,")
    assert tv.tint(1.0).startswith("hsla(120,")
    assert "128, 128, 128" in tv.tint(None)
    assert tv.probability(None) is None and tv.probability(-math.inf) == 0.0
    assert tv.probability(0.3) == 1.0  # a positive logprob (seen in old API output) is clamped


def test_least_likely_skips_the_context_free_first_prompt_token():
    toks = [TokenLogprob("The", None), TokenLogprob(" cat", -0.1), TokenLogprob(" teh", -6.0),
            TokenLogprob(" sat", -1.0)]
    worst = tv.least_likely(toks, k=2)
    assert [r.token for r in worst] == ["␣teh", "␣sat"]
    assert worst[0].position == 2


def test_rows_and_mean_logprob():
    toks = [TokenLogprob("a\n", -1.0), TokenLogprob("b", -3.0), TokenLogprob("c", None)]
    rows = tv.rows(toks)
    assert rows[0].token == "a\\n" and rows[2].probability is None
    assert tv.mean_logprob(toks) == -2.0
    assert tv.mean_logprob([TokenLogprob("x", None)]) is None


def test_newline_tokens_stay_hoverable():
    out = tv.heatmap_html([TokenLogprob("\n", -0.2)])
    assert "↵" in out
