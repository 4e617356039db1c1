"""lib.api.client over real HTTP: completions, errors, retries, timeouts, models, tokenize,
key hygiene.

Most tests talk to the local backend; a canned loopback server stands in for shapes that
only other servers produce (vLLM/OpenAI JSON, a proxy's HTML page, a key echoed back).
"""
from __future__ import annotations

import email.utils
import io
import json
import time

import pytest
import requests
import urllib3

from lib.api.client import USER_AGENT, Client, retry_delay
from lib.api.errors import (APIStatusError, APITimeoutError, AuthenticationError, BadRequestError,
                            NotFoundError, PermissionDeniedError, RateLimitError, ServerError,
                            TogetherError)
from tests.support.canned_server import json_route

TEXT = "local/ngram-docs"
KEY = "tgp_v1_RECOGNISABLE-secret-key-0123456789"


def client(backend, **kwargs) -> Client:
    return Client(api_key=kwargs.pop("api_key", ""), base_url=backend.base_url, **kwargs)


def completion_bodies(backend) -> list[dict]:
    return [r["body"] for r in backend.requests_seen if r["path"] == "/v1/completions"]



# ------------------------------------------------------------------ completions

def test_complete_returns_choices_usage_logprobs_and_response_headers(local):
    result = client(local).complete(
        {"model": TEXT, "prompt": "The file", "max_tokens": 6, "logprobs": 1, "seed": 3})
    (choice,) = result.choices
    assert choice.text and choice.finish_reason == "length" and choice.seed == 3
    assert "".join(t.token for t in choice.tokens) == choice.text
    assert all(isinstance(t.token_id, int) and t.logprob <= 0 for t in choice.tokens)
    assert result.usage.completion_tokens == len(choice.tokens) == 6
    assert result.model == TEXT and result.id
    assert result.request_id and result.rate_limits.limit == "100"
    assert completion_bodies(local)[-1]["stream"] is False


def test_the_same_seed_gives_the_same_text(local):
    c = client(local)
    params = {"model": TEXT, "prompt": "import", "max_tokens": 12, "seed": 11,
              "temperature": 1.0}
    assert c.complete(params).choices[0].text == c.complete(params).choices[0].text


def test_echo_returns_the_prompt_and_its_tokens(local):
    result = client(local).complete(
        {"model": TEXT, "prompt": "The file is", "max_tokens": 2, "echo": True, "logprobs": 1})
    assert result.prompt_text == "The file is"
    assert "".join(t.token for t in result.prompt_tokens) == "The file is"


def test_tokenize_gives_the_prompt_tokens_with_ids(local):
    tokens = client(local).tokenize(TEXT, "Hello world, tokens")
    assert "".join(t.token for t in tokens) == "Hello world, tokens"
    assert all(isinstance(t.token_id, int) for t in tokens)
    body = completion_bodies(local)[-1]
    assert (body["echo"], body["logprobs"], body["max_tokens"]) == (True, 1, 1)


def test_tokenize_on_an_openai_style_server_uses_text_offsets(canned):
    answer = {"id": "c", "object": "text_completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "text": "Hi there!", "finish_reason": "length",
                           "logprobs": {"tokens": ["Hi", " there", "!"],
                                        "token_logprobs": [None, -1.0, -2.0],
                                        "top_logprobs": [None, {" there": -1.0}, {"!": -2.0}],
                                        "text_offset": [0, 2, 8]}}]}
    server = canned({"/v1/completions": json_route(200, json.dumps(answer).encode())})
    tokens = Client(api_key="", base_url=server.url + "/v1").tokenize("m", "Hi there")
    assert [t.token for t in tokens] == ["Hi", " there"]
    assert [t.logprob for t in tokens] == [None, -1.0]


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("status, error_class", [
    (400, BadRequestError), (401, AuthenticationError), (402, APIStatusError),
    (403, PermissionDeniedError), (404, NotFoundError), (422, BadRequestError),
    (429, RateLimitError), (500, ServerError), (503, ServerError)])
def test_error_statuses_map_to_classes_with_message_and_request_id(local, status,
                                                                   error_class):
    local.add_fault({"kind": "status", "status": status})
    with pytest.raises(error_class) as info:
        client(local, max_retries=0).complete({"model": TEXT, "prompt": "x"})
    error = info.value
    assert type(error) is error_class
    assert (error.status, error.message) == (status, f"Injected fault: HTTP {status}")
    assert error.request_id and error.request_id == error.headers["x-request-id"]
    assert f"HTTP {status}" in error.describe() and error.request_id in error.describe()


