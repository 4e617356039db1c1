"""Shapes that go on the wire: error bodies, ids, and the small helpers every endpoint shares."""
from __future__ import annotations

import json
import secrets
from typing import Any, Mapping

from lib import catalogue


class ApiError(Exception):
    """An error answer in Together's shape: ``{"error": {message, type, param, code}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict:
        return {"id": new_id(), "error": {"message": self.message, "type": self.type,
                                          "param": self.param, "code": self.code}}


def new_id() -> str:
    """Shaped like Together's ids (``oBUswCe-62bZhn-98019f663cac0f68``)."""
    return f"{secrets.token_urlsafe(5)}-{secrets.token_urlsafe(4)}-{secrets.token_hex(8)}"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def validated(endpoint: catalogue.Endpoint, body: Any) -> dict[str, Any]:
    """The body's known parameters, checked with the playground's own catalogue.

    Unknown fields are ignored, as a real API does with fields it does not use; an invalid
    value is a 400 naming the field.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    known = {k: v for k, v in body.items() if k in endpoint.names}
    try:
        return catalogue.validate(endpoint, known)
    except catalogue.ValidationError as exc:
        raise ApiError(400, str(exc), param=exc.errors[0].field, code="invalid_value") from None


def model_not_found(model: str) -> ApiError:
    return ApiError(404, f"Unable to access model {model}. Please visit GET /v1/models to see "
                         "the list of supported models.", param="model", code="model_not_found")
