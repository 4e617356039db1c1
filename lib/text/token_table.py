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


def tooltip(tok: TokenLogprob) -> str:
    p = probability(tok.logprob)
    head = visible(tok.token)
    if p is None:
        return f"{head}: probability not returned"
    return (f"{head}: {p:.1%} (logprob {tok.logprob:.3f})\n"
            f"Top: {describe_alternatives(tok)}")


def heatmap_html(tokens: Sequence[TokenLogprob], label: str = "") -> str:
    """The tokens as one block of tinted spans, each with its probability in a tooltip.

    Whitespace is kept (``pre-wrap``) and a newline token shows a faint ↵ so it can be hovered.
    """
    spans = []
    for tok in tokens:
        text = html.escape(tok.token, quote=True)
        if "\n" in tok.token:
            text = text.replace("\n", '<span class="tv-nl">↵</span>\n')
        spans.append(f'<span class="tv-tok" style="background:{tint(probability(tok.logprob))}"'
                     f' title="{html.escape(tooltip(tok), quote=True)}">{text}</span>')
    caption = f'<div class="tv-label">{html.escape(label)}</div>' if label else ""
    return (f"{_STYLE}<div class=\"tv\">{caption}<div class=\"tv-body\">{''.join(spans)}"
            f"</div>{_LEGEND}</div>")


_STYLE = """<style>
.tv{font-size:0.95rem;line-height:1.9}
.tv-label{font-size:0.8rem;opacity:0.7;margin-bottom:0.2rem}
.tv-body{white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace}
.tv-tok{border-radius:3px;padding:1px 0;cursor:help;box-shadow:inset -1px 0 0 rgba(128,128,128,.35)}
.tv-tok:hover{outline:2px solid rgba(128,128,128,.8)}
.tv-nl{opacity:0.45}
.tv-legend{font-size:0.75rem;opacity:0.75;margin-top:0.3rem}
.tv-legend span{padding:0 0.4rem;border-radius:3px}
</style>"""

_LEGEND = ('<div class="tv-legend">probability: '
           + "".join(f'<span style="background:{tint(p)}">{p:.0%}</span>'
                     for p in (0.0, 0.25, 0.5, 0.75, 1.0))
           + " · hover a token for its alternatives</div>")


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
