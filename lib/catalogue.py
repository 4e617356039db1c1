"""The parameter catalogue: the one place that knows every request parameter.

Widgets (``lib.ui.widgets``), validation and request building (here), code
snippets (``lib.api.snippets``), presets and share links all read these entries,
so a range, default or help text is written exactly once.

A parameter the user leaves at its default is *not sent*: the API's own
default then applies, which is what a user of the raw API would get. Only
``required`` parameters, those marked ``always_send`` and those the user
pinned are sent at their default.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

# What a Param's ``kind`` means for values and widgets.
TEXT = "text"            # free text (prompt, negative prompt)
STRING = "string"        # one-line string (model id, image URL, safety model)
INT = "int"
FLOAT = "float"
BOOL = "bool"
CHOICE = "choice"        # one of ``choices``
STRING_LIST = "string_list"  # list of strings (stop sequences)
TOKEN_BIAS = "token_bias"    # {token id as string: bias number}
SEED = "seed"            # an integer, or None for "random"
URL_LIST = "url_list"    # list of http(s) URLs (reference images)
LORA_LIST = "lora_list"  # list of {"path": http(s) URL, "scale": number} (image LoRAs)
# Kinds whose value is a list of items, edited as rows that can be added and removed.
ROW_LISTS = (URL_LIST, LORA_LIST)

# How a number is drawn: a slider when its range is short enough, else a number input;
# NUMBER_INPUT always draws the input, for counts a slider makes hard to hit exactly.
NUMBER_INPUT = "number_input"

SEED_MAX = 2**64 - 1


@dataclass(frozen=True)
class Param:
    """One request parameter, as the API defines it and as the UI shows it."""

    name: str
    kind: str
    help: str
    label: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    multiple_of: int | None = None
    choices: tuple[Any, ...] = ()
    required: bool = False
    always_send: bool = False
    group: str = "Sampling"
    max_items: int | None = None
    max_length: int | None = None
    widget: str = ""
    placeholder: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def fresh_default(self) -> Any:
        if self.kind in (STRING_LIST, URL_LIST):
            return list(self.default)
        if self.kind == LORA_LIST:
            return [dict(item) for item in self.default]
        if self.kind == TOKEN_BIAS:
            return dict(self.default)
        return self.default

    def is_default(self, value: Any) -> bool:
        """True when ``value`` is what the widget shows untouched."""
        if self.kind in (STRING_LIST, TOKEN_BIAS, TEXT, STRING) + ROW_LISTS:
            return not value and not self.default or value == self.default
        if self.kind == FLOAT and value is not None and self.default is not None:
            return math.isclose(float(value), float(self.default), abs_tol=1e-12)
        return value == self.default


@dataclass(frozen=True)
class Endpoint:
    """A generation endpoint and the parameters its body may carry."""

    path: str
    params: tuple[Param, ...]

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        """Fresh widget values, safe to mutate."""
        return {p.name: p.fresh_default() for p in self.params}


@dataclass
class FieldError:
    """One invalid field, phrased for the person who typed it."""

    field: str
    message: str


class ValidationError(ValueError):
    """Raised before anything is sent; carries one FieldError per bad field."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))

    def for_field(self, name: str) -> str | None:
        return next((e.message for e in self.errors if e.field == name), None)