def test_an_unknown_model_is_a_404_with_the_servers_words(local):
    with pytest.raises(NotFoundError) as info:
        client(local).complete({"model": "no/such-model", "prompt": "x"})
    assert "no/such-model" in info.value.message
    assert (info.value.code, info.value.type) == ("model_not_found", "invalid_request_error")


def test_a_bad_parameter_is_a_400_naming_the_field(local):
    with pytest.raises(BadRequestError) as info:
        client(local).complete({"model": TEXT, "prompt": "x", "n": 0})
    assert info.value.param == "n" and "n must be" in info.value.message


def test_a_wrong_key_is_an_authentication_error_and_no_key_sends_no_header(local):
    local.configure(require_key=KEY)
    with pytest.raises(AuthenticationError) as info:
        Client(api_key="tgp_v1_wrong-key-000000000", base_url=local.base_url,
               max_retries=0).complete({"model": TEXT, "prompt": "x"})
    assert info.value.code == "invalid_api_key"
    with pytest.raises(AuthenticationError):
        client(local, max_retries=0).complete({"model": TEXT, "prompt": "x"})
    assert local.requests_seen[-1]["has_auth"] is False
    assert Client(api_key=KEY, base_url=local.base_url).complete(
        {"model": TEXT, "prompt": "x", "max_tokens": 1}).choices


def test_key_and_base_url_fall_back_to_the_environment(local, monkeypatch):
    local.configure(require_key=KEY)
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", local.base_url)
    assert Client().complete({"model": TEXT, "prompt": "x", "max_tokens": 1}).choices


def test_an_html_error_page_gives_a_short_clean_message(canned):
    page = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
            b"Gateway</h1></center><hr><center>cloudflare</center></body></html>")
    server = canned({"/v1/completions": json_route(502, page, "text/html")})
    with pytest.raises(ServerError) as info:
        Client(api_key="", base_url=server.url + "/v1", max_retries=0).complete(
            {"model": "m", "prompt": "x"})
    # Not the API's answer: described, never quoted (not even its title).
    assert info.value.message == ("The server's answer is not the API's (text/html, "
                                  f"{len(page)} bytes)")


def test_flat_and_detail_error_bodies_of_other_servers(canned):
    flat = {"object": "error", "message": "max_tokens is too large", "type": "BadRequestError",
            "param": None, "code": 400}
    server = canned({"/v1/completions": json_route(400, json.dumps(flat).encode()),
                     "/v1/models": json_route(404, b'{"detail": "Not Found"}')})
    c = Client(api_key="", base_url=server.url + "/v1", max_retries=0)
    with pytest.raises(BadRequestError) as info:
        c.complete({"model": "m", "prompt": "x"})
    assert (info.value.message, info.value.type, info.value.code) == (
        "max_tokens is too large", "BadRequestError", "400")
    with pytest.raises(NotFoundError, match="^Not Found$"):
        c.list_models()


@pytest.mark.parametrize("path, call, error, expected", [
    ("/v1/completions", lambda c: c.complete({"model": "m", "prompt": "x"}),
     {"message": "Input validation error: tokens + max_new_tokens must be <= 8193",
      "type": "invalid_request_error", "param": "max_tokens"}, BadRequestError),
    ("/v1/completions", lambda c: c.complete({"model": "m", "prompt": "x"}),
     "model not found", APIStatusError),
    ("/v1/images/generations", lambda c: c.generate_images({"model": "m", "prompt": "x"}),
     {"message": "The model is overloaded", "type": "server_error"}, ServerError),
    ("/v1/images/generations", lambda c: c.generate_images({"model": "m", "prompt": "x"}),
     {"message": "no such model", "code": 404}, NotFoundError),
    ("/v1/models", lambda c: c.list_models(),
     {"message": f"Invalid API key {KEY}", "type": "authentication_error"},
     AuthenticationError),
], ids=["complete-400", "complete-string", "images-5xx", "images-code-404", "models-401"])
def test_an_error_in_a_200_body_is_raised_with_the_servers_words(canned, path, call, error,
                                                                 expected):
    body = {"error": error, "choices": [], "data": []}
    server = canned({path: json_route(200, json.dumps(body).encode(),
                                      "application/json; charset=utf-8")})
    with pytest.raises(expected) as info:
        call(Client(api_key=KEY, base_url=server.url + "/v1", max_retries=0))
    assert type(info.value) is expected and len(server.requests) == 1
    words = error if isinstance(error, str) else error["message"].replace(KEY, "[redacted]")
    assert info.value.message == words and KEY not in info.value.describe()
    assert info.value.param == (error.get("param") if isinstance(error, dict) else None)


