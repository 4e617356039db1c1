"""The regions of the Completions page, each a function the page calls top to bottom.

The page file stays a short script that reads like the screen; the drawing of each region
(parameter tabs, buttons, code view, metrics, token view, choices board) lives here.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any, Callable

import streamlit as st

from lib.api import snippets
from lib.api.errors import TogetherError
from lib.api.results import ModelInfo, completion_tokens_text
from lib.catalogue import COMPLETIONS
from lib.connection import Connection
from lib.text import choice_board, record as completion_record, token_table
from lib.text.stream_run import RunView, StreamRun
from lib.ui import alerts, state, stream_view
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
    if (!button) return;
    e.preventDefault();
    t.blur();
    setTimeout(function () { button.click(); }, 50);
  }, true);
})();
</script>"""


# ---------------------------------------------------------------- inputs

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
    """Whether Generate was clicked, read before the button is drawn again (see the page)."""
    return bool(st.session_state.get(GENERATE))


def action_buttons(page: str, run: StreamRun | None, running: bool):
    """Generate (or Stop while running), Reset, and the Ctrl/Cmd+Enter shortcut.

    Returns the slot of the first button, so ``generate_button`` can put Generate back in
    place of Stop when the stream ends, without a whole-page rerun.
    """
    go, reset, script = st.columns([1, 1.3, 1.7])
    slot = go.empty()
    if running:
        slot.button("Stop", key="stop", type="primary", on_click=run.stop, width="stretch",
                    help="Close the connection now; the text received so far is kept.")
    else:
        generate_button(slot)
    reset.button("Reset to defaults", key="reset", on_click=_reset, args=(page,),
                 width="stretch", help="Every parameter back to its default (model and "
                                       "prompt are kept).")
    with script:
        st.caption("or Ctrl/⌘ + Enter in the prompt")
        st.html(CTRL_ENTER, unsafe_allow_javascript=True)
    return slot


def generate_button(slot) -> None:
    slot.button("Generate", key=GENERATE, type="primary", width="stretch")


def _reset(page: str) -> None:
    values = state.page_values(page, COMPLETIONS)
    state.restore(page, COMPLETIONS, {"model": values.get("model", ""),
                                      "prompt": values.get("prompt", "")})


def code_expander(base_url: str, body: dict[str, Any]) -> None:
    with st.expander("View as code", icon=":material/code:"):
        st.caption("The exact request. The key is read from TOGETHER_API_KEY, never "
                   "written here.")
        code = snippets.all_snippets(base_url, body)
        for tab, (name, text) in zip(st.tabs(list(code)), code.items()):
            with tab:
                st.code(text, language=snippets.HIGHLIGHT[name])


def history_recorder(conn: Connection, body: dict[str, Any], model: ModelInfo | None,
                     page: str = completion_record.PAGE) -> Callable[[StreamRun], None] | None:
    """Record the run now; return the callback that completes the record when it ends.

    Compare and Presenter record their runs the same way, under their own page name.
    """
    return stream_view.record_run(conn, page, body,
                                  lambda run: completion_record.finished(run, model))


# ---------------------------------------------------------------- results

def run_metrics(view: RunView, model: ModelInfo | None) -> None:
    usage = view.usage
    cost = completion_record.estimated_cost(view, model)
    cells = [("Time to first token", f"{view.ttft * 1000:.0f} ms" if view.ttft else "—"),
             ("Tokens/s", f"{view.tokens_per_s:.0f}" if view.tokens_per_s else "—"),
             ("Prompt tokens", usage.prompt_tokens if usage else "—"),
             ("Completion tokens", completion_tokens_text(usage, view.token_count)),
             ("Total tokens", usage.total_tokens if usage else "—"),
             ("Estimated cost", _money(cost))]
    for col, (label, value) in zip(st.columns(len(cells)), cells):
        col.metric(label, shown(value))
    finishes = Counter(c.finish_reason or "—" for c in view.choices)
    st.caption(f"Run {view.status} in {view.elapsed:.2f} s · finish reasons: "
               + ", ".join(f"{shown(reason)} ×{k}" for reason, k in finishes.items())
               + (f" · request id {shown(view.request_id)}" if view.request_id else "")
               + (" · no price in the model listing" if model is None or (
                   model.input_price is None and model.output_price is None) else ""))
    if view.note:
        st.caption(shown(view.note))


def _money(usd: float | None) -> str:
    if usd is None:
        return "—"
    return "$0" if usd == 0 else f"${usd:.2g}" if usd < 0.01 else f"${usd:.4f}"


def token_probabilities(page: str, view: RunView, requested: bool) -> None:
    """Heat-maps of the completion (and, with echo, the prompt) by token probability.

    Shown only when logprobs were asked for: some servers send them regardless.
    """
    if not requested:
        return
    with_numbers = [c for c in view.choices if any(t.logprob is not None for t in c.tokens)]
    if not with_numbers and not view.prompt_tokens:
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
    if view.prompt_tokens:
        st.markdown("**Prompt: which tokens surprised the model**")
        st.html(token_table.heatmap_html(view.prompt_tokens))
        worst = token_table.least_likely(view.prompt_tokens)
        if worst:
            st.caption("Least likely prompt tokens: " + ", ".join(
                f"{shown(r.token)} ({r.probability:.1%}, #{r.position})" for r in worst))
        _token_table(f"{page}:prompt_tokens", view.prompt_tokens, "Prompt tokens")


def _token_table(key: str, tokens, title: str) -> None:
    with st.expander(f"{title}: table (select a row for its alternatives)"):
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
    st.dataframe([{
        "choice": e.index, "mean logprob": e.mean_logprob, "characters": len(e.text),
        "finish": e.finish_reason,
        "diverges at word": "reference" if e is ref
        else choice_board.first_divergence(ref.text, e.text)} for e in ranked],
        hide_index=True, width="stretch")
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
