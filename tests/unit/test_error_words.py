"""The words a failed request gets: by status, and by the cause a server names.

Over real HTTP: the local backend for its own answers, canned loopback servers for the
exact error bodies of llama-cpp-python's server, vLLM and Ollama (issue 13 item 2).
"""
from __future__ import annotations

import json

import pytest
import requests

from lib.api.client import Client
from lib.api.errors import BadRequestError, NotFoundError, PermissionDeniedError
from tests.support.canned_server import json_route

TEXT = "local/ngram-docs"
KEY = "tgp_v1_RECOGNISABLE-secret-key-0123456789"
CONTEXT_WORDS = ("prompt + Max tokens is longer than the model's context ({n} tokens): "
                 "lower Max tokens or shorten the prompt")
KEY_BLAME = "key may lack access"


def _refusal(base_url: str, api_key: str = "", **body):
    """The error a completion request to ``base_url`` is refused with."""
    client = Client(api_key=api_key, base_url=base_url, max_retries=0)
    with pytest.raises(Exception) as info:
        client.complete({"model": TEXT, "prompt": "Hello", **body})
    return info.value


# ------------------------------------------------------------------ the local backend

def test_the_local_backend_answers_prompt_plus_max_tokens_over_context_with_a_400(
        fresh_backend):
    response = requests.post(f"{fresh_backend.base_url}/completions", timeout=10,
                             json={"model": TEXT, "prompt": "Hello", "max_tokens": 100000})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (
        "context_length_exceeded", "max_tokens", "invalid_request_error")
    assert error["message"].startswith(
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: ")
    assert error["message"].endswith("`inputs` tokens and 100000 `max_new_tokens`")


def test_max_tokens_100000_on_local_says_the_context_not_permission(fresh_backend):
    error = _refusal(fresh_backend.base_url, max_tokens=100000)
    assert isinstance(error, BadRequestError) and error.status == 400
    text = error.describe()
    assert CONTEXT_WORDS.format(n=4096) in text
    assert "Permission denied" not in text and "key" not in text.lower()


def test_a_403_blames_a_key_only_when_one_was_sent(fresh_backend, canned):
    fresh_backend.add_fault({"kind": "status", "status": 403, "message": "host not allowed"})
    no_key = _refusal(fresh_backend.base_url)
    assert isinstance(no_key, PermissionDeniedError)
    assert "host not allowed" in no_key.describe()
    assert KEY_BLAME not in no_key.describe() and "No key was sent" in no_key.describe()
    server = canned({"/v1/completions": json_route(403, json.dumps({"error": {
        "message": "no access to this model", "type": "invalid_request_error"}}).encode())})
    with_key = _refusal(server.url + "/v1", api_key=KEY)
    assert KEY_BLAME in with_key.describe() and KEY not in with_key.describe()


def test_only_a_bound_on_tokens_plus_max_tokens_is_read_as_the_context(canned):
    def refusal(message: str):
        server = canned({"/v1/completions": json_route(400, json.dumps({"error": {
            "message": message, "type": "invalid_request_error"}}).encode())})
        return _refusal(server.url + "/v1").describe()
    assert CONTEXT_WORDS.format(n=8193) in refusal(
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8193. Given: "
        "12 `inputs` tokens and 9000 `max_new_tokens`")
    bound = refusal("temperature: must be <= 2")
    assert bound.startswith("Invalid request (HTTP 400): temperature: must be <= 2")
    assert "context" not in bound


# ------------------------------------------------------------------ other servers' bodies

def _flat_vllm(message: str, kind: str, code: int) -> dict:
    """vLLM before 0.9: the error fields at the top level, ``object: "error"``."""
    return {"object": "error", "message": message, "type": kind, "param": None, "code": code}


def _nested(message: str, kind: str, code, param=None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


# (case, status, body, title, words the hint must hold)
SHAPES = [
    ("together context", 400, _nested(
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4097. Given: "
        "4135 `inputs` tokens and 1000 `max_new_tokens`", "invalid_request_error", None),
     "Prompt too long for the model", CONTEXT_WORDS.format(n=4097)),
    ("llama-cpp-python context", 400, _nested(
        "This model's maximum context length is 2048 tokens, however you requested 2100 tokens "
        "(100 in your prompt; 2000 for the completion). Please reduce your prompt; or "
        "completion length.", "invalid_request_error", "context_length_exceeded", "messages"),
     "Prompt too long for the model", CONTEXT_WORDS.format(n=2048)),
    ("vllm flat context", 400, _flat_vllm(
        "This model's maximum context length is 6048 tokens. However, you requested 6616 "
        "tokens (568 in the messages, 6048 in the completion). Please reduce the length of "
        "the messages or completion.", "BadRequestError", 400),
     "Prompt too long for the model", CONTEXT_WORDS.format(n=6048)),
    ("vllm nested context", 400, _nested(
        "This model's maximum context length is 2048 tokens. However, your request has 8 "
        "input tokens plus 2045 'max_tokens'. Please reduce one or the other. "
        "(parameter=input_tokens, max_tokens, value=(8, 2045))", "BadRequestError", 400,
        "input_tokens, max_tokens"),
     "Prompt too long for the model", CONTEXT_WORDS.format(n=2048)),
    ("llama.cpp server context", 400, _nested(
        "the request exceeds the available context size, try increasing it",
        "exceed_context_size_error", 400),
     "Prompt too long for the model",
     "prompt + Max tokens is longer than the model's context: lower Max tokens"),
    ("vllm unknown model", 404, _flat_vllm(
        "The model `x/nope` does not exist.", "NotFoundError", 404),
     NotFoundError.title, NotFoundError.hint),
    ("ollama unknown model", 404, _nested(
        'model "x/nope" not found, try pulling it first', "api_error", None),
     NotFoundError.title, NotFoundError.hint),
    ("llama-cpp-python unknown model", 400, _nested(
        "The model `/models/nope.gguf` does not exist", "invalid_request_error",
        "model_not_found"),
     NotFoundError.title, NotFoundError.hint),
    ("vllm unsupported parameter", 400, _nested(
        "suffix is not currently supported", "BadRequestError", 400),
     "Parameter not supported", "set it back to its default"),
    ("openai unsupported parameter", 400, _nested(
        "Unsupported parameter: 'logit_bias' is not supported with this model.",
        "invalid_request_error", "unsupported_parameter", "logit_bias"),
     "Parameter not supported", 'does not support "logit_bias"'),
    ("llama-cpp-python bad value", 422, {"detail": [{
        "type": "less_than_equal", "loc": ["body", "top_p"],
        "msg": "Input should be less than or equal to 1", "input": 1.5, "ctx": {"le": 1.0}}]},
     "Invalid request", "top_p: Input should be less than or equal to 1"),
]


@pytest.mark.parametrize("status, body, title, words",
                         [case[1:] for case in SHAPES], ids=[case[0] for case in SHAPES])
def test_other_servers_errors_get_the_same_plain_words(canned, status, body, title, words):
    server = canned({"/v1/completions": json_route(status, json.dumps(body).encode())})
    error = _refusal(server.url + "/v1")
    assert error.status == status
    assert error.describe().startswith(f"{title} (HTTP {status}): ")
    assert words in error.describe()
    assert KEY_BLAME not in error.describe()


# ------------------------------------------------------------------ before sending

def test_the_pre_send_warning_needs_a_known_context_and_a_request_over_it():
    from lib.api.results import ModelInfo
    from lib.text.context_check import context_warning, prompt_tokens_estimate
    listed = ModelInfo(id=TEXT, type="language", context_length=4096)
    assert prompt_tokens_estimate("x" * 9) == 3
    assert context_warning(listed, {"max_tokens": 4000}, 96) is None          # exactly fits
    assert context_warning(listed, {"max_tokens": 4000}, 97) == (
        "Likely to be refused: prompt (about 97 tokens) + Max tokens (4,000) is longer than "
        "the model's context (4096 tokens): lower Max tokens or shorten the prompt.")
    assert context_warning(listed, {}, 4000) is not None    # counted with the default 256
    assert context_warning(ModelInfo(id=TEXT, type="language"), {"max_tokens": 10**6}, 1) is None
    assert context_warning(None, {"max_tokens": 10**6}, 1) is None
