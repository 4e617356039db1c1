"""The local backend over real HTTP: wire shapes, sampling parameters, images, errors, faults.

Uses the shared ``fresh_backend`` fixture (tests/conftest.py): one server per session,
settings and faults reset around each test.
"""
from __future__ import annotations

import base64
import io
import json

import pytest
import requests
from hypothesis import given, settings, strategies as st
from PIL import Image

from lib.api.image_decode import ImageDecodeError, decode_image
from lib.local_backend.demo_models import text_models

DOCS = "local/ngram-docs"
CODE = "local/ngram-code"
IMAGE = "local/procedural-image"
NO_EOS = {"0": -100}  # bans end-of-text, so a run always reaches max_tokens


def complete(backend, **body):
    body.setdefault("model", DOCS)
    body.setdefault("prompt", "The function returns")
    return requests.post(f"{backend.base_url}/completions", json=body, timeout=30,
                         stream=bool(body.get("stream")))


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def stream_lines(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [line for line in response.iter_lines(decode_unicode=True) if line]


def stream_events(backend, **body) -> list:
    body["stream"] = True
    lines = stream_lines(complete(backend, **body))
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


def greedy(backend, **body) -> dict:
    return ok(complete(backend, temperature=0, **body))["choices"][0]


# ------------------------------------------------------------------------ wire shapes

def test_models_are_a_bare_array_of_honest_local_models(fresh_backend):
    models = ok(requests.get(f"{fresh_backend.base_url}/models", timeout=10))
    assert isinstance(models, list)
    types = {m["id"]: m["type"] for m in models}
    assert types == {DOCS: "language", CODE: "code", IMAGE: "image",
                     "local/keyword-guard": "moderation"}
    for m in models:
        assert m["object"] == "model" and isinstance(m["created"], int)
        assert m["display_name"].startswith("Local demo") and m["organization"] == "Local"
        assert set(m["pricing"]) == {"hourly", "input", "output", "base", "finetune"}
        assert isinstance(m["config"]["stop"], list) and m["context_length"] == 4096
        assert "llama" not in json.dumps(m).lower() and "flux" not in json.dumps(m).lower()


@pytest.mark.parametrize("framing,gzip", [("chunked", False), ("close", False),
                                          ("chunked", True), ("close", True)])
def test_completion_json_shape_in_every_framing(fresh_backend, framing, gzip):
    fresh_backend.configure(framing=framing, gzip=gzip)
    response = complete(fresh_backend, max_tokens=5, seed=7)
    body = ok(response)
    assert (response.headers.get("Content-Encoding") == "gzip") is gzip
    if framing == "close":
        assert response.headers["Connection"] == "close"
        assert "Content-Length" not in response.headers
    assert body["object"] == "text.completion" and body["model"] == DOCS
    assert body["id"] and isinstance(body["created"], int) and body["prompt"] == []
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["seed"] == 7 and choice["logprobs"] is None
    assert choice["finish_reason"] in ("stop", "eos", "length") and isinstance(choice["text"], str)
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] == 3 and usage["cached_tokens"] == 0


@pytest.mark.parametrize("framing,gzip", [("chunked", False), ("close", False),
                                          ("chunked", True), ("close", True)])
def test_stream_shape_in_every_framing(fresh_backend, framing, gzip):
    fresh_backend.configure(framing=framing, gzip=gzip)
    response = complete(fresh_backend, stream=True, n=2, max_tokens=6, seed=3, logit_bias=NO_EOS)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert (response.headers.get("Content-Encoding") == "gzip") is gzip
    if framing == "chunked":
        assert response.headers["Transfer-Encoding"] == "chunked"
    else:
        assert response.headers["Connection"] == "close"
    lines = stream_lines(response)
    assert lines[0] == ": keep-alive" and lines[-1] == "data: [DONE]"
    assert not any(line.startswith("event:") for line in lines)
    chunks = [json.loads(line[6:]) for line in lines[1:-1]]
    assert all(c["object"] == "completion.chunk" and len(c["choices"]) == 1 for c in chunks)
    assert [c["usage"] is not None for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1]["usage"]["completion_tokens"] == 12
    assert [c["choices"][0]["index"] for c in chunks[:4]] == [0, 1, 0, 1]
    for index in (0, 1):
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == index]
        assert len(mine) == 6
        assert [m["finish_reason"] for m in mine] == [None] * 5 + ["length"]
        assert [m["seed"] for m in mine] == [None] * 5 + [3 + index]
        for m in mine:
            assert m["text"] == m["delta"]["content"] and isinstance(m["logprobs"], float)
    token = chunks[0]["token"]
    assert token["id"] == chunks[0]["choices"][0]["delta"]["token_id"]
    assert token["text"] == chunks[0]["choices"][0]["text"] and token["special"] is False


