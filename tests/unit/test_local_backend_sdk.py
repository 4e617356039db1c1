"""The official SDKs parse the local backend's answers without complaint.

``together==1.6.0`` is the strict one (pydantic models with enums); ``openai`` is the
client most OpenAI-compatible tooling uses. Both talk to the real server over loopback.
"""
from __future__ import annotations

import base64
import io
import os

import pytest
import requests
from PIL import Image

os.environ.setdefault("TOGETHER_NO_BANNER", "1")

together = pytest.importorskip("together")
openai = pytest.importorskip("openai")

DOCS = "local/ngram-docs"
IMAGE = "local/procedural-image"


@pytest.fixture
def tg(fresh_backend):
    return together.Together(api_key="x", base_url=fresh_backend.base_url, max_retries=0)


@pytest.fixture
def oa(fresh_backend):
    return openai.OpenAI(api_key="x", base_url=fresh_backend.base_url, max_retries=0)


def test_together_completion_with_n_logprobs_and_echo(tg):
    prompt = "The function returns"
    response = tg.completions.create(model=DOCS, prompt=prompt, max_tokens=8, n=2, logprobs=2,
                                     echo=True, seed=4242, temperature=0.9)
    assert response.object == "text.completion"
    assert [c.index for c in response.choices] == [0, 1]
    assert response.choices[0].seed == 4242 and response.choices[1].seed == 4243
    assert response.choices[0].finish_reason in ("length", "eos", "stop")
    assert response.choices[0].logprobs.tokens and response.usage.total_tokens > 0
    assert response.prompt[0].text == prompt
    assert response.prompt[0].logprobs.token_logprobs[0] is None


def test_together_stream_with_two_choices(tg):
    texts = {0: "", 1: ""}
    finishes = {}
    usage = None
    for chunk in tg.completions.create(model=DOCS, prompt="Return the", max_tokens=6, n=2,
                                       stream=True, seed=1, logit_bias={"0": -100}):
        assert not getattr(chunk, "error", None)
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
        usage = chunk.usage or usage
    assert all(texts.values()) and texts[0] != texts[1]
    assert finishes == {0: "length", 1: "length"} and usage.completion_tokens == 12


def test_together_images_base64_and_url(tg, fresh_backend):
    b64 = tg.images.generate(model=IMAGE, prompt="a quiet harbour", width=256, height=256,
                             seed=3, response_format="base64", steps=6)
    image = Image.open(io.BytesIO(base64.b64decode(b64.data[0].b64_json)))
    assert image.size == (256, 256) and b64.data[0].index == 0
    url = tg.images.generate(model=IMAGE, prompt="a quiet harbour", width=256, height=256,
                             seed=3, n=2, response_format="url")
    assert len(url.data) == 2
    fetched = requests.get(url.data[1].url, timeout=10)
    assert fetched.status_code == 200 and Image.open(io.BytesIO(fetched.content)).size == (256, 256)


def test_together_models_list(tg):
    models = tg.models.list()
    assert {m.id for m in models} >= {DOCS, IMAGE}
    assert {m.type for m in models} == {"language", "code", "image", "moderation"}


def test_together_maps_errors(tg, fresh_backend):
    fresh_backend.configure(require_key="the-right-key")
    with pytest.raises(together.error.AuthenticationError):
        tg.completions.create(model=DOCS, prompt="Hi", max_tokens=2)
    fresh_backend.configure(require_key=None)
    with pytest.raises(together.error.InvalidRequestError):
        tg.completions.create(model=DOCS, prompt="Hi", max_tokens=2, temperature=5)
    fresh_backend.add_fault({"kind": "status", "status": 429, "retry_after": 0})
    with pytest.raises(together.error.RateLimitError):
        tg.completions.create(model=DOCS, prompt="Hi", max_tokens=2)


def test_openai_completion_and_stream(oa):
    response = oa.completions.create(model=DOCS, prompt="The function returns", max_tokens=8,
                                     n=2, seed=5, temperature=0.8)
    assert [c.index for c in response.choices] == [0, 1]
    assert response.usage.prompt_tokens == 3
    pieces = {0: [], 1: []}
    for chunk in oa.completions.create(model=DOCS, prompt="The function returns",
                                       max_tokens=8, n=2, seed=5, temperature=0.8,
                                       stream=True):
        for choice in chunk.choices:
            pieces[choice.index].append(choice.text)
    assert ["".join(pieces[i]) for i in (0, 1)] == [c.text for c in response.choices]


def test_openai_maps_errors(oa, fresh_backend):
    with pytest.raises(openai.NotFoundError):
        oa.completions.create(model="no/such-model", prompt="Hi", max_tokens=2)
    with pytest.raises(openai.BadRequestError):
        oa.completions.create(model=DOCS, prompt="Hi", max_tokens=2, top_p=3)
