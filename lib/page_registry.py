"""Every page of the playground, written once: its title, icon, file and what it holds.

The navigation, the home page's cards, share links (which pages a link may name, and
whose parameters it holds), the History page's Restore and Replay, and the page names
recorded with a run all read this table. Adding a page is one entry here and one file in
``pages/`` that opens with ``lib.ui.shell.page_shell(<its key>)``.

Plain data, no Streamlit: ``lib.saved`` checks links against it.
"""
from __future__ import annotations

from dataclasses import dataclass

GROUPS = ("Generate", "Experiment", "Library", "Present")


@dataclass(frozen=True)
class Page:
    """One page. ``endpoint`` names the ``lib.catalogue`` endpoint whose parameters the
    page's state holds; ``restores_into`` is the page a History run of this page opens in
    (a Compare run is one column's completion, so it opens in Completions)."""
    key: str
    title: str
    icon: str
    file: str
    group: str | None
    blurb: str
    sample: str
    endpoint: str | None = None
    shareable: bool = False
    replayable: bool = False
    restores_into: str | None = None
    intro: str = ""  # said under the page's title, when the title alone does not say it


HOME = "home"
PAGES: tuple[Page, ...] = (
    Page(HOME, "Home", ":material/home:", "playground.py", None,
         "What the playground does, where to start, and the models on this connection.",
         ""),
    Page("completions", "Completions", ":material/edit_note:", "pages/1_Completions.py",
         "Generate", "A prompt and every parameter; n choices stream live, with token "
         "probabilities.", "Prompt “def parse(text):” with 3 completions and logprobs on.",
         endpoint="completions", shareable=True, replayable=True,
         restores_into="completions"),
    Page("images", "Images", ":material/image:", "pages/2_Images.py", "Generate",
         "Every image parameter; a grid that fills in, per-image seeds, PNGs that carry "
         "their settings.", "“A lighthouse at dusk, watercolour”, 4 images, then the ZIP.",
         endpoint="images", shareable=True, restores_into="images"),
    Page("compare", "Compare", ":material/view_column:", "pages/3_Compare.py", "Experiment",
         "One prompt against 2–4 models or parameter sets, all streaming at once.",
         "Three columns with temperature 0, 0.7 and 1.2.",
         endpoint="completions", shareable=True, replayable=True,
         restores_into="completions",
         intro="One prompt, side by side: each column has its own model and parameters, "
               "copied from the Completions page and then yours to change."),
    Page("sweep", "Sweep", ":material/grid_on:", "pages/4_Sweep.py", "Experiment",
         "An X/Y grid of completions: one prompt, one or two parameters varied.",
         "X: temperature 0, 0.5, 1 — Y: top_p 0.5, 1.",
         endpoint="completions", shareable=True, restores_into="sweep",
         intro="An X/Y plot for text: the same prompt with one or two parameters varied, "
               "every cell with its finish reason, token count, latency and mean logprob."),
    Page("lab", "Prompt lab", ":material/science:", "pages/7_Prompt_lab.py", "Experiment",
         "One template over a table of inputs, 1–4 variants side by side, every cell graded.",
         "“Explain {topic} in one line:” over 3 topics, graded “at most 20 words”.",
         endpoint="completions", shareable=True, restores_into="lab",
         intro="A template with {placeholders}, a table of inputs, variants side by side; "
               "every cell is graded by the checks you pick."),
    Page("history", "History", ":material/history:", "pages/5_History.py", "Library",
         "Every run, newest first: open one, restore its settings, replay it.",
         "Open your last completion and replay it with its seed."),
    Page("presenter", "Presenter", ":material/slideshow:", "pages/6_Presenter.py", "Present",
         "Large type and saved presets as scenes, for giving a demo.",
         "Step through the scenes with PageDown, or play back a recorded run.",
         endpoint="completions"),
)
_BY_KEY = {p.key: p for p in PAGES}


def find(key: object) -> Page | None:
    """The page named ``key``, or None: for names that come from outside (links, history)."""
    return _BY_KEY.get(key) if isinstance(key, str) else None


def page(key: str) -> Page:
    """The page named ``key``; a KeyError for a name that is not a page (a typo in code)."""
    found = find(key)
    if found is None:
        raise KeyError(f"no page {key!r}; pages: {', '.join(_BY_KEY)}")
    return found


def grouped() -> list[tuple[str, list[Page]]]:
    """The grouped pages (Home, having no group, is left out) in navigation order."""
    return [(g, [p for p in PAGES if p.group == g]) for g in GROUPS]