def test_stream_text_equals_the_non_streamed_text(fresh_backend):
    same = dict(max_tokens=25, seed=11, temperature=0.9, n=2)
    whole = ok(complete(fresh_backend, **same))["choices"]
    chunks = stream_events(fresh_backend, **same)
    for index in (0, 1):
        text = "".join(c["choices"][0]["text"] for c in chunks
                       if c["choices"][0]["index"] == index)
        assert text == whole[index]["text"]


@pytest.mark.parametrize("path", ["/v1/v1/completions", "/completions", "/v1/completions/"])
def test_forgiving_paths(fresh_backend, path):
    response = requests.post(fresh_backend.root_url + path, timeout=10,
                             json={"model": DOCS, "prompt": "Hello", "max_tokens": 2})
    assert ok(response)["object"] == "text.completion"
    assert requests.get(fresh_backend.root_url + "/models", timeout=10).status_code == 200


def test_rate_limit_and_request_id_headers_on_success_and_error(fresh_backend):
    for response in (complete(fresh_backend, max_tokens=1), complete(fresh_backend, n=0)):
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                     "x-tokenlimit-limit", "x-tokenlimit-remaining", "x-request-id", "cf-ray"):
            assert response.headers.get(name), name


# ------------------------------------------------------------------------ errors

@pytest.mark.parametrize("field,value", [("temperature", 2.5), ("top_p", 1.5), ("n", 129),
                                         ("logprobs", 21), ("min_p", 1.1),
                                         ("presence_penalty", 2.1), ("max_tokens", 0),
                                         ("stop", "not a list")])
