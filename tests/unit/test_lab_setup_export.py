"""A lab as data (history, links) and its exports (CSV for spreadsheets, JSON exact)."""
import csv
import io
import json

import pytest

from lib.lab import export, graders as g, inputs, plan as lp, setup as ls
from lib.lab.setup import LabSetup, VariantSetup
from lib.text.sweep import CellResult

TABLE = inputs.read_csv("q,expected\n=1+1,2\nhi,there\n", ["q"])
SETUP = LabSetup("Q: {q}", TABLE, (VariantSetup(None, {"model": "local/ngram-docs"}),
                                   VariantSetup("{q}?", {"model": "m", "temperature": 0.5})),
                 (g.Grader(g.EQUALS, loose=True), g.Grader(g.CONTAINS, column="q")))


def test_a_setup_goes_through_json_and_back_unchanged():
    raw = json.loads(json.dumps(SETUP.to_json()))
    back = ls.from_json(raw)
    assert back.to_json() == SETUP.to_json()


@pytest.mark.parametrize("change, message", [
    ({"template": 3}, "template must be text"),
    ({"template": "{q} {z}"}, r"No column for \{z\}"),
    ({"columns": ["q", "x"]}, "Column 2 \\('x'\\) is not a variable"),
    ({"rows": ["a"]}, "rows must be a list of objects"),
    ({"variants": []}, "1 to 4 variants"),
    ({"variants": [{"template": None, "values": {"temperature": 7}}]}, "Variant 1: temperature"),
    ({"variants": [{"template": "{", "values": {}}]}, "Variant 1: A lone {"),
    ({"graders": [{"kind": "python"}]}, "Unknown grader"),
])
def test_bad_saved_data_is_refused_naming_the_part(change, message):
    with pytest.raises(ls.SetupError, match=message):
        ls.from_json({**SETUP.to_json(), **change})


def test_exports_carry_inputs_prompts_outputs_and_grades_and_csv_is_spreadsheet_safe():
    p = lp.make_plan(SETUP, draw_seed=lambda: 1)
    results = [CellResult(c.row, c.col, None, None, text=t, tokens=3, latency_s=0.5, done=True)
               for c, t in zip(p.cells, ["=2", "x", "THERE", "@cmd"])]
    results[1] = CellResult(0, 1, None, None, error="HTTP 404: no model m", done=True)
    grades = lp.grade_results(p, results)
    rows = list(csv.DictReader(io.StringIO(export.to_csv(p, results, grades))))
    assert len(rows) == 4
    assert rows[0]["input: q"] == "'=1+1" and rows[0]["text"] == "'=2"
    assert rows[0]["prompt"] == "Q: =1+1" and rows[3]["text"] == "'@cmd"
    assert rows[2]["grade 1: equals expected (loose)"] == "pass" and rows[2]["passed"] == "False"
    assert rows[1]["error"] == "HTTP 404: no model m" and rows[1]["passed"] == ""
    doc = json.loads(export.to_json(p, results, grades))
    assert doc["lab"]["template"] == "Q: {q}" and doc["cells"][0]["text"] == "=2"
    assert doc["cells"][0]["variant"] == 1 and doc["cells"][1]["prompt"] == "=1+1?"


def test_each_variant_lists_what_it_changes_from_variant_1():
    first = VariantSetup(None, {"model": "m", "temperature": 0.7})
    assert ls.differences_line(0, first, first).startswith("the reference")
    assert ls.differences_line(1, VariantSetup(None, {"model": "m"}), first) == "same as V1"
    other = VariantSetup("{q}!", {"model": "n", "temperature": 0.0, "seed": 3})
    assert ls.differences(other, first) == ["own template", "Model n", "Temperature 0.0",
                                            "Seed 3"]