def test_a_non_stream_answer_to_a_stream_request_is_refused(canned):
    server = canned({"/v1/completions": json_route(200, b'{"choices": []}')})
    with pytest.raises(TogetherError, match="Expected an event stream.*application/json"):
        Client(api_key="", base_url=server.url + "/v1").stream({"model": "m", "prompt": "x"})


# ------------------------------------------------------------------ retries and timeouts

def test_429_and_503_are_retried_honouring_retry_after(local):
    local.add_fault({"kind": "status", "status": 429, "retry_after": 0.1})
    local.add_fault({"kind": "status", "status": 503, "retry_after": 0.2})
    retries = []
    c = client(local, hooks={"retry": [lambda *args: retries.append(args)]})
    assert c.complete({"model": TEXT, "prompt": "x", "max_tokens": 2}).choices
    assert [(attempt, delay, type(error)) for attempt, delay, error in retries] == [
        (1, 0.1, RateLimitError), (2, 0.2, ServerError)]
    assert len(completion_bodies(local)) == 3


def test_retries_stop_after_max_retries(local):
    local.add_fault({"kind": "status", "status": 500, "retry_after": 0.05, "times": 5})
    attempts = []
    c = client(local, max_retries=2,
               hooks={"retry": [lambda attempt, delay, error: attempts.append(attempt)]})
    with pytest.raises(ServerError):
        c.complete({"model": TEXT, "prompt": "x"})
    assert attempts == [1, 2] and len(completion_bodies(local)) == 3


def test_client_errors_are_not_retried(local):
    local.add_fault({"kind": "status", "status": 400})
    c = client(local, hooks={"retry": [pytest.fail]})
    with pytest.raises(BadRequestError):
        c.complete({"model": TEXT, "prompt": "x"})
    assert len(completion_bodies(local)) == 1


def test_a_slow_first_byte_is_a_timeout(local):
    local.add_fault({"kind": "slow_first_byte", "seconds": 2})
    with pytest.raises(APITimeoutError, match=r"No answer within 0\.3 s"):
        client(local, timeout=(5, 0.3), max_retries=0).complete(
            {"model": TEXT, "prompt": "x"})


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
    ({"retry-after": "3"}, 3.0),
    ({"retry-after": "1.5"}, 1.5)])
def test_retry_delay_honours_the_servers_hint(headers, expected):
    assert retry_delay(headers, attempt=0) == expected


def test_retry_delay_reads_an_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_delay({"retry-after": when}, attempt=0) <= 30


@pytest.mark.parametrize("headers", [{}, {"retry-after": "0"}, {"retry-after": "61"},
                                     {"retry-after": "soon"}, {"retry-after-ms": "-5"}])
@pytest.mark.parametrize("attempt, cap", [(0, 0.5), (1, 1.0), (3, 4.0), (6, 8.0), (9, 8.0)])
def test_without_a_usable_hint_backoff_doubles_with_jitter(headers, attempt, cap):
    assert 0.75 * cap <= retry_delay(headers, attempt) <= cap


# ------------------------------------------------------------------ models

def test_list_models_reads_the_bare_array_and_filters_by_type(local):
    c = client(local)
    models = {m.id: m for m in c.list_models()}
    assert models["local/ngram-docs"].type == "language"
    assert models["local/procedural-image"].type == "image"
    assert models["local/ngram-docs"].input_price == 0.0
    assert [m.id for m in c.list_models("image")] == ["local/procedural-image"]
    assert {m.id for m in c.list_models(("language", "code", "chat"))} == {
        "local/ngram-docs", "local/ngram-code"}


def test_list_models_reads_the_openai_list_shape(canned):
    listing = {"object": "list", "data": [
        {"id": "llama-3", "object": "model", "owned_by": "vllm", "max_model_len": 8192},
        {"id": "priced", "type": "chat", "pricing": {"input": 0.2, "output": 0.6}},
        {"id": "pic", "type": "image"}]}
    server = canned({"/v1/models": json_route(200, json.dumps(listing).encode())})
    models = Client(api_key="", base_url=server.url + "/v1").list_models(("language", "chat"))
    assert [(m.id, m.type, m.organization, m.context_length) for m in models] == [
        ("llama-3", "", "vllm", 8192), ("priced", "chat", "", None)]
    assert models[1].cost(1_000_000, 1_000_000) == pytest.approx(0.8)


