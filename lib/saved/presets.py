"""Named settings for a page: a few built in, the user's own in a JSON file in the data folder.

Presets are per endpoint ("completions" or "images"): the Compare and Sweep pages use the
completions presets. A preset holds only the values it cares about; ``apply_to`` lays
them over the page's current values, so picking "Creative" keeps the model. The built-in
completions presets carry a sample prompt that reads sensibly on a hosted model and on the
local docstring model alike: they are Presenter mode's scenes, and a scene must run as is.

The store's file has the same format as an export, and every way in (the file, an import)
goes through one parser that checks each value with ``lib.catalogue`` and bounds sizes,
so a hand-edited or hostile file gives a ``PresetError`` naming the preset and field.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from lib.api.quoting import clip, short_repr
from lib.catalogue import ENDPOINTS, ValidationError
from lib.param_settings import ParamSettings
from lib.saved.datadir import data_dir, write_private

FILE_NAME = "presets.json"
FORMAT = "together-playground-presets"
VERSION = 1
MAX_BYTES = 1_000_000
MAX_PRESETS = 500
MAX_NAME = 80
MAX_DESCRIPTION = 300
_PRESET_KEYS = {"name", "page", "values", "pinned", "description"}


class PresetError(ValueError):
    """A preset cannot be saved, found or read; the message names it and says why."""


class PresetExists(PresetError):
    """Saving would replace a preset of the same name; ask before passing ``replace=True``."""


@dataclass
class Preset:
    name: str
    page: str
    values: dict[str, Any]
    pinned: list[str] = field(default_factory=list)
    description: str = ""
    builtin: bool = False

    def apply_to(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The page's values with this preset's laid over them (what it leaves out is kept)."""
        return {**values, **self.values}

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "page": self.page, "values": self.values,
                "pinned": self.pinned, "description": self.description}


def _builtin(name: str, page: str, description: str, values: dict[str, Any],
             pinned: Iterable[str] = ()) -> Preset:
    return Preset(name, page, values, list(pinned), description, builtin=True)


