"""The lab's plan and run: variants × rows → requests, the estimate, stop, and re-run of one cell."""
import pytest

from lib.api import Client, ModelInfo
from lib.lab import graders as g, inputs
from lib.lab import plan as lp
from lib.lab.setup import LabSetup, VariantSetup
from lib.text import sweep as text_sweep

MODEL = "local/ngram-docs"
TABLE = inputs.read_csv("topic,expected\nparsing,x\nfiles,y\nthreads,z\n", ["topic"])


def lab(*variants, graders=(), table=TABLE, text="Notes on {topic}:"):
    return LabSetup(text, table, tuple(variants), tuple(graders))


def variant(template=None, **values):
    return VariantSetup(template, {"model": MODEL, "max_tokens": 6, **values})


def client_for(backend):
    return lambda: Client(base_url=backend.base_url)


def test_each_row_and_variant_is_one_request_with_its_own_prompt_and_a_fixed_seed():
    p = lp.make_plan(lab(variant(), variant("About {topic}", temperature=0.2, seed=5)),
                     draw_seed=lambda: 77)
    assert (p.rows, p.variants, p.request_count) == (3, 2, 6) and not p.needs_confirm
    assert p.describe() == "3 rows × 2 variants = 6 requests"
    one = lp.make_plan(lab(variant(), table=inputs.check_rows([{"topic": "a"}], ["topic"])))
    assert one.describe() == "1 row × 1 variant = 1 request"
    assert [(c.row, c.col, c.body["prompt"]) for c in p.cells[:2]] == [
        (0, 0, "Notes on parsing:"), (0, 1, "About parsing")]
    assert p.cells[p.index(2, 1)].body["prompt"] == "About threads"
    assert [c.body["seed"] for c in p.cells[:2]] == [77, 5]
    assert p.setup.variants[0].values["seed"] == 77  # kept, so a restored lab repeats
    assert all(c.body["stream"] is False and c.body["n"] == 1 and "echo" not in c.body
               and "logprobs" not in c.body for c in p.cells)
    asks = lp.make_plan(lab(variant(), graders=[g.Grader(g.LOGPROB, number=-3)]))
    assert all(c.body["logprobs"] == 1 for c in asks.cells)


@pytest.mark.parametrize("setup, message", [
    (lab(variant(), table=inputs.Table(("topic",), ())), "at least one row"),
    (lab(variant("{other}")), r"Variant 1: the inputs have no column for \{other\}"),
    (lab(variant(), variant(temperature=9)), "Variant 2: temperature"),
    (lab(variant(), variant("a {")), "Variant 2: A lone {"),
])
def test_a_lab_that_cannot_run_says_which_variant_or_row(setup, message):
    with pytest.raises(lp.PlanError, match=message):
        lp.make_plan(setup)


def test_the_estimate_counts_every_cell_and_a_big_lab_needs_a_confirm():
    big = inputs.check_rows([{"topic": str(i)} for i in range(7)], ["topic"])
    p = lp.make_plan(lab(variant(), variant(), table=big))
    assert p.request_count == 14 and p.needs_confirm
    priced = {MODEL: ModelInfo(MODEL, "language", input_price=1.0, output_price=2.0)}
    e = text_sweep.estimate(p, priced)  # the sweep's upper bound reads only the cells
    assert e.max_completion_tokens == 14 * 6 and e.cost_usd is not None
    assert text_sweep.estimate(p, {}).cost_usd is None


def test_a_run_fills_every_cell_grades_it_and_repeats_with_the_seed(fresh_backend):
    graders = [g.Grader(g.MAX_TOKENS, number=6), g.Grader(g.CONTAINS, text="zzzz-not-there")]
    p = lp.make_plan(lab(variant(), variant(temperature=1.0), graders=graders))
    finished = []
    run = lp.LabRun(client_for(fresh_backend), p, on_finish=finished.append).start()
    assert run.join(60) and finished == [run]
    results = run.results()
    assert all(r.done and r.error is None and r.text and r.tokens for r in results)
    grades = lp.grade_results(p, results)
    assert all([x.passed for x in cell] == [True, False] for cell in grades)
    summary = lp.summarise(p, results, grades)
    assert [(s.done, s.passed, s.pass_rate) for s in summary] == [(3, 0, 0.0), (3, 0, 0.0)]
    assert all(s.mean_latency_s is not None for s in summary)
    record = run.finished()
    assert record.metrics["lab"]["variants"][1]["values"]["temperature"] == 1.0
    again = lp.LabRun(client_for(fresh_backend), p).start()
    assert again.join(60) and [r.text for r in again.results()] == [r.text for r in results]
    restored = lp.results_from_outputs(p, record.outputs)
    assert [(r.text, r.tokens, r.error) for r in restored] == [
        (r.text, r.tokens, r.error) for r in results]


def test_stop_keeps_the_finished_cells_and_skips_the_rest(fresh_backend):
    fresh_backend.configure(tokens_per_second=30)  # 6 tokens: ~0.2 s a cell
    rows = inputs.check_rows([{"topic": str(i)} for i in range(8)], ["topic"])
    p = lp.make_plan(lab(variant(), table=rows))
    run = lp.LabRun(client_for(fresh_backend), p, workers=1).start()
    seen = 0
    while run.done_count() < 1:
        seen = run.wait_for_change(seen, 10)
    run.stop()
    assert run.join(30) and run.status == "stopped"
    results = run.results()
    kept = [r for r in results if r.error is None]
    skipped = [r for r in results if r.error == "Not sent: the lab was stopped."]
    assert kept and all(r.text for r in kept) and skipped
    # a paced backend takes as long for a whole answer as it would to stream it
    assert all(r.latency_s >= r.tokens / 30 * 0.9 for r in kept)
    assert len(kept) + len(skipped) == 8


def test_a_failed_cell_is_re_run_alone_and_the_others_are_kept(fresh_backend):
    p = lp.make_plan(lab(variant(), variant(model="no/such-model")))
    run = lp.LabRun(client_for(fresh_backend), p).start()
    assert run.join(60)
    first = run.results()
    assert [r.error is not None for r in first] == [False, True] * 3
    fresh_backend.clear_requests()
    fixed = lp.make_plan(lab(variant(), variant()))
    again = lp.LabRun(client_for(fresh_backend), fixed, previous=first,
                      only=[fixed.index(1, 1)]).start()
    assert again.join(60)
    sent = [r["body"]["prompt"] for r in fresh_backend.requests_seen
            if r["path"].endswith("/completions")]
    assert sent == ["Notes on files:"]
    results = again.results()
    assert results[fixed.index(1, 1)].error is None and results[fixed.index(1, 1)].text
    assert [r.text for i, r in enumerate(results) if i != fixed.index(1, 1)] == [
        r.text for i, r in enumerate(first) if i != fixed.index(1, 1)]


def test_a_record_in_an_odd_shape_restores_as_far_as_it_can():
    p = lp.make_plan(lab(variant()))
    results = lp.results_from_outputs(p, [
        {"row": 0, "col": 0, "text": "hi", "tokens": 2, "latency_s": 1},
        {"row": 9, "col": 0, "text": "out of range"}, "junk",
        {"row": 1, "col": 0, "text": 5, "tokens": True, "error": None}])
    assert (results[0].text, results[0].tokens, results[0].latency_s) == ("hi", 2, 1.0)
    assert (results[1].text, results[1].tokens, results[1].error) == ("", None, None)
    assert results[2].error == "Not in the record."