def test_out_of_range_is_a_400_naming_the_field(fresh_backend, field, value):
    response = complete(fresh_backend, **{field: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == field
    assert field in error["message"] and isinstance(error["code"], str)


def test_unknown_model_is_404_model_not_found(fresh_backend):
    response = complete(fresh_backend, model="meta-llama/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def test_prompt_plus_max_tokens_over_context_is_refused(fresh_backend):
    response = complete(fresh_backend, max_tokens=4095)
    assert response.status_code == 400  # as Together answers it, not its documented 403
    error = response.json()["error"]
    assert error["param"] == "max_tokens" and "4096" in error["message"]


def test_wrong_model_type_and_bad_json(fresh_backend):
    assert complete(fresh_backend, model=IMAGE).status_code == 400
    response = requests.post(f"{fresh_backend.base_url}/completions", data=b"{nope",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


def test_require_key_and_requests_seen_never_hold_the_key(fresh_backend):
    fresh_backend.configure(require_key="sekrit-key-123")
    url = f"{fresh_backend.base_url}/completions"
    body = {"model": DOCS, "prompt": "Hi", "max_tokens": 1}
    missing = requests.post(url, json=body, timeout=10)
    wrong = requests.post(url, json=body, headers={"Authorization": "Bearer nope"}, timeout=10)
    right = requests.post(url, json=body, headers={"Authorization": "Bearer sekrit-key-123"},
                          timeout=10)
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200
    seen = requests.get(f"{fresh_backend.root_url}/_local/requests", timeout=10,
                        headers=fresh_backend.control_headers())
    assert "sekrit" not in seen.text and "sekrit" not in repr(fresh_backend.requests_seen)
    assert [r["has_auth"] for r in seen.json()[-3:]] == [False, True, True]
    assert seen.json()[-1] == {"path": "/v1/completions", "method": "POST", "body": body,
                               "has_auth": True}
    config = requests.get(f"{fresh_backend.root_url}/_local/config", timeout=10,
                          headers=fresh_backend.control_headers()).json()
    assert config["require_key_set"] is True and "sekrit" not in json.dumps(config)


def test_config_endpoint_validates(fresh_backend):
    url = f"{fresh_backend.root_url}/_local/config"
    control = fresh_backend.control_headers()
    assert requests.post(url, json={"framing": "pigeon"}, headers=control,
                         timeout=10).status_code == 400
    assert requests.post(url, json={"colour": 1}, headers=control, timeout=10).status_code == 400
    changed = requests.post(url, json={"tokens_per_second": 5, "gzip": True}, headers=control,
                            timeout=10)
    assert changed.json()["tokens_per_second"] == 5 and fresh_backend.settings.gzip is True


# ------------------------------------------------------------------------ sampling

def test_temperature_zero_is_deterministic_and_equals_top_k_1(fresh_backend):
    first = greedy(fresh_backend, max_tokens=30, seed=1)
    again = greedy(fresh_backend, max_tokens=30, seed=999)
    top1 = ok(complete(fresh_backend, max_tokens=30, temperature=1.5, top_k=1, seed=5))
    assert first["text"] == again["text"] == top1["choices"][0]["text"]
    assert len(first["text"]) > 10


def test_top_p_and_min_p_at_their_tightest_are_greedy(fresh_backend):
    reference = greedy(fresh_backend, max_tokens=20)["text"]
    for extra in ({"top_p": 0.0}, {"min_p": 1.0}):
        body = ok(complete(fresh_backend, max_tokens=20, temperature=1.5, seed=2, **extra))
        assert body["choices"][0]["text"] == reference


def test_seed_reproduces_and_differs(fresh_backend):
    body = dict(max_tokens=30, temperature=1.2, logit_bias=NO_EOS)
    a = ok(complete(fresh_backend, seed=42, **body))["choices"][0]
    b = ok(complete(fresh_backend, seed=42, **body))["choices"][0]
    c = ok(complete(fresh_backend, seed=43, **body))["choices"][0]
    assert a["text"] == b["text"] and a["seed"] == 42
    assert a["text"] != c["text"]


def test_random_seed_is_reported_and_replays(fresh_backend):
    body = dict(max_tokens=20, temperature=1.0, logit_bias=NO_EOS)
    first = ok(complete(fresh_backend, **body))["choices"][0]
    assert isinstance(first["seed"], int) and 0 <= first["seed"] < 2**63
    replay = ok(complete(fresh_backend, seed=first["seed"], **body))["choices"][0]
    assert replay["text"] == first["text"]


def test_n_choices_use_seed_plus_index_and_differ(fresh_backend):
    choices = ok(complete(fresh_backend, n=3, seed=100, max_tokens=25, temperature=1.2,
                          logit_bias=NO_EOS))["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert [c["seed"] for c in choices] == [100, 101, 102]
    assert len({c["text"] for c in choices}) == 3
    single = ok(complete(fresh_backend, seed=101, max_tokens=25, temperature=1.2,
                         logit_bias=NO_EOS))["choices"][0]
    assert single["text"] == choices[1]["text"]


def test_logit_bias_bans_and_forces(fresh_backend):
    base = greedy(fresh_backend, max_tokens=4, logprobs=1)["logprobs"]
    first_id = base["token_ids"][0]
    banned = greedy(fresh_backend, max_tokens=4, logprobs=1,
                    logit_bias={str(first_id): -100})["logprobs"]
    assert banned["token_ids"][0] != first_id and first_id not in banned["token_ids"]
    forced_id = base["token_ids"][2]
    forced = ok(complete(fresh_backend, max_tokens=6, temperature=1.0, seed=9, logprobs=1,
                         logit_bias={str(forced_id): 100}))["choices"][0]["logprobs"]
    assert forced["token_ids"] == [forced_id] * 6


def test_stop_trims_in_json_and_stream(fresh_backend):
    full = greedy(fresh_backend, max_tokens=30, logit_bias=NO_EOS)["text"]
    stop = full[8:14]
    assert stop.strip() and full.index(stop) >= 8
    cut = greedy(fresh_backend, max_tokens=30, logit_bias=NO_EOS, stop=[stop, "zzzz"])
    assert cut["text"] == full[:full.index(stop)] and cut["finish_reason"] == "stop"
    chunks = stream_events(fresh_backend, max_tokens=30, temperature=0, logit_bias=NO_EOS,
                           stop=[stop])
    streamed = "".join(c["choices"][0]["text"] for c in chunks)
    assert streamed == cut["text"] and chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_max_tokens_gives_length(fresh_backend):
    body = ok(complete(fresh_backend, max_tokens=7, logit_bias=NO_EOS, logprobs=1))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and len(choice["logprobs"]["tokens"]) == 7
    assert body["usage"]["completion_tokens"] == 7
    assert "".join(choice["logprobs"]["tokens"]) == choice["text"]


def test_eos_ends_a_completion(fresh_backend):
    # Forcing end-of-text makes the very first draw the end: empty text, reason "eos".
    choice = ok(complete(fresh_backend, max_tokens=10, logit_bias={"0": 100}))["choices"][0]
    assert choice == {**choice, "text": "", "finish_reason": "eos"}


def test_logprobs_hold_at_most_k_alternatives_with_the_sampled_token(fresh_backend):
    for k in (1, 3):
        lp = ok(complete(fresh_backend, max_tokens=12, temperature=1.3, seed=4, logprobs=k,
                         logit_bias=NO_EOS))["choices"][0]["logprobs"]
        assert len(lp["tokens"]) == len(lp["token_logprobs"]) == len(lp["token_ids"]) == 12
        for token, logprob, top in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"]):
            assert isinstance(top, dict) and 1 <= len(top) <= k
            assert top[token] == pytest.approx(logprob) and logprob <= 0


def test_echo_returns_prompt_logprobs_with_a_null_first(fresh_backend):
    prompt = "Return the value ☃ of x"
    body = ok(complete(fresh_backend, prompt=prompt, echo=True, logprobs=2, max_tokens=2))
    (part,) = body["prompt"]
    assert part["text"] == prompt
    lp = part["logprobs"]
    assert "".join(lp["tokens"]) == prompt and lp["token_logprobs"][0] is None
    assert all(isinstance(x, float) for x in lp["token_logprobs"][1:] if x is not None)
    assert lp["top_logprobs"][0] is None and len(lp["top_logprobs"][1]) == 2
    assert body["usage"]["prompt_tokens"] == len(lp["tokens"])


def _repeats(choice) -> int:
    ids = choice["logprobs"]["token_ids"]
    return len(ids) - len(set(ids))


@pytest.mark.parametrize("penalty", [{"repetition_penalty": 2.0}, {"presence_penalty": 2.0},
                                     {"frequency_penalty": 2.0}])
def test_penalties_reduce_repeats(fresh_backend, penalty):
    body = dict(max_tokens=120, logprobs=1, logit_bias=NO_EOS)
    plain = greedy(fresh_backend, **body)
    penalised = greedy(fresh_backend, **body, **penalty)
    assert _repeats(penalised) < _repeats(plain)


def test_the_two_text_models_differ(fresh_backend):
    docs = greedy(fresh_backend, model=DOCS, max_tokens=20, logit_bias=NO_EOS)["text"]
    code = greedy(fresh_backend, model=CODE, max_tokens=20, logit_bias=NO_EOS)["text"]
    assert docs != code


def test_keyword_guard_ends_before_a_blocked_word(fresh_backend):
    kill = ok(complete(fresh_backend, prompt="a kill", echo=True, logprobs=1, max_tokens=1))
    kill_id = kill["prompt"][0]["logprobs"]["token_ids"][-1]
    body = dict(prompt="Send the signal to", max_tokens=5, temperature=0, seed=1,
                logit_bias={str(kill_id): 100})
    free = ok(complete(fresh_backend, **body))["choices"][0]
    guarded = ok(complete(fresh_backend, safety_model="local/keyword-guard", **body))
    choice = guarded["choices"][0]
    assert " kill" in free["text"]
    assert choice["text"] == "" and choice["finish_reason"] == "stop"
    assert choice["moderation"]["keyword"] == "kill"
    assert complete(fresh_backend, safety_model=DOCS).status_code == 400


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_tokenizer_round_trips_any_text(text):
    tokenizer = text_models().tokenizer
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert "".join(tokenizer.split(text)) == text


# ------------------------------------------------------------------------ images

def generate(backend, **body):
    body.setdefault("model", IMAGE)
    body.setdefault("prompt", "a lighthouse at dusk")
    return requests.post(f"{backend.base_url}/images/generations", json=body, timeout=30)


def b64_image(item) -> bytes:
    assert item["type"] == "b64_json"
    return base64.b64decode(item["b64_json"])


def test_images_base64_shape_size_format_and_seeds(fresh_backend):
    body = ok(generate(fresh_backend, response_format="base64", output_format="png", n=2,
                       seed=50, width=320, height=192, steps=8))
    assert body["object"] == "list" and body["model"] == IMAGE and body["id"]
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert [d["seed"] for d in body["data"]] == [50, 51]
    images = [b64_image(d) for d in body["data"]]
    for data, item in zip(images, body["data"]):
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size == (320, 192)
        assert item["timings"]["inference"] >= 0
    assert images[0] != images[1]
    again = ok(generate(fresh_backend, response_format="base64", output_format="png",
                        seed=51, width=320, height=192, steps=8))
    assert b64_image(again["data"][0]) == images[1]


def test_image_settings_change_the_picture(fresh_backend):
    def picture(**extra):
        body = {"response_format": "base64", "output_format": "png", "seed": 1,
                "width": 128, "height": 128, **extra}
        return b64_image(ok(generate(fresh_backend, **body))["data"][0])
    base = picture()
    variants = [picture(prompt="a submarine in green water"), picture(negative_prompt="dusk"),
                picture(steps=40), picture(guidance_scale=12), picture(seed=2)]
    assert all(v != base for v in variants)
    assert picture() == base


def test_images_url_mode_is_the_default_and_serves_jpeg(fresh_backend):
    body = ok(generate(fresh_backend, width=256, height=256, seed=3))
    item = body["data"][0]
    assert item["type"] == "url" and item["url"].startswith(fresh_backend.root_url + "/images/")
    fetched = requests.get(item["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(fetched.content)).format == "JPEG"


def test_image_url_blends_a_starting_image(fresh_backend):
    start = ok(generate(fresh_backend, prompt="plain", width=64, height=64, seed=5))
    common = dict(response_format="base64", output_format="png", width=128, height=128, seed=9)
    without = b64_image(ok(generate(fresh_backend, **common))["data"][0])
    blended = b64_image(ok(generate(fresh_backend, image_url=start["data"][0]["url"],
                                    **common))["data"][0])
    assert blended != without
    missing = generate(fresh_backend, image_url=f"{fresh_backend.root_url}/images/none.png")
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "image_url"


@pytest.mark.parametrize("field,value", [("n", 5), ("width", 100), ("height", 4096),
                                         ("output_format", "gif"), ("steps", 0)])
def test_image_validation(fresh_backend, field, value):
    response = generate(fresh_backend, **{field: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == field and field in error["message"]


def test_images_reject_text_models(fresh_backend):
    assert generate(fresh_backend, model=DOCS).status_code == 400


# ------------------------------------------------------------------------ faults

def test_status_fault_with_retry_after_is_consumed_per_use(fresh_backend):
    fresh_backend.add_fault({"kind": "status", "status": 429, "retry_after": 2, "times": 2,
                             "path": "completions"})
    assert ok(generate(fresh_backend, width=64, height=64, response_format="base64"))
    for _ in range(2):
        response = complete(fresh_backend, max_tokens=1)
        assert response.status_code == 429 and response.headers["Retry-After"] == "2"
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
    assert complete(fresh_backend, max_tokens=1).status_code == 200


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500, 503])
def test_status_faults_answer_with_error_bodies(fresh_backend, status):
    requests.post(f"{fresh_backend.root_url}/_local/faults", timeout=10,
                  headers=fresh_backend.control_headers(),
                  json={"faults": [{"kind": "status", "status": status, "message": "boom"}]})
    response = requests.get(f"{fresh_backend.base_url}/models", timeout=10)
    assert response.status_code == status and response.json()["error"]["message"] == "boom"


def test_slow_first_byte_delays_the_answer(fresh_backend):
    fresh_backend.add_fault({"kind": "slow_first_byte", "seconds": 1.5})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{fresh_backend.base_url}/completions", timeout=(5, 0.3),
                      json={"model": DOCS, "prompt": "Hi", "max_tokens": 1})


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_drop_after_cuts_the_stream_without_done(fresh_backend, framing):
    fresh_backend.configure(framing=framing)
    fresh_backend.add_fault({"kind": "drop_after", "tokens": 3})
    response = complete(fresh_backend, stream=True, max_tokens=20, logit_bias=NO_EOS)
    lines = []
    broken = False
    try:
        for line in response.iter_lines(decode_unicode=True):
            if line:
                lines.append(line)
    except requests.exceptions.ChunkedEncodingError:
        broken = True
    assert broken is (framing == "chunked")
    data = [line for line in lines if line.startswith("data:")]
    assert len(data) == 3 and "data: [DONE]" not in lines


def test_error_chunk_after_k(fresh_backend):
    fresh_backend.add_fault({"kind": "error_chunk", "after": 2, "message": "engine fell over"})
    lines = stream_lines(complete(fresh_backend, stream=True, max_tokens=20, logit_bias=NO_EOS))
    data = [line for line in lines if line.startswith("data:")]
    assert len(data) == 3 and json.loads(data[2][6:])["error"]["message"] == "engine fell over"


def test_malformed_chunk_then_the_stream_goes_on(fresh_backend):
    fresh_backend.add_fault({"kind": "malformed_chunk", "after": 1})
    lines = stream_lines(complete(fresh_backend, stream=True, max_tokens=4, logit_bias=NO_EOS))
    data = [line for line in lines if line.startswith("data:")]
    assert data[1] == "data: {not json" and data[-1] == "data: [DONE]" and len(data) == 6


def test_stream_faults_wait_for_a_stream(fresh_backend):
    fresh_backend.add_fault({"kind": "drop_after", "tokens": 0})
    assert complete(fresh_backend, max_tokens=2).status_code == 200
    lines = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for line in complete(fresh_backend, stream=True, max_tokens=3).iter_lines():
            lines.append(line)
    assert not [line for line in lines if line.startswith(b"data:")]


def test_image_file_faults(fresh_backend):
    url = ok(generate(fresh_backend, width=64, height=64))["data"][0]["url"]
    fresh_backend.add_fault({"kind": "status", "status": 404, "path": "image_file"})
    fresh_backend.add_fault({"kind": "not_image", "path": "image_file"})
    fresh_backend.add_fault({"kind": "bomb", "path": "image_file"})
    assert requests.get(url, timeout=10).status_code == 404
    html = requests.get(url, timeout=10)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    bomb = requests.get(url, timeout=10)
    assert len(bomb.content) < 200_000
    assert bomb.content.startswith(b"\x89PNG") and bomb.content[12:16] == b"IHDR"
    assert bomb.content[16:24] == (20_000).to_bytes(4, "big") * 2  # declared width, height
    with pytest.raises(ImageDecodeError):
        decode_image(bomb.content)
    assert requests.get(url, timeout=10).headers["Content-Type"] == "image/jpeg"


def test_fault_queue_control_endpoints(fresh_backend):
    url = f"{fresh_backend.root_url}/_local/faults"
    control = fresh_backend.control_headers()
    added = requests.post(url, json={"faults": [{"kind": "status", "status": 500}]},
                          headers=control, timeout=10)
    assert added.status_code == 200 and len(added.json()["pending"]) == 1
    assert requests.post(url, json={"faults": [{"kind": "meteor"}]}, headers=control,
                         timeout=10).status_code == 400
    assert requests.delete(url, headers=control, timeout=10).json() == {"pending": []}
    assert complete(fresh_backend, max_tokens=1).status_code == 200


def test_pregenerated_fast_stream_delivers_every_event(fresh_backend):
    fresh_backend.configure(pregenerate=True, tokens_per_second=0)
    chunks = stream_events(fresh_backend, n=4, max_tokens=300, logit_bias=NO_EOS, seed=1)
    assert len(chunks) == 1200
    assert chunks[-1]["usage"]["completion_tokens"] == 1200


def test_paced_stream_still_delivers_every_chunk(fresh_backend):
    fresh_backend.configure(tokens_per_second=200)
    chunks = stream_events(fresh_backend, n=2, max_tokens=4, logit_bias=NO_EOS, seed=8)
    assert [c["choices"][0]["index"] for c in chunks] == [0, 1] * 4


def test_shared_backend_is_one_running_server():
    from lib.local_backend import get_shared_backend
    shared = get_shared_backend()
    assert get_shared_backend() is shared and shared.start() is shared
    assert shared.base_url == f"{shared.root_url}/v1"
    assert requests.get(f"{shared.base_url}/models", timeout=10).status_code == 200