COMPLETIONS = Endpoint(
    path="/completions",
    params=(
        Param("model", STRING, "The model to query.", required=True, default="", group="Model",
              max_length=256),
        Param("prompt", TEXT, "The text the model continues.", required=True, default="",
              group="Prompt", max_length=2_000_000,
              placeholder="Write a prompt, e.g. The three rules of a good docstring are"),
        Param("max_tokens", INT, "Largest number of tokens to generate.", label="Max tokens",
              default=256, minimum=1, maximum=131_072, always_send=True, group="Output"),
        Param("stop", STRING_LIST, "Generation stops before any of these strings; the stop "
              "string itself is not returned.", label="Stop sequences", default=(),
              group="Output", max_items=16, max_length=256),
        Param("temperature", FLOAT, "Randomness: 0 always picks the most likely token, higher "
              "values flatten the distribution.", default=0.7, minimum=0.0, maximum=2.0,
              step=0.05),
        Param("top_p", FLOAT, "Nucleus sampling: keep the smallest set of tokens whose "
              "probabilities add up to this.", label="Top p", default=1.0, minimum=0.0,
              maximum=1.0, step=0.01),
        Param("top_k", INT, "Keep only the k most likely tokens at each step.", label="Top k",
              default=50, minimum=1, maximum=100_000),
        Param("min_p", FLOAT, "Drop tokens less likely than this fraction of the most likely "
              "token's probability.", label="Min p", default=0.0, minimum=0.0, maximum=1.0,
              step=0.01),
        Param("repetition_penalty", FLOAT, "Divides the score of tokens already present; above "
              "1 discourages repeats.", default=1.0, minimum=0.1, maximum=2.0, step=0.01),
        Param("presence_penalty", FLOAT, "Subtracted once from every token already present; "
              "positive values push towards new topics.", default=0.0, minimum=-2.0,
              maximum=2.0, step=0.05),
        Param("frequency_penalty", FLOAT, "Subtracted per occurrence of a token so far; "
              "positive values discourage repetition.", default=0.0, minimum=-2.0,
              maximum=2.0, step=0.05),
        Param("logit_bias", TOKEN_BIAS, "Added to the logit of a token id before sampling: "
              "-100 bans it, +100 forces it.", default={}, minimum=-100.0, maximum=100.0,
              max_items=300),
        Param("seed", SEED, "Same seed, same prompt, same parameters: same text. Empty for a "
              "random seed.", default=None, minimum=0, maximum=SEED_MAX),
        Param("n", INT, "Number of completions generated for the prompt in one request.",
              label="Completions (n)", default=1, minimum=1, maximum=128, group="Output",
              widget=NUMBER_INPUT),
        Param("logprobs", INT, "Return the log probability of each token and this many top "
              "alternatives (0 = none).", label="Logprobs", default=0, minimum=0, maximum=20,
              group="Output"),
        Param("echo", BOOL, "Return the prompt too; with logprobs, its tokens' logprobs.",
              default=False, group="Output"),
        Param("stream", BOOL, "Stream tokens as they are generated.", default=True,
              always_send=True, group="Output"),
        Param("safety_model", STRING, "Moderation model that checks the output; empty for "
              "none.", label="Safety model", default="", group="Output", max_length=256),
    ),
)
# The completion parameters a small panel shows (a Compare column, the Sweep's fixed ones).
COMPLETIONS_COMPACT = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty",
                       "presence_penalty", "frequency_penalty", "max_tokens", "seed")

IMAGE_SIZE_MIN, IMAGE_SIZE_MAX = 64, 2048

IMAGES = Endpoint(
    path="/images/generations",
    params=(
        Param("model", STRING, "The image model to use.", required=True, default="",
              group="Model", max_length=256),
        Param("prompt", TEXT, "What the image should show.", required=True, default="",
              group="Prompt", max_length=20_000,
              placeholder="Write a prompt, e.g. a lighthouse on a cliff at dusk, oil painting"),
        Param("negative_prompt", TEXT, "What the image should not show.",
              label="Negative prompt", default="", group="Prompt", max_length=20_000),
        Param("width", INT, "Image width in pixels (a multiple of 8).", default=1024,
              minimum=IMAGE_SIZE_MIN, maximum=IMAGE_SIZE_MAX, multiple_of=8, step=8,
              group="Size"),
        Param("height", INT, "Image height in pixels (a multiple of 8).", default=1024,
              minimum=IMAGE_SIZE_MIN, maximum=IMAGE_SIZE_MAX, multiple_of=8, step=8,
              group="Size"),
        Param("steps", INT, "Number of denoising steps: more is slower and more detailed.",
              default=20, minimum=1, maximum=50),
        Param("guidance_scale", FLOAT, "How closely the image follows the prompt: 8-10 "
              "faithful, 1-5 free.", label="Guidance scale", default=3.5, minimum=0.0,
              maximum=30.0, step=0.5),
        Param("seed", SEED, "Same seed, same settings: same image. Empty for a random seed.",
              default=None, minimum=0, maximum=SEED_MAX),
        Param("n", INT, "Number of images. Requests are split where a model caps n.",
              label="Images (n)", default=1, minimum=1, maximum=16, group="Output"),
        Param("image_url", STRING, "URL of a starting image, for models that take one.",
              label="Image URL", default="", group="Prompt", max_length=8192),
        Param("response_format", CHOICE, "Images as base64 in the response, or as URLs the "
              "playground fetches once.", label="Response format", default="base64",
              choices=("base64", "url"), always_send=True, group="Output"),
        Param("output_format", CHOICE, "Encoding of the returned images.",
              label="Output format", default="jpeg", choices=("jpeg", "png"), group="Output"),
        Param("disable_safety_checker", BOOL, "Turn off the provider's safety filter.",
              label="Disable safety checker", default=False, group="Output"),
        Param("image_loras", LORA_LIST, "LoRAs that steer the style: each is the LoRA's URL "
              "(e.g. https://huggingface.co/owner/repo) and a scale, its strength (most "
              "LoRAs recommend 1).", label="LoRAs", default=(), minimum=-2.0, maximum=2.0,
              step=0.05, group="Style", max_items=4, max_length=8192),
        Param("reference_images", URL_LIST, "URLs of images that guide the overall look "
              "and style of the result.", label="Reference images", default=(),
              group="Style", max_items=4, max_length=8192),
    ),
)

