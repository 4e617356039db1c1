"""The regions of the Completions page, each a function the page calls top to bottom.

The page file stays a short script that reads like the screen; the drawing of each region
(parameter tabs, buttons, code view, metrics, token view, choices board) lives here.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

import streamlit as st

from lib.api import snippets
from lib.api.errors import TogetherError
from lib.api.results import ModelInfo, completion_tokens_text
from lib.catalogue import COMPLETIONS
from lib.connection import LOCAL, Connection
from lib.text import choice_board, record as completion_record, token_table
from lib.text.stream_run import RunView, StreamRun
from lib.ui import alerts, state, stream_view
from lib.ui.form import Form, param_form
from lib.ui.model_picker import context_text
from lib.ui.text import shown
from lib.ui.widgets import param_widget

SEED_AND_BIAS = ("seed", "logit_bias")
TABS = {
    "Sampling": [p.name for p in COMPLETIONS.params
                 if p.group == "Sampling" and p.name not in SEED_AND_BIAS],
    "Output": [p.name for p in COMPLETIONS.params if p.group == "Output"],
    "Seed & bias": list(SEED_AND_BIAS),
}
PINNABLE = [p.name for p in COMPLETIONS.params if not p.required and not p.always_send]

# Ctrl/Cmd+Enter in the prompt clicks Generate. Streamlit has no key handler; this runs once
# per browser tab (guarded), blurs the prompt so its text is committed, then clicks.
CTRL_ENTER = """<script>
(function () {
  if (window.__ctrlEnterGenerate) return;
  window.__ctrlEnterGenerate = true;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var t = e.target;
    if (!t || t.tagName !== "TEXTAREA" || t.getAttribute("aria-label") !== "Prompt") return;
    var button = document.querySelector(".st-key-generate button");
    if (!button || button.innerText.trim() !== "Generate") return;  // not Stop
    e.preventDefault();
    t.blur();
    setTimeout(function () { button.click(); }, 50);
  }, true);
})();
</script>"""


# ---------------------------------------------------------------- inputs

@st.fragment
def parameter_panel(page: str, conn: Connection, invalid: set[str]) -> None:
    """The parameters, then what they add up to: the request in one line and as code.

    A fragment: touching a parameter reruns this panel alone, not the sidebar, the prompt
    or the output, so a touch costs about what a bare page's does (issue 14: the whole page
    cost nearly twice as much). The prompt column also speaks of these values (the context
    warning, why nothing can be sent); when a touch changes what it would say, the whole
    page reruns. ``invalid`` is the set the full run passed in, which a rerun of the panel
    alone is given again: emptied first, a field fixed here stops counting as invalid.
    """
    invalid.clear()
    parameter_tabs(page, conn, invalid)
    form = param_form(page, COMPLETIONS, invalid=invalid)
    if form.body is not None:
        st.caption(shown(snippets.sent_summary(form.body)))
        code_expander(conn, form.body)
    if state.fragment_run():
        said = settings_notices(conn, form)
        if said != st.session_state.get(_notices_key(page)):
            st.session_state[_notices_key(page)] = said   # so the rerun cannot loop
            st.rerun(scope="app")


def settings_notices(conn: Connection, form: Form) -> tuple[str, str]:
    """What the prompt column says of the settings: the context warning, and, once Generate
    was pressed, why nothing can be sent."""
    if form.body is not None:
        return context_text(conn, form.body), ""
    return "", form.problem if form.attempted else ""


def show_settings_notices(page: str, conn: Connection, form: Form) -> None:
    """Draw ``settings_notices`` under the buttons, and keep them for the parameter panel."""
    warning, not_ready = st.session_state[_notices_key(page)] = settings_notices(conn, form)
    if warning:
        alerts.warning(warning, icon=":material/warning:")
    if not_ready:
        st.caption(f"Not ready to send: {shown(not_ready)}")


def _notices_key(page: str) -> str:
    return f"{page}:settings_notices"


def parameter_tabs(page: str, conn: Connection, invalid: set[str]) -> None:
    """Every catalogue parameter, grouped in tabs, plus the pin list."""
    tabs = st.tabs(list(TABS))
    for tab, names in zip(tabs, TABS.values()):
        with tab:
            for name in names:
                if name == "logit_bias":
                    bias_helper(page, conn)
                param_widget(page, COMPLETIONS, name, errors=invalid)
    st.multiselect("Always send (even at default)", PINNABLE,
                   key=state.persistent(state.pinned_key(page), []), on_change=state.sync,
                   args=(state.pinned_key(page),),
                   help="Parameters left at their default are not sent, so the API's own "
                        "default applies. Pin one to send the value shown anyway.")


def bias_helper(page: str, conn: Connection) -> None:
    """Turn a word into token ids (via the API's own tokenizer) and add them to the table."""
    values = state.page_values(page, COMPLETIONS)
    with st.form(f"{page}:bias_form", border=False):
        word_col, bias_col = st.columns([2, 1])
        word = word_col.text_input("Word to bias", placeholder="e.g. ' Paris'",
                                   help="Tokenised by the model itself. A word inside a "
                                        "sentence usually starts with a space.")
        bias = bias_col.number_input("Bias", min_value=-100.0, max_value=100.0, value=-100.0,
                                     step=5.0)
        add = st.form_submit_button("Add its tokens")
    if not (add and word):
        return
    model = values.get("model")
    if not model:
        alerts.error("Pick a model first: token ids depend on the model.")
        return
    try:
        tokens = [t for t in conn.client().tokenize(model, word) if t.token_id is not None]
    except TogetherError as exc:
        alerts.error(exc.describe(), icon=":material/error:")
        return
    table = dict(values.get("logit_bias") or {})
    for t in tokens:
        table[str(t.token_id)] = float(bias)
    values["logit_bias"] = table
    state.bump_version(page)  # the table widget restarts from the new values
    st.caption("Added: " + ", ".join(
        f"{shown(token_table.visible(t.token))} → {shown(t.token_id)}" for t in tokens)
        if tokens else "No tokens came back.")


GENERATE = "generate"


def generate_pressed() -> bool:
    """Whether Generate was clicked (read once, before the button is drawn: see the page)."""
    return stream_view.pressed(GENERATE)


def action_buttons(page: str, run: StreamRun | None, running: bool) -> None:
    """Generate (Stop while running, in the same place), Reset, and Ctrl/Cmd+Enter."""
    go, reset, script = st.columns([1, 1.3, 1.7])
    with go:
        stream_view.action_button(GENERATE, "Generate", run.stop if running else None,
                                  running, width="stretch")
    reset.button("Reset to defaults", key="reset", on_click=_reset, args=(page,),
                 width="stretch", help="Every parameter back to its default (model and "
                                       "prompt are kept).")
    with script:
        st.caption("or Ctrl/⌘ + Enter in the prompt")
        st.html(CTRL_ENTER, unsafe_allow_javascript=True)


def _reset(page: str) -> None:
    values = state.page_values(page, COMPLETIONS)
    state.restore(page, COMPLETIONS, {"model": values.get("model", ""),
                                      "prompt": values.get("prompt", "")})


def code_expander(conn: Connection, body: dict[str, Any]) -> None:
    """The exact request as code; on Local the base URL comes from a variable (its port
    changes on each start), and the caption names what to set."""
    local = conn.provider == LOCAL
    box = st.expander("View as code", icon=":material/code:", key="completions:code_open",
                      on_change="rerun")
    if not box.open:   # closed, it costs nothing: no snippets built, none highlighted
        return
    with box:
        st.caption(shown(snippets.setup(conn.base_url, local)))
        code = snippets.all_snippets(conn.base_url, body, base_from_env=local)
        for tab, (name, text) in zip(st.tabs(list(code)), code.items()):
            with tab:
                st.code(text, language=snippets.HIGHLIGHT[name])


# ---------------------------------------------------------------- results

def run_metrics(view: RunView, model: ModelInfo | None) -> None:
    usage = view.usage
    cost = completion_record.estimated_cost(view, model)
    cells = [("Time to first token", f"{view.ttft * 1000:.0f} ms" if view.ttft else "—"),
             ("Tokens/s", f"{view.tokens_per_s:.0f}" if view.tokens_per_s else "—"),
             ("Prompt tokens", usage.prompt_tokens if usage else "—"),
             ("Completion tokens", completion_tokens_text(usage, view.token_count)),
             ("Total tokens", usage.total_tokens if usage else "—"),
             ("Estimated cost", completion_record.money(cost))]
    for row in (cells[:3], cells[3:]):  # two rows: six in one are cut off beside the params
        for col, (label, value) in zip(st.columns(len(row)), row):
            col.metric(label, shown(value))
    finishes = Counter(c.finish_reason or "—" for c in view.choices)
    st.caption(f"Run {view.status} in {view.elapsed:.2f} s · finish reasons: "
               + ", ".join(f"{shown(reason)} ×{k}" for reason, k in finishes.items())
               + (f" · request id {shown(view.request_id)}" if view.request_id else "")
               + (" · no price in the model listing" if model is None or (
                   model.input_price is None and model.output_price is None) else ""))
    if view.note:
        st.caption(shown(view.note))


def token_probabilities(page: str, conn: Connection, params: dict[str, Any], view: RunView,
                        model: ModelInfo | None) -> None:
    """Heat-maps of the completion (and, with echo, the prompt) by token probability.

    Shown only when logprobs were asked for: some servers send them regardless. A click on
    a token opens its probability and alternatives (OpenAI's "show probabilities").
    """
    if not params.get("logprobs"):
        return
    with_numbers = [c for c in view.choices if any(t.logprob is not None for t in c.tokens)]
    prompt_tokens = view.prompt_tokens or _scored(page, params)
    wants_prompt = bool(params.get("echo")) and view.streaming
    if not with_numbers and not prompt_tokens and not wants_prompt:
        return
    st.subheader("Token probabilities")
    if with_numbers:
        choice = with_numbers[0]
        if len(with_numbers) > 1:
            index = st.segmented_control("Choice", [c.index for c in with_numbers],
                                         default=with_numbers[0].index,
                                         key=f"{page}:token_choice") or with_numbers[0].index
            choice = next(c for c in with_numbers if c.index == index)
        if not token_table.any_alternatives(choice.tokens):
            st.caption("Tinted by each sampled token's probability; "
                       f"{token_table.NO_ALTERNATIVES}."
                       + (" A stream carries only the sampled token's probability: turn "
                          "streaming off to get the top alternatives." if view.streaming
                          else ""))
        st.html(token_table.heatmap_html(choice.tokens))
        _token_table(f"{page}:tokens", choice.tokens, "Completion tokens")
    if prompt_tokens:
        st.markdown("**Prompt: which tokens surprised the model**")
        st.html(token_table.heatmap_html(prompt_tokens))
        worst = token_table.least_likely(prompt_tokens)
        if worst:
            st.caption("Least likely prompt tokens: " + ", ".join(
                f"{shown(r.token)} ({r.probability:.1%}, #{r.position})" for r in worst))
        _token_table(f"{page}:prompt_tokens", prompt_tokens, "Prompt tokens")
    elif wants_prompt:
        score_prompt_offer(page, conn, params, view, model)


SCORED = "{}:scored"  # the last "score the prompt" answer: (model, prompt, tokens)
SCORE_MAX_TOKENS = 1  # the catalogue's minimum, and what ``tokenize`` sends: the echo is the point


def _scored(page: str, params: dict[str, Any]) -> tuple:
    """The prompt tokens scored for this very model and prompt, if that was asked for."""
    model, prompt, tokens = st.session_state.get(SCORED.format(page)) or (None, None, ())
    return tokens if (model, prompt) == (params.get("model"), params.get("prompt")) else ()


def score_prompt_offer(page: str, conn: Connection, params: dict[str, Any], view: RunView,
                       model: ModelInfo | None) -> None:
    """A stream carries no prompt logprobs: offer the one small request that has them."""
    prompt_count = view.usage.prompt_tokens if view.usage else None
    cost = model.cost(prompt_count, SCORE_MAX_TOKENS) if model and prompt_count else None
    st.caption("A stream carries no prompt logprobs, so the prompt heat-map is missing. "
               "Scoring the prompt sends one more request, not streamed, with echo, "
               f"logprobs and max_tokens {SCORE_MAX_TOKENS}: it costs "
               + (f"{prompt_count:,} prompt tokens" if prompt_count else "the prompt's tokens")
               + f" and {SCORE_MAX_TOKENS} completion token"
               + (f" (about {completion_record.money(cost)})." if cost is not None else "."))
    if not st.button("Score the prompt", key=f"{page}:score", icon=":material/analytics:"):
        return
    try:
        with st.spinner("Scoring the prompt…"):
            # ``tokenize`` is that very request: echo + logprobs 1 + max_tokens 1, no stream.
            tokens = conn.client().tokenize(params["model"], params["prompt"])
    except TogetherError as exc:
        alerts.error(exc.describe(), icon=":material/error:")
        return
    st.session_state[SCORED.format(page)] = (params["model"], params["prompt"], tuple(tokens))
    st.rerun()


def _token_table(key: str, tokens, title: str) -> None:
    """The tokens as a selectable table, built only when its expander is open: a table
    imports pandas and pyarrow (about a second the first time, issue 14) and was sent,
    every row, on each rerun after a run with logprobs, open or not."""
    box = st.expander(f"{title}: table (select a row for its alternatives)",
                      key=f"{key}:open", on_change="rerun")
    if not box.open:
        return
    with box:
        rows = [asdict(r) for r in token_table.rows(tokens)]
        picked = st.dataframe(
            rows, key=key, on_select="rerun", selection_mode="single-row", hide_index=True,
            width="stretch",
            column_config={"probability": st.column_config.ProgressColumn(
                "probability", min_value=0.0, max_value=1.0, format="percent")})
        selected = picked.selection.rows if picked else []
        if selected:
            tok = tokens[selected[0]]
            st.markdown(f"Token #{selected[0]}: "
                        + shown(token_table.tooltip(tok).replace("\n", " · ")))


def choices_board(page: str, view: RunView) -> None:
    """With n > 1: choices ranked, and where each one leaves the most likely."""
    if len(view.choices) < 2:
        return
    st.subheader("Choices board")
    entries = [choice_board.Entry(c.index, c.text, c.tokens, c.finish_reason)
               for c in view.choices]
    has_logprobs = any(e.mean_logprob is not None for e in entries)
    keys = choice_board.SORT_KEYS if has_logprobs else choice_board.SORT_KEYS[1:]
    by = st.segmented_control("Sort by", keys, default=keys[0], key=f"{page}:board_sort")
    ref = choice_board.reference(entries)
    ranked = choice_board.rank(entries, by or keys[0])
    st.dataframe(choice_board.board_rows(ranked, ref), hide_index=True, width="stretch")
    st.caption(f"Compared with choice {ref.index}"
               + (" (highest mean logprob)." if has_logprobs else
                  " (no logprobs: turn them on to rank by likelihood).")
               + " Highlighted: words that differ from it.")
    others = [e.index for e in ranked if e is not ref]
    # One diff at a time: long choices make big diffs, and hidden ones would still be sent.
    pick = st.selectbox(f"Show where a choice differs from choice {ref.index}", others,
                        key=f"{page}:board_diff", format_func=lambda i: f"choice {i}")
    other = next(e for e in entries if e.index == pick)
    st.html(choice_board.diff_html(choice_board.segments(ref.text, other.text)))
