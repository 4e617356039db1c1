"""A whole lab as plain data: template, inputs, variants and graders.

This is what history keeps, what a share link carries and what the exports start with.
It comes back from outside (a link, a database row), so ``from_json`` checks every part
with the same code the page uses: the template parser, the table reader, the catalogue
(through ``ParamSettings``) and the graders' own check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from lib.api.quoting import short_repr
from lib.catalogue import COMPLETIONS, COMPLETIONS_COMPACT, ValidationError
from lib.lab import graders as lab_graders, inputs, template
from lib.param_settings import ParamSettings, describe

MAX_VARIANTS = 4


class SetupError(ValueError):
    """Saved or linked lab data that cannot be used; the message says which part."""


@dataclass(frozen=True)
class VariantSetup:
    """One variant: its own template (None: the shared one) and its parameter values."""

    template: str | None
    values: dict[str, Any] = field(default_factory=dict)
    pinned: tuple[str, ...] = ()

    def settings(self) -> ParamSettings:
        return ParamSettings(COMPLETIONS, self.values, self.pinned)


@dataclass(frozen=True)
class LabSetup:
    template: str
    table: inputs.Table
    variants: tuple[VariantSetup, ...]
    graders: tuple[lab_graders.Grader, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"template": self.template, "columns": list(self.table.columns),
                "rows": [dict(r) for r in self.table.rows],
                "variants": [{"template": v.template, "values": dict(v.values),
                              "pinned": list(v.pinned)} for v in self.variants],
                "graders": [g.to_json() for g in self.graders]}


def differences(variant: VariantSetup, first: VariantSetup) -> list[str]:
    """What ``variant`` sets differently from variant 1: its template, model, parameters
    (each as "Title value", defaults filled in so an untouched field is no difference)."""
    out = ["own template"] if variant.template != first.template else []
    mine, theirs = variant.settings(), first.settings()
    for name in ("model", *COMPLETIONS_COMPACT):
        value = mine.effective(name)
        if value != theirs.effective(name):
            out.append(f"{COMPLETIONS[name].title} {value if value is not None else 'random'}")
    return out


def differences_line(i: int, variant: VariantSetup, first: VariantSetup) -> str:
    if i == 0:
        return "the reference: other variants list what they change"
    changed = differences(variant, first)
    return ("vs V1: " + ", ".join(changed)) if changed else "same as V1"


def from_json(raw: Any) -> LabSetup:
    """A lab from saved or linked data, every part checked; SetupError naming the part."""
    if not isinstance(raw, Mapping):
        raise SetupError("The lab is not an object.")
    text = raw.get("template")
    if not isinstance(text, str):
        raise SetupError(f"The lab's template must be text, got {short_repr(text)}.")
    try:
        variables = template.parse(text).variables
        columns = inputs.check_columns(_strings(raw.get("columns"), "columns"), variables)
        rows = raw.get("rows")
        if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
            raise SetupError("The lab's rows must be a list of objects.")
        table = inputs.check_rows(rows, columns)
        graders = tuple(lab_graders.from_json(g, columns) for g in _list(raw.get("graders"),
                                                                            "graders"))
    except (template.TemplateError, inputs.InputError, lab_graders.GraderError) as exc:
        raise SetupError(str(exc)) from None
    variants = _list(raw.get("variants"), "variants")
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise SetupError(f"A lab has 1 to {MAX_VARIANTS} variants, this one {len(variants)}.")
    return LabSetup(text, table, tuple(_variant(i, v) for i, v in enumerate(variants, 1)),
                    graders)


def _variant(n: int, raw: Any) -> VariantSetup:
    if not isinstance(raw, Mapping):
        raise SetupError(f"Variant {n} is not an object.")
    own = raw.get("template")
    if own is not None and not isinstance(own, str):
        raise SetupError(f"Variant {n}: its template must be text or null.")
    values = raw.get("values")
    if not isinstance(values, Mapping):
        raise SetupError(f"Variant {n}: its values must be an object.")
    try:
        if own is not None:
            template.parse(own)
        clean = ParamSettings(COMPLETIONS, dict(values), raw.get("pinned", [])).parse()
    except template.TemplateError as exc:
        raise SetupError(f"Variant {n}: {exc}") from None
    except ValidationError as exc:
        raise SetupError(f"Variant {n}: {describe(exc.errors)}") from None
    return VariantSetup(own, dict(clean.values), tuple(clean.pinned))


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise SetupError(f"The lab's {what} must be a list, got {short_repr(value)}.")
    return value


def _strings(value: Any, what: str) -> list[str]:
    items = _list(value, what)
    if not all(isinstance(v, str) for v in items):
        raise SetupError(f"The lab's {what} must all be text.")
    return items
