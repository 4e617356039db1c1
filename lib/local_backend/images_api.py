"""``POST /v1/images/generations`` and the store behind URL-mode answers."""
from __future__ import annotations

import base64
import secrets
import threading
import time
import urllib.request
from collections import OrderedDict
from urllib.parse import urlparse

from lib import catalogue
from lib.api.image_decode import ImageDecodeError, decode_image

from .demo_models import BY_ID
from .procedural import ImageSpec, encode, render
from .wire import ApiError, model_not_found, new_id, validated

MAX_N = 4                          # Together's per-request cap
FETCH_TIMEOUT = 5.0                # seconds, for image_url
FETCH_MAX_BYTES = 10 * 1024 * 1024
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}


class ImageStore:
    """Recently generated images served at ``/images/<id>.<ext>``; bounded, oldest out first."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def put(self, data: bytes, ext: str) -> str:
        name = f"{secrets.token_urlsafe(16)}.{ext}"
        with self._lock:
            self._items[name] = (data, CONTENT_TYPES[ext])
            self._size += len(data)
            while self._size > self.max_bytes and len(self._items) > 1:
                _, (old, _) = self._items.popitem(last=False)
                self._size -= len(old)
        return name

    def get(self, name: str) -> tuple[bytes, str] | None:
        with self._lock:
            item = self._items.get(name)
            if item is not None:
                self._items.move_to_end(name)
            return item


def _fetch_start_image(url: str):
    """The starting image for image_url; any failure is the caller's 400."""
    if urlparse(url).scheme not in ("http", "https"):
        raise ApiError(400, "image_url must be an http(s) URL", param="image_url",
                       code="invalid_value")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "local-backend"})
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            data = response.read(FETCH_MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise ApiError(400, f"Could not fetch image_url: {exc}", param="image_url",
                       code="invalid_image_url") from None
    if len(data) > FETCH_MAX_BYTES:
        raise ApiError(400, f"image_url is larger than {FETCH_MAX_BYTES // 2**20} MB",
                       param="image_url", code="invalid_image_url")
    try:
        return decode_image(data)
    except ImageDecodeError as exc:
        raise ApiError(400, f"image_url is not a usable image: {exc}", param="image_url",
                       code="invalid_image_url") from None


def _check_n(n: object) -> None:
    if isinstance(n, int) and not isinstance(n, bool) and n > MAX_N:
        raise ApiError(400, f"n must be at most {MAX_N} images per request, got {n}; send "
                            "several requests for more", param="n", code="invalid_value")


def generate(body: object, store: ImageStore, root_url: str) -> dict:
    """Validate like Together, render each image, answer in base64 or URL form.

    LoRA and reference image URLs are never fetched: their effect is derived from the URL
    text (``procedural.lora_palette``, ``procedural.reference_tint``).
    """
    if isinstance(body, dict):  # before the catalogue, whose limit (16) is the client's
        _check_n(body.get("n"))
    values = validated(catalogue.IMAGES, body)
    _check_n(values.get("n"))
    card = BY_ID.get(values["model"])
    if card is None:
        raise model_not_found(values["model"])
    if card.type != "image":
        raise ApiError(400, f"Model {card.id} is a {card.type} model, not an image model",
                       param="model", code="model_not_available")
    start_image = _fetch_start_image(values["image_url"]) if values.get("image_url") else None
    fmt = values.get("output_format", "jpeg")
    seed = values.get("seed")
    data = []
    for index in range(values.get("n", 1)):
        began = time.perf_counter()
        image_seed = seed + index if seed is not None else secrets.randbits(63)
        spec = ImageSpec(values["prompt"], values.get("negative_prompt", ""), image_seed,
                         values.get("steps", 20), values.get("guidance_scale", 3.5),
                         values.get("width", 1024), values.get("height", 1024), start_image,
                         tuple((lora["path"], lora["scale"])
                               for lora in values.get("image_loras", ())),
                         tuple(values.get("reference_images", ())))
        encoded = encode(render(spec), fmt)
        item = {"index": index, "seed": image_seed,
                "timings": {"inference": time.perf_counter() - began}}
        if values.get("response_format", "url") == "base64":
            item.update(type="b64_json", b64_json=base64.b64encode(encoded).decode("ascii"))
        else:
            item.update(type="url", url=f"{root_url}/images/{store.put(encoded, fmt)}")
        data.append(item)
    return {"id": new_id(), "model": card.id, "object": "list", "data": data}