# Neutral values are pinned so they are sent: left out, the provider's defaults would apply.
_NEUTRAL = ("top_p", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty")

BUILTINS: tuple[Preset, ...] = (
    _builtin("Deterministic", "completions",
             "Temperature 0 always takes the most likely token; the fixed seed makes any "
             "remaining randomness repeatable, so the same prompt gives the same text.",
             {"prompt": "The function returns", "max_tokens": 80, "temperature": 0.0,
              "seed": 42}),
    _builtin("Creative", "completions",
             "Temperature 1.1 flattens the odds, top p 0.95 still cuts the unlikely tail, and "
             "the presence and frequency penalties push towards new words and topics.",
             {"prompt": "Python's standard library includes a module for", "max_tokens": 80,
              "temperature": 1.1, "top_p": 0.95, "presence_penalty": 0.5,
              "frequency_penalty": 0.3}),
    _builtin("Strict factual", "completions",
             "Temperature 0.2 and top p 0.5 keep to the most likely tokens; repetition "
             "penalty 1.1 stops it from looping on the same phrase.",
             {"prompt": "If the file does not exist,", "max_tokens": 80, "temperature": 0.2,
              "top_p": 0.5, "repetition_penalty": 1.1}),
    _builtin("Sampler off (neutral)", "completions",
             "Samples straight from the model's distribution: temperature 1, no top p, min p "
             "or penalties, and top k at its maximum. Useful to see the raw model.",
             {"prompt": "The timeout argument", "max_tokens": 80,
              "temperature": 1.0, "top_p": 1.0, "top_k": 100_000, "min_p": 0.0,
              "repetition_penalty": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0},
             pinned=_NEUTRAL),
    _builtin("Fast draft", "images",
             "4 steps at 512×512: a rough image in a fraction of the time, to try prompts.",
             {"steps": 4, "width": 512, "height": 512}),
    _builtin("Detailed", "images",
             "40 steps refine fine detail; guidance 7 follows the prompt closely.",
             {"steps": 40, "guidance_scale": 7.0}),
    _builtin("Portrait 3:4", "images", "768×1024, taller than wide, for faces and figures.",
             {"width": 768, "height": 1024}),
    _builtin("Landscape 16:9", "images", "1024×576, the shape of a widescreen frame.",
             {"width": 1024, "height": 576}),
)


def default_path() -> Path:
    return data_dir() / FILE_NAME


class PresetStore:
    """The user's presets in ``path`` (default: ``presets.json`` in the data folder)."""

    # Sessions are threads of one process; read-modify-write of the file must not interleave.
    _lock = threading.Lock()

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()

    def list(self, page: str | None = None) -> list[Preset]:
        """Built-ins first (in their fixed order), then the user's, by name."""
        own = sorted(self._read(), key=lambda p: (p.page, p.name.casefold()))
        return [p for p in (*BUILTINS, *own) if page is None or p.page == page]

    def load(self, page: str, name: str) -> Preset:
        for preset in self.list(page):
            if preset.name == name:
                return preset
        raise PresetError(f"There is no {page} preset named {name!r}.")

    def save(self, preset: Preset, *, replace: bool = False) -> Preset:
        """Check and store a user preset; returns it as stored (values normalised)."""
        clean = parse_preset(preset.to_json(), where="Preset")
        with self._lock:
            own = self._read()
            _refuse_builtin(clean.page, clean.name)
            if not replace and _find(own, clean.page, clean.name) is not None:
                raise PresetExists(f"A {clean.page} preset named {clean.name!r} already exists.")
            self._write([p for p in own if _key(p) != _key(clean)] + [clean])
        return clean

    def rename(self, page: str, old: str, new: str) -> Preset:
        new = _check_name(new, "Preset")
        with self._lock:
            own = self._read()
            _refuse_builtin(page, old)
            preset = _find(own, page, old)
            if preset is None:
                raise PresetError(f"There is no {page} preset named {old!r}.")
            _refuse_builtin(page, new)
            if new != old and _find(own, page, new) is not None:
                raise PresetExists(f"A {page} preset named {new!r} already exists.")
            preset.name = new
            self._write(own)
        return preset

    def delete(self, page: str, name: str) -> None:
        with self._lock:
            own = self._read()
            _refuse_builtin(page, name)
            if _find(own, page, name) is None:
                raise PresetError(f"There is no {page} preset named {name!r}.")
            self._write([p for p in own if _key(p) != (page, name)])

    def export_json(self, page: str | None = None, names: Iterable[str] | None = None) -> str:
        """The user's presets (all, one page's, or the named ones) as an importable document."""
        wanted = set(names) if names is not None else None
        chosen = [p for p in self._read() if (page is None or p.page == page)
                  and (wanted is None or p.name in wanted)]
        return _document(chosen)

    def import_json(self, text: str | bytes, *, replace: bool = False) -> list[Preset]:
        """Add the presets of an exported document: all of them, or none if any is bad."""
        incoming = parse_document(text, source="The imported file")
        with self._lock:
            own = self._read()
            for p in incoming:
                _refuse_builtin(p.page, p.name)
            clashes = [p.name for p in incoming if _find(own, p.page, p.name) is not None]
            if clashes and not replace:
                raise PresetExists("Presets with these names already exist: "
                                   + ", ".join(map(repr, clashes)))
            keys = {_key(p) for p in incoming}
            self._write([p for p in own if _key(p) not in keys] + incoming)
        return incoming

    def _read(self) -> list[Preset]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise PresetError(f"Cannot read {self.path}: {exc.strerror}.") from None
        return parse_document(data, source=str(self.path))

    def _write(self, presets: list[Preset]) -> None:
        """Write a whole new file and swap it in, so a crash never leaves half a file."""
        try:
            write_private(self.path, _document(presets).encode("utf-8"), ".presets-")
        except OSError as exc:
            raise PresetError(f"Cannot save presets to {self.path}: {exc.strerror}.") from None


# ---------------------------------------------------------------- parsing

def parse_document(text: str | bytes, *, source: str) -> list[Preset]:
    """The presets of an export document, each checked; PresetError for anything else."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_BYTES:
        raise PresetError(f"{source} is {size:,} bytes; presets files are at most "
                          f"{MAX_BYTES:,} bytes.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise PresetError(f"{source} is not valid JSON.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PresetError(f"{source} is not a playground presets file (no "
                          f'"format": "{FORMAT}").')
    if data.get("version") != VERSION:
        raise PresetError(f"{source} has presets version {short_repr(data.get('version'))}; "
                          f"this playground reads version {VERSION}.")
    items = data.get("presets")
    if not isinstance(items, list):
        raise PresetError(f'{source} must hold a "presets" list.')
    if len(items) > MAX_PRESETS:
        raise PresetError(f"{source} holds {len(items)} presets; at most {MAX_PRESETS}.")
    presets = [parse_preset(item, where=f"{source}, preset {i + 1}")
               for i, item in enumerate(items)]
    seen: set[tuple[str, str]] = set()
    for p in presets:
        if _key(p) in seen:
            raise PresetError(f"{source} holds two {p.page} presets named {p.name!r}.")
        seen.add(_key(p))
    return presets


def parse_preset(item: Any, *, where: str) -> Preset:
    """One preset from JSON, with values normalised by the catalogue."""
    if not isinstance(item, dict):
        raise PresetError(f"{where} must be an object, got {short_repr(item)}.")
    name = _check_name(item.get("name"), where)
    label = f"Preset {name!r}"
    unknown = sorted(set(item) - _PRESET_KEYS)
    if unknown:
        raise PresetError(f"{label}: unknown field {short_repr(unknown[0])}; "
                          f"allowed: {', '.join(sorted(_PRESET_KEYS))}.")
    page = item.get("page")
    if not isinstance(page, str) or page not in ENDPOINTS:
        raise PresetError(f"{label}: page must be one of {', '.join(ENDPOINTS)}, "
                          f"got {short_repr(page)}.")
    endpoint = ENDPOINTS[page]
    values = item.get("values")
    if not isinstance(values, dict):
        raise PresetError(f"{label}: values must be an object, got {short_repr(values)}.")
    try:
        settings = ParamSettings(endpoint, values, item.get("pinned", [])).parse()
    except ValidationError as exc:
        raise PresetError(f"{label}: " + "; ".join(
            f"field {short_repr(e.field)}: {clip(e.message)}" for e in exc.errors)) from None
    description = item.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise PresetError(f"{label}: description must be text of at most {MAX_DESCRIPTION} "
                          "characters.")
    return Preset(name, page, dict(settings.values), list(settings.pinned), description)


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PresetError(f"{where}: name must be non-empty text, got {short_repr(name)}.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise PresetError(f"{where}: name must be at most {MAX_NAME} characters.")
    return name


def _document(presets: list[Preset]) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION,
                       "presets": [p.to_json() for p in presets]},
                      ensure_ascii=False, indent=2)


def _key(p: Preset) -> tuple[str, str]:
    return (p.page, p.name)


def _find(presets: list[Preset], page: str, name: str) -> Preset | None:
    return next((p for p in presets if _key(p) == (page, name)), None)


def _refuse_builtin(page: str, name: str) -> None:
    if _find(list(BUILTINS), page, name) is not None:
        raise PresetError(f"{name!r} is a built-in {page} preset and cannot be changed; "
                          "save your settings under another name.")
