"""What a filling lab grid sends to the browser per frame (the drawing itself is in
AppTest and e2e): only cells that changed, each as one escaped element."""
from contextlib import nullcontext

from lib.lab import inputs, plan as lab_plan
from lib.lab.graders import MAX_WORDS, Grader
from lib.lab.setup import LabSetup, VariantSetup
from lib.text.sweep import CellResult
from lib.ui.lab_view import Grid


class Slot:
    """Records every element a grid sends to one of its slots."""

    def __init__(self):
        self.sent: list[str] = []

    def html(self, body: str) -> None:
        self.sent.append(body)

    def markdown(self, body: str) -> None:
        self.sent.append(body)

    def container(self):
        self.sent.append("(container)")
        return nullcontext()


def _plan(rows: int = 2, variants: int = 2) -> lab_plan.LabPlan:
    table = inputs.check_rows([{"topic": f"t{r}"} for r in range(rows)], ["topic"])
    return lab_plan.make_plan(LabSetup(
        "On {topic}:", table, tuple(VariantSetup(None, {"model": "m"}) for _ in range(variants)),
        (Grader(MAX_WORDS, number=3),)))


def _waiting(p: lab_plan.LabPlan) -> list[CellResult]:
    return [CellResult(c.row, c.col, None, None) for c in p.cells]


def _landed(r: CellResult, text: str) -> CellResult:
    return CellResult(r.row, r.col, None, None, text=text, tokens=4, latency_s=0.25, done=True)


def _grid(p: lab_plan.LabPlan) -> Grid:
    return Grid(p, [Slot() for _ in range(p.variants)], [Slot() for _ in p.cells])


def test_a_frame_redraws_only_the_cells_that_changed():
    """Waiting cells are drawn once, not again each frame while the others land."""
    p = _plan()
    g, results = _grid(p), _waiting(p)
    g.update(results)
    assert [len(c.sent) for c in g.cells] == [1, 1, 1, 1]
    g.update(results)
    results[2] = _landed(results[2], "one two")
    g.update(results)
    assert [len(c.sent) for c in g.cells] == [1, 1, 2, 1]
    g.update(results)
    assert [len(c.sent) for c in g.cells] == [1, 1, 2, 1]


def test_a_landed_cell_is_one_escaped_element_with_its_figures_and_badges():
    p = _plan(rows=1, variants=1)
    g = _grid(p)
    g.update([_landed(_waiting(p)[0], "<img src=x onerror=alert(1)> a b c d")])
    (body,) = g.cells[0].sent
    assert "250 ms · 4 tokens" in body
    assert "fail: at most 3 words" in body and "lab-fail" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "<img" not in body
