"""The Completions page under AppTest, talking to the local backend over real HTTP."""
import re

import pytest
from tests.support.pages import open_page
from tests.support.shown import shown

PAGE_FILE = "pages/1_Completions.py"


@pytest.fixture
def at(local):
    return open_page(PAGE_FILE)


def _sent(backend):
    return [r["body"] for r in backend.requests_seen if r["path"].endswith("/completions")]


def _prompt(at, text):
    at.text_area(key="w:completions.prompt.0").set_value(text)


def _generate(at):
    at.button(key="generate").click().run()
    assert not at.exception


def _card_titles(at):
    return [m.value for m in at.markdown if m.value.startswith("Choice ")]


def _texts(at):
    return [h.proto.body for h in at.get("html") if h.proto.body.startswith('<div class="ct">')]


def test_every_parameter_has_a_widget_and_the_model_defaults_to_a_local_one(at):
    labels = {w.label for kind in ("slider", "number_input", "text_area", "toggle",
                                   "text_input", "selectbox")
              for w in getattr(at, kind)}
    assert {"Model", "Prompt", "Temperature", "Top p", "Top k", "Min p", "Repetition penalty",
            "Presence penalty", "Frequency penalty", "Max tokens", "Stop sequences",
            "Completions (n)", "Logprobs", "Echo", "Stream", "Safety model"} <= labels
    assert at.selectbox(key="w:completions.model.pick").value == "local/ngram-docs"
    assert [b.label for b in at.button][:2] == ["Generate", "Reset to defaults"]
    assert at.text_area(key="w:completions.logit_bias.0").label == "Logit bias"
    _prompt(at, "Hi")
    at.run()
    assert any(shown(c).startswith("Sent: max_tokens=256, stream=true;") for c in at.caption)


def test_an_invalid_seed_is_shown_at_its_widget_and_nothing_is_sent(at, fresh_backend):
    _prompt(at, "Hello")
    at.session_state["completions.seed.mode"] = "fixed"
    at.session_state["completions.seed.text"] = "not a number"
    at.run()
    assert any("seed must be an integer" in shown(e) for e in at.error)
    _generate(at)
    assert any(shown(e).startswith("Nothing was sent. Fix the fields marked in red first: seed")
               for e in at.error)
    assert _sent(fresh_backend) == []


def test_an_empty_prompt_sends_nothing(at, fresh_backend):
    _generate(at)
    assert any("prompt is required" in e.value.lower() for e in at.error)
    assert _sent(fresh_backend) == []


def test_defaults_are_not_sent_but_changed_and_pinned_ones_are(at, fresh_backend):
    _prompt(at, "Hello")
    at.slider(key="w:completions.temperature.0").set_value(0.3)
    at.multiselect(key="w:completions.pinned").set_value(["top_k"])
    at.run()
    assert any(shown(c).startswith("Sent: max_tokens=256, temperature=0.3, top_k=50, "
                                  "stream=true;") for c in at.caption)
    _generate(at)
    body = _sent(fresh_backend)[-1]
    assert body["temperature"] == 0.3 and body["top_k"] == 50
    assert "top_p" not in body and "seed" not in body and "n" not in body
    assert body["prompt"] == "Hello" and body["model"] == "local/ngram-docs"


def test_reset_puts_parameters_back_and_keeps_model_and_prompt(at):
    _prompt(at, "Keep me")
    at.slider(key="w:completions.temperature.0").set_value(1.5).run()
    at.button(key="reset").click().run()
    assert at.slider(key="w:completions.temperature.1").value == 0.7
    assert at.text_area(key="w:completions.prompt.1").value == "Keep me"
    assert at.selectbox(key="w:completions.model.pick").value == "local/ngram-docs"


def test_a_full_run_shows_every_choice_metrics_tokens_and_the_board(at, fresh_backend):
    _prompt(at, "The playground")
    at.number_input(key="w:completions.n.0").set_value(3)
    at.slider(key="w:completions.logprobs.0").set_value(2)
    at.run()
    _generate(at)
    headers = _card_titles(at)
    assert sorted(h.split(" · ")[0] for h in headers) == ["Choice 0", "Choice 1", "Choice 2"]
    assert all(re.search(r"\*\*(length|eos|stop)\*\*", h) for h in headers)
    assert "".join(_texts(at))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Completion tokens"] not in ("—", "0")
    assert metrics["Time to first token"].endswith("ms")
    assert any(s.value == "Token probabilities" for s in at.subheader)
    assert any(s.value == "Choices board" for s in at.subheader)
    assert [b.label for b in at.button][0] == "Generate"        # Stop is gone after the run
    assert [b["n"] for b in _sent(fresh_backend)] == [3]     # one click, one request