ENDPOINTS = {"completions": COMPLETIONS, "images": IMAGES}

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def validate(endpoint: Endpoint, values: Mapping[str, Any], *,
             require: bool = True) -> dict[str, Any]:
    """Check and normalise every known value; raise ValidationError naming each bad field.

    Unknown keys are rejected too, so a typo never silently disappears. ``require=False``
    skips the "required and not empty" rule: presets and share links carry settings that
    are checked the same way but may legitimately lack a model or a prompt.
    """
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for key in values:
        if key not in endpoint.names:
            errors.append(FieldError(key, f"{key} is not a parameter of {endpoint.path}; "
                                          f"allowed: {', '.join(endpoint.names)}"))
    for p in endpoint.params:
        if p.name not in values:
            continue
        try:
            clean[p.name] = check(p, values[p.name])
        except ValueError as exc:
            errors.append(FieldError(p.name, str(exc)))
    bad = {e.field for e in errors}
    for p in endpoint.params:
        if require and p.required and p.name not in bad and not str(clean.get(p.name) or "").strip():
            errors.append(FieldError(p.name, f"{p.name} is required and must not be empty"))
    if errors:
        raise ValidationError(errors)
    return clean


def build_request(endpoint: Endpoint, values: Mapping[str, Any],
                  pinned: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON body to send: validated, with untouched defaults left out."""
    clean = validate(endpoint, values)
    keep = set(pinned)
    body: dict[str, Any] = {}
    for p in endpoint.params:
        if p.name not in clean:
            continue
        value = clean[p.name]
        if p.required or p.always_send or p.name in keep or not p.is_default(value):
            if value is None or (p.kind in (STRING_LIST, TOKEN_BIAS) + ROW_LISTS
                                 and not value):
                continue  # "random seed", "no stop sequences": nothing to send
            body[p.name] = value
    return body


# ---------------------------------------------------------------- checks

def check(p: Param, value: Any) -> Any:
    """One value, normalised; ValueError with the field, the value and what is allowed."""
    return _CHECKS[p.kind](p, value)


def _range_text(p: Param) -> str:
    if p.minimum is not None and p.maximum is not None:
        return f"from {_num(p.minimum)} to {_num(p.maximum)}"
    if p.minimum is not None:
        return f"of at least {_num(p.minimum)}"
    return "(any value)"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _in_range(p: Param, x: float) -> bool:
    return ((p.minimum is None or x >= p.minimum)
            and (p.maximum is None or x <= p.maximum))


def _check_int(p: Param, value: Any) -> int:
    what = f"{p.name} must be an integer {_range_text(p)}"
    if p.multiple_of:
        what += f" and a multiple of {p.multiple_of}"
    if isinstance(value, bool):
        raise ValueError(f"{what}, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # At most 30 digits: longer is out of every range, and int() refuses > 4300 digits.
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,30}\s*", value):
        value = int(value)
    if not isinstance(value, int) or not _in_range(p, value):
        raise ValueError(f"{what}, got {_show(value)}")
    if p.multiple_of and value % p.multiple_of:
        raise ValueError(f"{what}, got {value}")
    return value


def _check_float(p: Param, value: Any) -> float:
    what = f"{p.name} must be a number {_range_text(p)}"
    if isinstance(value, bool):
        raise ValueError(f"{what}, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{what}, got {_show(value)}") from None
    if (not isinstance(value, (int, float)) or not _in_range(p, value)
            or isinstance(value, float) and not math.isfinite(value)):  # huge ints: no float()
        raise ValueError(f"{what}, got {_show(value)}")
    return float(value)


def _check_bool(p: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{p.name} must be true or false, got {_show(value)}")
    return value


def _check_choice(p: Param, value: Any) -> Any:
    if value not in p.choices:
        raise ValueError(f"{p.name} must be one of {', '.join(map(str, p.choices))}, "
                         f"got {_show(value)}")
    return value


def _check_string(p: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{p.name} must be text, got {_show(value)}")
    if "\x00" in value and p.kind == STRING:
        raise ValueError(f"{p.name} must not contain a NUL character")
    if p.max_length is not None and len(value) > p.max_length:
        raise ValueError(f"{p.name} must be at most {p.max_length:,} characters, "
                         f"got {len(value):,}")
    if p.name == "image_url" and value and not _URL.match(value):
        raise ValueError(f"image_url must be an http(s) URL, got {_show(value)}")
    return value.strip() if p.kind == STRING else value


def _check_url(p: Param, what: str, value: Any) -> str:
    """One URL item of a list, by the rules of image_url; ``what`` names it in messages."""
    if not isinstance(value, str) or not _URL.match(value.strip()):
        raise ValueError(f"{what} must be an http(s) URL, got {_show(value)}")
    if p.max_length is not None and len(value) > p.max_length:
        raise ValueError(f"{what} must be at most {p.max_length:,} characters, "
                         f"got {len(value):,}")
    return value.strip()


def _list_items(p: Param, value: Any, item_words: str) -> list[Any]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{p.name} must be a list of {item_words}, got {_show(value)}")
    if p.max_items is not None and len(value) > p.max_items:
        raise ValueError(f"{p.name} may hold at most {p.max_items} items, got {len(value)}")
    return list(value)


def _check_url_list(p: Param, value: Any) -> list[str]:
    items = _list_items(p, value, "http(s) URLs")
    return [_check_url(p, f"{p.name} item {i}", item) for i, item in enumerate(items, 1)]


_LORA_KEYS = ("path", "scale")


def _check_lora_list(p: Param, value: Any) -> list[dict[str, Any]]:
    """Each LoRA as {"path": URL, "scale": number within the catalogue's range}."""
    out = []
    for i, item in enumerate(_list_items(p, value, "{path, scale} objects"), 1):
        what = f"{p.name} item {i}"
        if not isinstance(item, Mapping) or set(item) != set(_LORA_KEYS):
            raise ValueError(f"{what} must be an object with exactly path and scale, "
                             f"got {_show(item)}")
        path = _check_url(p, f"{what}: path", item["path"])
        try:
            scale = _check_float(p, item["scale"])
        except ValueError:
            raise ValueError(f"{what}: scale must be a number {_range_text(p)}, "
                             f"got {_show(item['scale'])}") from None
        out.append({"path": path, "scale": scale})
    return out


def _check_string_list(p: Param, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{p.name} must be a list of strings, got {_show(value)}")
    items = list(value)
    if p.max_items is not None and len(items) > p.max_items:
        raise ValueError(f"{p.name} may hold at most {p.max_items} strings, got {len(items)}")
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{p.name} must be a list of non-empty strings, got {_show(item)}")
        if p.max_length is not None and len(item) > p.max_length:
            raise ValueError(f"each of {p.name} must be at most {p.max_length} characters")
    return items


def _check_token_bias(p: Param, value: Any) -> dict[str, float]:
    if isinstance(value, (list, tuple)) and not value:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{p.name} must map token ids to numbers, got {_show(value)}")
    if p.max_items is not None and len(value) > p.max_items:
        raise ValueError(f"{p.name} may hold at most {p.max_items} entries, got {len(value)}")
    out: dict[str, float] = {}
    for key, bias in value.items():
        token = str(key).strip()
        if not re.fullmatch(r"\d{1,20}", token):
            raise ValueError(f"{p.name} keys must be token ids (whole numbers of 0 or more), "
                             f"got {_show(key)}")
        try:
            number = _check_float(p, bias)
        except ValueError:
            raise ValueError(f"{p.name} for token {token} must be a number {_range_text(p)}, "
                             f"got {_show(bias)}") from None
        out[str(int(token))] = number
    return out


def token_bias_text(bias: Mapping[str, Any]) -> str:
    """A logit-bias map as its editor shows it: one ``token id: bias`` per line."""
    return "\n".join(f"{token}: {float(value):g}" for token, value in bias.items())


def parse_token_bias_text(p: Param, text: str) -> dict[str, float]:
    """The editor's lines back into a checked map; a bad line is named, with what is
    allowed. Blank lines are skipped; a later line for the same token wins."""
    out: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        token, sep, bias = line.partition(":")
        try:
            if not sep:
                raise ValueError(f"write one 'token id: bias' per line (e.g. 50256: -100), "
                                 f"got {_show(line)}")
            out.update(_check_token_bias(p, {token: bias.strip()}))
        except ValueError as exc:
            raise ValueError(f"{p.name}, line {number}: {exc}") from None
    return _check_token_bias(p, out)


def _check_seed(p: Param, value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _check_int(p, value)


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4,300 digits refuses to print
        return "a number too long to show"
    return text if len(text) <= 60 else text[:57] + "..."


_CHECKS = {
    TEXT: _check_string, STRING: _check_string, INT: _check_int, FLOAT: _check_float,
    BOOL: _check_bool, CHOICE: _check_choice, STRING_LIST: _check_string_list,
    TOKEN_BIAS: _check_token_bias, SEED: _check_seed, URL_LIST: _check_url_list,
    LORA_LIST: _check_lora_list,
}
