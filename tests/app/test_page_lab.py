"""The Prompt lab page under AppTest on the local backend."""
import re

import pytest

from lib.api.client import Client
from lib.lab.plan import LabRun
from lib.page_registry import page
from lib.saved import History, sharelink
from tests.support.pages import open_page
from tests.support.shown import shown

TEXTS = '<div class="ct">'


@pytest.fixture
def at(local):
    return open_page("pages/7_Prompt_lab.py")


def _prompts(backend):
    return [r["body"]["prompt"] for r in backend.requests_seen
            if r["path"].endswith("/completions")]


def _cell_texts(at):
    return [h.proto.body for h in at.get("html") if TEXTS in h.proto.body]


def _filled(at):
    """Cells showing an output: each is one element, its latency and tokens over its text."""
    return sum(" ms · " in t and " tokens" in t for t in _cell_texts(at))


def _headers(at):
    return [shown(m) for m in at.markdown if m.value.startswith("**V") and "pass" in m.value]


def _run(at):
    at.button(key="lab-run").click().run()
    assert not at.exception
    run = at.session_state["lab:run"]
    assert run.join(60)  # the record is completed on the run's thread
    return run


def test_a_lab_sends_each_row_to_each_variant_grades_it_and_is_recorded(at, local):
    at.text_area(key="w:lab:template").set_value("Notes on {topic}:").run()
    assert any("Variables: `{topic}`" in c.value for c in at.caption)
    assert any("3 rows × 2 variants = 6 requests" in c.value for c in at.caption)
    at.slider(key=f"w:lab-v1.temperature.{0}").set_value(0.0).run()
    assert "vs V1: Temperature 0.0" in [shown(c) for c in at.caption]
    local.clear_requests()
    _run(at)
    assert sorted(_prompts(local)) == sorted(
        [f"Notes on {t}:" for t in ("parsing", "files", "threads")] * 2)
    headers = _headers(at)
    assert len(headers) == 2 and all(" ms mean" in h and "pass " in h for h in headers)
    graded = [t for t in _cell_texts(at)
              if re.search(r'lab-(pass|fail)">(pass|fail): at most 20', t)]
    assert len(graded) == 6, [shown(e) for e in at.error] + _cell_texts(at)
    assert _filled(at) == 6
    assert [b.label for b in at.get("download_button")] == ["Export CSV", "Export JSON"]
    (record,) = History().list(page="lab")
    assert record.status == "ok" and len(record.outputs) == 6
    assert record.metrics["lab"]["template"] == "Notes on {topic}:"


def test_the_rows_show_as_text_until_edited_in_place_and_edits_survive_the_switch(at):
    """Issue 14: the editable grid brought pandas and pyarrow into the page's first draw."""
    hostile = "<img src=x onerror=alert(1)> | **bold**"
    at.text_area(key="lab:paste").set_value(f"topic,expected\n{hostile},x\n")
    at.button(key="lab:paste_go").click().run()
    (table,) = [m for m in at.markdown if m.value.startswith("| topic |")]
    assert hostile in shown(table)                       # as text, in one cell:
    assert r"\<img" in table.value and r"\| \*\*bold" in table.value   # escaped
    assert not at.get("dataframe")
    at.toggle(key="w:lab:editing").set_value(True).run()
    (grid,) = at.get("dataframe")
    assert not [m for m in at.markdown if m.value.startswith("| topic |")]
    assert any("1 rows × 2 variants" in c.value or "1 row × 2 variants" in c.value
               for c in at.caption)
    at.session_state["lab:edited"] = [{"topic": "edited here", "expected": ""}]
    at.toggle(key="w:lab:editing").set_value(False).run()
    assert at.session_state["lab:rows"] == [{"topic": "edited here", "expected": ""}]
    assert any("edited here" in shown(m) for m in at.markdown)


def test_the_read_only_table_names_its_columns_as_written(at):
    """A variable's name is the template's (a share link's): ``_topic_`` is no emphasis."""
    at.text_area(key="w:lab:template").set_value("Notes on {_topic_}:").run()
    (table,) = [m for m in at.markdown if m.value.startswith("| ")]
    assert shown(table).splitlines()[0] == "| _topic_ | expected |"
    assert table.value.startswith(r"| \_topic\_ |")


def test_bad_csv_names_row_and_column_and_keeps_the_table_good_csv_replaces_it(at):
    at.text_area(key="lab:paste").set_value("topic,colour\nx,y\n")
    at.button(key="lab:paste_go").click().run()
    assert any("Column 2 ('colour') is not a variable" in shown(e) and "kept" in shown(e)
               for e in at.error)
    assert any("3 rows × 2 variants" in c.value for c in at.caption)
    at.text_area(key="lab:paste").set_value("topic,expected\nsockets,s\n")
    at.button(key="lab:paste_go").click().run()
    assert any("1 row × 2 variants = 2 requests" in c.value for c in at.caption)
    assert at.session_state["lab:rows"] == [{"topic": "sockets", "expected": "s"}]


