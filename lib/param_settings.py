"""One page's settings as a value: the parameters set and the ones pinned to be sent.

Every way settings come in (the form, a preset, a share link, a PNG, a recorded run)
makes a ``ParamSettings``, so the check, the wire body and "what is this field, defaults
included" are written once, here, on top of the catalogue's per-value checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from lib.api.quoting import short_repr
from lib.catalogue import Endpoint, FieldError, ValidationError, build_request, validate

PINNED = "pinned"


@dataclass(frozen=True)
class ParamSettings:
    """Values by parameter name plus the names pinned (sent even at their default).

    Built from anything (a link's JSON included); ``check`` says what is wrong, and
    ``parse`` gives the normalised value or raises. ``values`` may leave fields out:
    ``effective`` fills them in from the catalogue.
    """

    endpoint: Endpoint
    values: Mapping[str, Any] = field(default_factory=dict)
    pinned: Any = ()

    def check(self, *, require: bool = True) -> list[FieldError]:
        """Every problem, one per field, each naming the field, what is wrong and what is
        allowed. ``require=False`` is for saved settings, which may lack a model or prompt."""
        try:
            validate(self.endpoint, self.values, require=require)
            problems = []
        except ValidationError as exc:
            problems = list(exc.errors)
        return problems + self._pin_problems()

    def parse(self, *, require: bool = False) -> ParamSettings:
        """These settings normalised by the catalogue (pins de-duplicated); ValidationError
        listing every problem otherwise."""
        problems = self._pin_problems()
        try:
            clean = validate(self.endpoint, self.values, require=require)
        except ValidationError as exc:
            problems = list(exc.errors) + problems
        if problems:
            raise ValidationError(problems)
        return ParamSettings(self.endpoint, clean, tuple(dict.fromkeys(self.pinned)))

    def body(self) -> dict[str, Any]:
        """The JSON body to send: checked, untouched defaults left out unless pinned;
        ValidationError listing every problem otherwise."""
        settings = self.parse(require=True)
        return build_request(self.endpoint, settings.values, settings.pinned)

    def effective(self, name: str) -> Any:
        """The value ``name`` has, its catalogue default when it was left out (as a body
        leaves out untouched defaults)."""
        if name in self.values:
            return self.values[name]
        return self.endpoint[name].fresh_default()

    @classmethod
    def from_request(cls, endpoint: Endpoint, request: Mapping[str, Any]) -> ParamSettings:
        """Every widget value and the pins of a recorded request, as restore puts them back.

        Unknown or invalid recorded fields are dropped (a recorded run is restored as far as
        it can be), absent ones take their default, and a field sent at its default can only
        have been pinned.
        """
        values = cls.keep_valid(endpoint, {k: v for k, v in request.items()
                                           if k in endpoint.names})[0].values
        pinned = tuple(p.name for p in endpoint.params
                       if p.name in values and not p.required and not p.always_send
                       and p.is_default(values[p.name]))
        return cls(endpoint, {**endpoint.defaults(), **values}, pinned)

    @classmethod
    def keep_valid(cls, endpoint: Endpoint, raw: Mapping[str, Any]
                   ) -> tuple[ParamSettings, list[FieldError]]:
        """The fields of ``raw`` that check out (normalised), and a problem for each one
        left out: saved settings are restored as far as they can be, never all or nothing."""
        problems = cls(endpoint, raw).check(require=False)
        bad = {e.field for e in problems}
        values = validate(endpoint, {k: v for k, v in raw.items() if k not in bad},
                          require=False)
        return cls(endpoint, values), problems

    def _pin_problems(self) -> list[FieldError]:
        pinned = self.pinned
        if isinstance(pinned, (list, tuple)) and all(
                isinstance(n, str) and n in self.endpoint.names for n in pinned):
            return []
        return [FieldError(PINNED, f"{PINNED} must list parameter names of "
                                   f"{self.endpoint.path}, got {short_repr(pinned)} (pinned "
                                   "parameters are sent even at their default)")]


def describe(problems: list[FieldError]) -> str:
    """Problems as one sentence for a page: the catalogue's messages, joined. Each starts
    with its field's name as the API spells it, so none is capitalised."""
    text = "; ".join(p.message for p in problems)
    return text + ("" if text.endswith(".") else ".")
