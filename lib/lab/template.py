"""Prompt templates: ``{name}`` placeholders filled from one row of inputs.

The syntax is Python's ``str.format`` reduced to what a prompt needs: ``{name}`` is a
variable (letters, digits and underscores, not starting with a digit), ``{{`` and ``}}``
are literal braces, and nothing else may sit inside braces (no ``{0}``, ``{a.b}`` or
``{a:>10}``: a template is text, never code). A lone brace is an error naming where it
is, so a JSON example in a prompt is written with doubled braces.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_TEMPLATE_CHARS = 50_000


class TemplateError(ValueError):
    """The template cannot be read; the message names the character and what is allowed."""


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and variables, in order."""

    parts: tuple[str | Var, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """Each variable once, in the order it first appears."""
        return tuple(dict.fromkeys(p.name for p in self.parts if isinstance(p, Var)))

    def render(self, values: Mapping[str, object]) -> str:
        """The prompt for one row; TemplateError naming any variable the row lacks."""
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise TemplateError(f"No value for {', '.join('{' + m + '}' for m in missing)}")
        return "".join(p if isinstance(p, str) else str(values[p.name]) for p in self.parts)


def parse(text: str) -> Template:
    """``text`` as a Template; TemplateError naming the first bad brace otherwise."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"The template is {len(text):,} characters; at most "
                            f"{MAX_TEMPLATE_CHARS:,}.")
    parts: list[str | Var] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i + 1:i + 2] == ch:
            literal.append(ch)
            i += 2
        elif ch == "}":
            raise TemplateError(f"A lone }} at character {i + 1}: write }}}} for a literal "
                                "brace.")
        elif ch == "{":
            end = text.find("}", i + 1)
            inner = text[i + 1:end] if end != -1 else ""
            if end == -1 or not NAME.fullmatch(inner):
                raise TemplateError(
                    f"A lone {{ at character {i + 1}: a placeholder is {{name}} (letters, "
                    "digits and _, not starting with a digit); write {{ for a literal brace.")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Var(inner))
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return Template(tuple(parts))


def escape(text: str) -> str:
    """``text`` as a template that renders to itself (every brace doubled)."""
    return text.replace("{", "{{").replace("}", "}}")