def test_graders_are_picked_not_typed_and_a_bad_one_is_refused(at):
    at.selectbox(key="lab:g_kind").set_value("contains").run()
    at.selectbox(key="lab:g_column").set_value("topic").run()
    at.button(key="lab:g_add").click().run()
    assert "2. contains {topic}" in [shown(m) for m in at.markdown]
    at.selectbox(key="lab:g_kind").set_value("regex").run()
    at.text_input(key="lab:g_pattern").set_value("(unclosed").run()
    at.button(key="lab:g_add").click().run()
    assert any("not a regular expression" in shown(e) for e in at.error)
    assert len(at.session_state["lab:graders"]) == 2


def test_a_failed_cell_keeps_its_error_and_is_re_run_alone(at, local):
    local.add_fault({"kind": "status", "status": 400, "message": "Injected: bad luck"})
    run = _run(at)
    (failed,) = [i for i, r in enumerate(run.results()) if r.error]
    assert sum("Injected: bad luck" in shown(e) for e in at.error) == 1
    prompt = run.plan.cells[failed].body["prompt"]
    local.clear_requests()
    at.button(key=f"lab:rerun:{failed}").click().run()
    assert at.session_state["lab:run"].join(60)
    at.run()
    assert _prompts(local) == [prompt]
    assert not any("Injected" in shown(e) for e in at.error)
    assert _filled(at) == 6 and len(History().list(page="lab")) == 2


def test_big_labs_ask_for_a_confirm_before_sending(at, local):
    at.text_area(key="lab:paste").set_value("topic\n" + "\n".join(f"t{i}" for i in range(7)))
    at.button(key="lab:paste_go").click().run()
    local.clear_requests()
    at.button(key="lab-run").click().run()
    assert any("sends 14 requests: tick the box" in shown(w) for w in at.warning)
    assert not _prompts(local)


def test_restoring_an_earlier_lab_brings_back_setup_and_grid(local):
    first = open_page("pages/7_Prompt_lab.py")
    first.text_area(key="w:lab:template").set_value("On {topic}:").run()
    _run(first)
    before = _cell_texts(first)
    again = open_page("pages/7_Prompt_lab.py")
    assert not _cell_texts(again)
    local.clear_requests()
    again.button(key="lab:restore").click().run()
    assert not again.exception
    assert _cell_texts(again) == before and not _prompts(local)
    assert again.text_area(key="w:lab:template").value == "On {topic}:"
    assert any("· restored" in c.value for c in again.caption)


def test_history_restore_opens_the_lab_page_with_the_whole_lab_and_sends_nothing(local):
    first = open_page("pages/7_Prompt_lab.py")
    first.text_area(key="w:lab:template").set_value("About {topic}:").run()
    first.text_area(key="lab:paste").set_value("topic,expected\nsockets,s\npipes,p\n")
    first.button(key="lab:paste_go").click().run()
    first.slider(key="w:lab-v1.temperature.0").set_value(0.0).run()
    first.selectbox(key="lab:g_kind").set_value("contains").run()
    first.selectbox(key="lab:g_column").set_value("topic").run()
    first.button(key="lab:g_add").click().run()
    _run(first)
    grid, graders = _cell_texts(first), first.session_state["lab:graders"]
    at = open_page("playground.py")
    at.switch_page(page("history").file).run()
    local.clear_requests()
    at.button(key="history:restore").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == page("lab").title
    assert at.text_area(key="w:lab:template").value == "About {topic}:"
    assert at.session_state["lab:rows"] == [{"topic": "sockets", "expected": "s"},
                                            {"topic": "pipes", "expected": "p"}]
    assert at.session_state["lab-v1.values"]["temperature"] == 0.0
    assert at.session_state["lab:graders"] == graders and len(graders) == 2
    assert _cell_texts(at) == grid and len(grid) == 4
    assert any("· restored" in c.value for c in at.caption)
    assert not _prompts(local)


def test_history_restore_leaves_a_running_lab_alone(local):
    at = open_page("playground.py")
    at.switch_page(page("lab").file).run()
    plan = _run(at).plan
    local.configure(tokens_per_second=5)
    running = LabRun(lambda: Client(api_key="", base_url=local.base_url), plan).start()
    try:
        at.session_state["lab:run"] = running
        at.switch_page(page("history").file).run()
        at.button(key="history:restore").click().run()
        assert any("A lab is running: stop it" in shown(w) for w in at.warning)
        assert at.title[0].value == page("history").title
        assert at.session_state["lab:run"] is running and running.running
    finally:
        running.stop()
        running.join(30)


def test_a_share_link_carries_the_lab_or_says_it_does_not_fit(at, local):
    at.text_area(key="w:lab:template").set_value("Shared {topic}").run()
    at.button(key="lab:share").click().run()
    params = dict(at.query_params)
    opened = open_page("pages/7_Prompt_lab.py", {k: v[0] if isinstance(v, list) else v
                                                 for k, v in params.items()})
    assert opened.text_area(key="w:lab:template").value == "Shared {topic}"
    long = "topic\n" + "\n".join("x" * 900 for _ in range(90))
    at.text_area(key="lab:paste").set_value(long)
    at.button(key="lab:paste_go").click().run()
    at.button(key="lab:share").click().run()
    assert any("page extras" in shown(e) and "at most 64,000" in shown(e) for e in at.error)
    assert sharelink.STATE_PARAM in at.query_params  # the earlier link stays as it was