# ------------------------------------------------------------------ headers and the key

def test_requests_carry_user_agent_accept_and_content_type(canned):
    answer = {"choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]}
    server = canned({"/v1/completions": json_route(200, json.dumps(answer).encode())})
    Client(api_key=KEY, base_url=server.url + "/v1").complete({"model": "m", "prompt": "x"})
    headers = server.requests[-1].headers
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == f"Bearer {KEY}"
    # Only the encodings the body reader undoes, whatever compression packages are installed.
    assert headers["Accept-Encoding"] == "gzip, deflate"


def test_the_key_never_shows_in_errors_reprs_or_hooks(canned):
    def echo_key(request):  # a careless server that quotes the header back
        body = {"error": {"message": f"Bad header: {request.headers['Authorization']}",
                          "type": "invalid_request_error", "code": KEY}}
        return 401, {"Content-Type": "application/json"}, json.dumps(body).encode()
    server = canned({"/v1/completions": echo_key, "/v1/models": json_route(503, KEY.encode())})
    seen = []
    hooks = {name: [lambda *args: seen.append(args)] for name in ("request", "response",
                                                                  "retry")}
    c = Client(api_key=KEY, base_url=server.url + "/v1", hooks=hooks, max_retries=1)
    with pytest.raises(AuthenticationError) as auth:
        c.complete({"model": "m", "prompt": "x"})
    with pytest.raises(ServerError) as overloaded:
        c.list_models()
    assert auth.value.message == "Bad header: Bearer [redacted]"
    texts = [repr(c), str(auth.value), auth.value.describe(), repr(vars(auth.value)),
             str(overloaded.value), repr(vars(overloaded.value)), repr(seen)]
    assert len(seen) == 7  # 2 requests + 2 responses, then 1 retry + 1 request + 1 response
    assert not [text for text in texts if KEY in text]
    assert "api_key='[redacted]'" in repr(c)


def test_a_key_that_cannot_be_sent_is_refused_without_echoing_it():
    with pytest.raises(ValueError) as info:
        Client(api_key=KEY + "\nX-Evil: 1", base_url="http://127.0.0.1:9/v1")
    assert KEY not in str(info.value)


def test_unknown_hook_names_are_refused():
    with pytest.raises(ValueError, match="unknown hook names"):
        Client(api_key="", base_url="http://127.0.0.1:9/v1", hooks={"retries": []})


# ------------------------------------------------------------------ transport seam

class CannedSession:
    """A stand-in for requests.Session: answers every request with one canned response
    and records what was asked, so the client's logic runs without a socket."""

    def __init__(self, status: int, body: dict):
        self.status, self.body, self.calls, self.closed = status, body, [], False

    def request(self, method, url, **kwargs) -> requests.Response:
        self.calls.append((method, url, kwargs))
        response = requests.Response()
        response.status_code = self.status
        response.headers["content-type"] = "application/json"
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(json.dumps(self.body).encode()),
                                            status=self.status, preload_content=False)
        return response

    def get(self, url, **kwargs) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def close(self) -> None:
        self.closed = True


def test_a_session_passed_in_carries_the_requests_without_a_socket():
    answer = {"id": "c1", "model": "m", "choices": [{"index": 0, "text": "hi",
                                                     "finish_reason": "stop"}]}
    session = CannedSession(200, answer)
    with Client(api_key=KEY, base_url="http://api.invalid/v1", session=session) as c:
        completion = c.complete({"model": "m", "prompt": "p"})
    assert completion.choices[0].text == "hi" and session.closed
    [(method, url, kwargs)] = session.calls
    assert (method, url) == ("POST", "http://api.invalid/v1/completions")
    assert kwargs["headers"]["Authorization"] == f"Bearer {KEY}"
    assert kwargs["json"] == {"model": "m", "prompt": "p", "stream": False}


def test_a_session_passed_in_gets_the_same_error_mapping():
    session = CannedSession(404, {"error": {"message": "no such model"}})
    with pytest.raises(NotFoundError, match="no such model"):
        Client(api_key="", base_url="http://api.invalid/v1", session=session).complete(
            {"model": "m", "prompt": "p"})
