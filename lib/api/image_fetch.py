"""Image items of an images answer: base64 decoded or the URL fetched, then checked as an
image. A URL is fetched over https only (or http to this machine), capped in size, with
redirects followed by hand so every hop passes the same check, and without the API key.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any, Callable
from urllib.parse import urljoin, urlparse

import requests

from lib.api.errors import APIConnectionError, TogetherError, error_class_for
from lib.api.image_decode import ImageDecodeError, decode_image
from lib.api.reading import READ_SIZE
from lib.api.results import GeneratedImage
from lib.api.untrusted import integer as _integer
from lib.api.wire import request_id_of

IMAGE_MAX_BYTES = 32 * 1024 * 1024
IMAGE_MAX_REDIRECTS = 5



def image_item(item: Any, index: int, request_seed: int | None,
               fetch: Callable[[str], bytes]) -> GeneratedImage:
    """One item of an images answer as a checked image; ``fetch`` downloads a URL item."""
    if not isinstance(item, dict):
        raise TogetherError("the response item is not an object")
    url = item.get("url")
    if item.get("b64_json"):
        try:
            data = base64.b64decode(item["b64_json"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise TogetherError("its base64 data is corrupt") from None
    elif url:
        data = fetch(str(url))
    else:
        raise TogetherError("the response item has neither b64_json nor url")
    try:
        image = decode_image(data)
    except ImageDecodeError as exc:
        raise TogetherError(f"{_short_url(str(url))}: {exc}" if url else str(exc)) from None
    seed = _integer(item.get("seed"))
    if seed is None and request_seed is not None:
        seed = request_seed + index
    return GeneratedImage(index=index, image=image, data=data,
                          format=(image.format or "").lower(), seed=seed, url=url,
                          raw={k: v for k, v in item.items() if k != "b64_json"})


def fetch_image(session: requests.Session, url: str, timeout: Any,
                transport_error: Callable[[Exception], APIConnectionError]) -> bytes:
    """Download one image URL: https only (or http to this machine), capped, no key sent.

    Redirects are followed by hand so every hop passes the same URL check;
    ``transport_error`` words a failed connection as the client does for API calls.
    """
    for _ in range(IMAGE_MAX_REDIRECTS + 1):
        label = _short_url(url)
        _check_image_url(url, label)
        try:
            response = session.get(url, headers={"Accept": "image/*"}, timeout=timeout,
                                   stream=True, allow_redirects=False)
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    continue
                return _read_image_body(response, label)
        except requests.RequestException as exc:
            error = transport_error(exc)
            raise type(error)(f"{label}: {error.message}") from None
    raise TogetherError(f"{_short_url(url)}: more than {IMAGE_MAX_REDIRECTS} redirects")


def _check_image_url(url: str, label: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and _is_loopback(parsed.hostname or ""):
        return
    raise TogetherError(f"{label}: only https URLs (or http to this machine) are fetched")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_image_body(response: requests.Response, label: str) -> bytes:
    if not response.ok:
        raise error_class_for(response.status_code)(
            f"{label}: HTTP {response.status_code} {response.reason or ''}".strip(),
            status=response.status_code, key_sent=False,  # image URLs never get the key
            request_id=request_id_of(response.headers))
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise TogetherError(f"{label}: the URL returned {content_type or 'no content type'}, "
                            "not an image")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > IMAGE_MAX_BYTES:
        raise TogetherError(f"{label}: {int(declared):,} bytes is over the "
                            f"{IMAGE_MAX_BYTES:,}-byte limit")
    parts, size = [], 0
    for part in response.iter_content(READ_SIZE):
        size += len(part)
        if size > IMAGE_MAX_BYTES:
            raise TogetherError(f"{label}: more than the {IMAGE_MAX_BYTES:,}-byte limit")
        parts.append(part)
    return b"".join(parts)


def _short_url(url: str) -> str:
    parsed = urlparse(url)
    text = f"{parsed.netloc}{parsed.path}"
    return text if len(text) <= 60 else text[:59] + "…"
