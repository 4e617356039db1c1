"""Token probability heat-maps, as escaped HTML and as table rows (no Streamlit here).

Tokens come from a model and may hold anything, markup included, so every piece of token
text that reaches the HTML goes through ``html.escape`` first; the page only ever renders
the string built here. Colour runs red (unlikely) to green (likely) with a translucent
background, so the text keeps the theme's own colour in light and dark mode.

Together sometimes returns only the sampled token in ``top_logprobs``; then a token has
no real alternatives and the view says so rather than showing a list of one.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Sequence

from lib.api.results import TokenLogprob

NO_ALTERNATIVES = "alternatives not returned"


@dataclass(frozen=True)
class TokenRow:
    """One token as the table below the heat-map shows it."""

    position: int
    token: str           # visible form: whitespace and control characters spelled out
    probability: float | None
    logprob: float | None
    alternatives: str


def probability(logprob: float | None) -> float | None:
    """exp(logprob), clamped to [0, 1]; None when the API gave no number."""
    if logprob is None or math.isnan(logprob):
        return None
    return min(1.0, math.exp(logprob))  # exp(-inf) is 0; a positive logprob is clamped


def visible(token: str) -> str:
    """The token with whitespace made visible, for tables and tooltips (not escaped)."""
    return (token.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r").replace(" ", "␣"))


def alternatives(tok: TokenLogprob, limit: int = 5) -> list[tuple[str, float]]:
    """The top alternatives other than the token itself, most likely first."""
    if not tok.top:
        return []
    ranked = sorted(((t, lp) for t, lp in tok.top.items() if lp is not None),
                    key=lambda item: item[1], reverse=True)
    return [(t, probability(lp) or 0.0) for t, lp in ranked][:limit]


def has_alternatives(tok: TokenLogprob) -> bool:
    """True when the API returned at least one token besides the sampled one."""
    return bool(tok.top) and any(t != tok.token for t in tok.top)


def describe_alternatives(tok: TokenLogprob, limit: int = 5) -> str:
    if not has_alternatives(tok):
        return NO_ALTERNATIVES
    return ", ".join(f"{visible(t)} {p:.1%}" for t, p in alternatives(tok, limit))


def tint(p: float | None) -> str:
    """Background colour for a probability: red at 0, amber at 0.5, green at 1; grey if unknown."""
    if p is None:
        return "rgba(128, 128, 128, 0.20)"
    return f"hsla({120 * p:.0f}, 80%, 45%, 0.30)"


def headline(tok: TokenLogprob) -> str:
    """The token and its probability, in one line (not escaped)."""
    p = probability(tok.logprob)
    if p is None:
        return f"{visible(tok.token)}: probability not returned"
    return f"{visible(tok.token)}: {p:.1%} (logprob {tok.logprob:.3f})"


def tooltip(tok: TokenLogprob) -> str:
    if probability(tok.logprob) is None:
        return headline(tok)
    return f"{headline(tok)}\nTop: {describe_alternatives(tok)}"


def popover_html(tok: TokenLogprob) -> str:
    """What a click on a token opens: its probability and the top alternatives, escaped."""
    head = f'<span class="tv-pop-head">{html.escape(headline(tok))}</span>'
    if probability(tok.logprob) is None:
        return f'<span class="tv-pop">{head}</span>'
    lines = ("".join(f'<span class="tv-alt">{html.escape(visible(t))} {q:.1%}</span>'
                     for t, q in alternatives(tok))
             if has_alternatives(tok) else f'<span class="tv-alt">{NO_ALTERNATIVES}</span>')
    return f'<span class="tv-pop">{head}{lines}</span>'


def heatmap_html(tokens: Sequence[TokenLogprob], label: str = "") -> str:
    """The tokens as one block of tinted spans; a click on one (or a hover) opens its
    probability and alternatives in a popover, like OpenAI's "show probabilities".

    The popover is CSS only (a focusable span), so no script is needed and none can get
    in. Whitespace is kept (``pre-wrap``) and a newline token shows a faint ↵ to click.
    """
    spans = []
    for tok in tokens:
        text = html.escape(tok.token, quote=True)
        if "\n" in tok.token:
            text = text.replace("\n", '<span class="tv-nl">↵</span>\n')
        spans.append(f'<span class="tv-tok" tabindex="0" role="button" '
                     f'style="background:{tint(probability(tok.logprob))}">{text}'
                     f'{popover_html(tok)}</span>')
    caption = f'<div class="tv-label">{html.escape(label)}</div>' if label else ""
    what = "its probability and alternatives" if any_alternatives(tokens) else "its probability"
    return (f"{_STYLE}<div class=\"tv\">{caption}<div class=\"tv-body\">{''.join(spans)}"
            f"</div>{_LEGEND} · click a token for {what}</div></div>")


_STYLE = """<style>
.tv{font-size:0.95rem;line-height:1.9}
.tv-label{font-size:0.8rem;opacity:0.7;margin-bottom:0.2rem}
.tv-body{white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace}
.tv-tok{position:relative;border-radius:3px;padding:1px 0;cursor:pointer;box-shadow:inset -1px 0 0 rgba(128,128,128,.35)}
.tv-tok:hover,.tv-tok:focus{outline:2px solid rgba(128,128,128,.8)}
.tv-pop{display:none;position:absolute;z-index:1000;top:1.9em;left:0;min-width:12rem;max-width:22rem;
 white-space:normal;font-size:0.85rem;line-height:1.5;padding:0.4rem 0.6rem;border-radius:6px;
 background:var(--background-color, #fff);color:var(--text-color, inherit);
 border:1px solid rgba(128,128,128,.5);box-shadow:0 4px 14px rgba(0,0,0,.25)}
.tv-tok:focus .tv-pop,.tv-tok:focus-within .tv-pop{display:block}
.tv-pop-head{display:block;font-weight:600;margin-bottom:0.2rem}
.tv-alt{display:block}
.tv-nl{opacity:0.45}
.tv-legend{font-size:0.75rem;opacity:0.75;margin-top:0.3rem}
.tv-legend span{padding:0 0.4rem;border-radius:3px}
</style>"""

_LEGEND = ('<div class="tv-legend">probability: '
           + "".join(f'<span style="background:{tint(p)}">{p:.0%}</span>'
                     for p in (0.0, 0.25, 0.5, 0.75, 1.0)))


def rows(tokens: Sequence[TokenLogprob]) -> list[TokenRow]:
    """One row per token, in order, for a sortable table under the heat-map."""
    return [TokenRow(i, visible(t.token), probability(t.logprob), t.logprob,
                     describe_alternatives(t)) for i, t in enumerate(tokens)]


def least_likely(tokens: Sequence[TokenLogprob], k: int = 5,
                 skip_first: bool = True) -> list[TokenRow]:
    """The k most surprising tokens; the first prompt token has no context, so it is skipped."""
    table = [r for r in rows(tokens) if r.probability is not None]
    if skip_first:
        table = [r for r in table if r.position > 0]
    return sorted(table, key=lambda r: r.probability)[:k]


def mean_logprob(tokens: Sequence[TokenLogprob]) -> float | None:
    """Average log probability per token (a length-fair likelihood), None without numbers."""
    values = [t.logprob for t in tokens if t.logprob is not None and math.isfinite(t.logprob)]
    return sum(values) / len(values) if values else None


def any_alternatives(tokens: Sequence[TokenLogprob]) -> bool:
    return any(has_alternatives(t) for t in tokens)