def test_the_token_table_is_built_only_once_its_expander_is_opened(at):
    """Issue 14: closed, it still sent every token's row (pandas and pyarrow with it) on
    each rerun after a run with logprobs."""
    _prompt(at, "The playground")
    at.slider(key="w:completions.logprobs.0").set_value(1)
    at.run()
    _generate(at)
    assert any(s.value == "Token probabilities" for s in at.subheader)
    assert not at.dataframe
    at.session_state["completions:tokens:open"] = True
    at.run()
    (table,) = at.dataframe
    assert len(table.value) == len(at.session_state["completions:run"].snapshot()
                                   .choices[0].tokens)


def test_the_bias_helper_turns_a_word_into_token_ids_that_are_sent(at, fresh_backend):
    _prompt(at, "Hello")
    at.text_input(key=[w.key for w in at.text_input if w.label == "Word to bias"][0]) \
        .set_value(" the")
    next(b for b in at.button if b.label == "Add its tokens").click().run()
    assert any(c.value.startswith("Added: ") for c in at.caption)
    _generate(at)
    bias = _sent(fresh_backend)[-1]["logit_bias"]
    assert bias and set(bias.values()) == {-100.0}


def test_bias_lines_typed_in_the_field_are_sent_and_a_bad_line_is_named(at, fresh_backend):
    _prompt(at, "Hello")
    bias = at.text_area(key="w:completions.logit_bias.0")
    bias.set_value("0: -100\n\n 13 : 2.5").run()
    _generate(at)
    assert _sent(fresh_backend)[-1]["logit_bias"] == {"0": -100.0, "13": 2.5}
    at.text_area(key="w:completions.logit_bias.0").set_value("0: -100\nthe: 5").run()
    _generate(at)
    assert any("logit_bias, line 2" in shown(e) and "token ids" in shown(e) for e in at.error), \
        [shown(e) for e in at.error]
    assert len(_sent(fresh_backend)) == 1                       # nothing sent with a bad line
    assert at.text_area(key="w:completions.logit_bias.0").value == "0: -100\nthe: 5"


def test_a_model_id_typed_under_other_is_sent(at, fresh_backend):
    _prompt(at, "Hello")
    at.selectbox(key="w:completions.model.pick").set_value("Other…").run()
    at.text_input(key="w:completions.model.0").set_value("local/ngram-code").run()
    assert at.selectbox(key="w:completions.model.pick").value == "Other…"
    _generate(at)
    assert _sent(fresh_backend)[-1]["model"] == "local/ngram-code"


def test_an_invalid_key_is_shown_in_plain_words_not_as_an_exception(at, fresh_backend):
    _prompt(at, "Hello")
    fresh_backend.add_fault({"kind": "status", "status": 401})
    _generate(at)
    assert any(shown(e).startswith("Invalid API key (HTTP 401)") and "TOGETHER_API_KEY" in shown(e)
               for e in at.error)
    assert not at.exception


def test_a_dropped_stream_keeps_its_partial_text(at, fresh_backend):
    _prompt(at, "Hello")
    at.session_state["completions.values"]["logit_bias"] = {"0": -100.0}  # no early end
    fresh_backend.add_fault({"kind": "drop_after", "tokens": 5})
    _generate(at)
    assert any("stream broke off" in shown(e) for e in at.error)
    assert "".join(_texts(at)) != '<div class="ct"></div>'
    assert len(_card_titles(at)) == 1 and "**error**" in _card_titles(at)[0]


def test_a_run_is_recorded_in_the_history_with_its_text(at, fresh_backend):
    from lib.saved.history import History
    _prompt(at, "Remember me")
    at.session_state["completions.values"]["logit_bias"] = {"0": -100.0}  # no early end
    _generate(at)
    assert at.session_state["completions:run"].join(10)   # the record is completed on its thread
    runs = History().list(page="completions")
    assert len(runs) == 1 and runs[0].status == "ok"
    full = History().get(runs[0].id)
    assert full.request["prompt"] == "Remember me"
    assert full.outputs[0]["text"] and full.metrics["completion_tokens"]
    assert full.events and "".join(text for _, _, text in full.events) == full.outputs[0]["text"]


def test_a_choice_that_failed_before_any_text_says_so_on_its_card(at, fresh_backend):
    _prompt(at, "Hello")
    fresh_backend.add_fault({"kind": "status", "status": 400})
    _generate(at)
    notes = [h.proto.body for h in at.get("html") if 'class="ct ct-wait"' in h.proto.body]
    assert notes and all("waiting for the first token" not in n for n in notes)
    assert any("Failed before any text: " in n and "HTTP 400" in n for n in notes)
