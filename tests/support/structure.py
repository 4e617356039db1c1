"""The import structure of the app, by package, and the drawing of it in the README.

A *unit* is a package of ``lib`` (``lib.api``), a top-level module of ``lib``
(``lib.catalogue``), ``pages`` or ``playground``. Each unit sits on a layer; an import
may point sideways or down, never up, and units never import each other in a circle.

Run ``python -m tests.support.structure`` to print the drawing for the README.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- structure:start -->", "<!-- structure:end -->"

# Lowest first. A new unit must be placed here before the structure test passes.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wire and definitions", ("lib.api", "lib.catalogue", "lib.param_settings",
                              "lib.sweep_grid", "lib.page_registry", "lib.background")),
    ("saved things and servers", ("lib.saved", "lib.local_backend")),
    ("features", ("lib.text", "lib.images", "lib.connection", "lib.lab")),
    ("Streamlit views", ("lib.ui",)),
    ("pages", ("pages", "playground")),
)
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "lib" and len(parts) > 1 else parts[0]


def _modules() -> list[tuple[str, Path]]:
    files = [*ROOT.glob("lib/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "playground.py"]
    return [(".".join(f.relative_to(ROOT).with_suffix("").parts), f) for f in files]


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def edges() -> dict[str, set[str]]:
    """unit → the other units it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in _modules():
        source = unit_of(module)
        for name in _imported(ast.parse(path.read_text())):
            target = unit_of(name)
            if name.startswith("lib.") and target != source and target != "lib":
                graph[source].add(target)
    return graph


def streamlit_importers() -> list[str]:
    """Modules outside lib/ui, pages and the home page that import Streamlit."""
    return sorted(module for module, path in _modules()
                  if unit_of(module) not in ("lib.ui", "pages", "playground")
                  and any(n.split(".")[0] == "streamlit" for n in _imported(ast.parse(path.read_text()))))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle found by a depth-first walk, as the list of units on it."""
    found, done, path = [], set(), []

    def walk(unit: str) -> None:
        if unit in path:
            found.append(path[path.index(unit):] + [unit])
            return
        if unit in done:
            return
        path.append(unit)
        for target in sorted(graph.get(unit, ())):
            walk(target)
        path.pop()
        done.add(unit)
    for unit in sorted(graph):
        walk(unit)
    return found


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a unit to one on a higher layer (or to a unit with no layer)."""
    return sorted((source, target) for source, targets in graph.items() for target in targets
                  if RANK.get(target, len(LAYERS)) > RANK.get(source, -1))


def drawing(graph: dict[str, set[str]]) -> str:
    """A Mermaid flowchart: one box per layer, top layer first, arrows pointing down."""
    ident = {unit: unit.replace(".", "_") for unit in RANK}
    lines = ["```mermaid", "flowchart TD"]
    for i, (title, units) in reversed(list(enumerate(LAYERS))):
        lines.append(f'  subgraph L{i}["{title}"]')
        lines.extend(f'    {ident[u]}["{u}"]' for u in units)
        lines.append("  end")
    for source in sorted(graph):
        lines.extend(f"  {ident[source]} --> {ident[t]}" for t in sorted(graph[source])
                     if source in ident and t in ident)
    lines.append("```")
    return "\n".join(lines)


def readme_drawing() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index(START) + len(START):text.index(END)].strip()


if __name__ == "__main__":
    print(drawing(edges()))
