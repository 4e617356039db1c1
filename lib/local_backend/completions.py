"""``POST /v1/completions``: request parsing, whole responses and stream chunks."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Iterator

from lib import catalogue

from .generation import ChoiceGenerator, Emission, prompt_logprobs
from .demo_models import BY_ID, CONTEXT_LENGTH, TEXT_TYPES, text_models
from .sampling import SamplingParams
from .tokenizer import Tokenizer
from .wire import ApiError, model_not_found, new_id, validated

# Used when a request leaves max_tokens out (the Stainless SDKs send none); OpenAI's default.
DEFAULT_MAX_TOKENS = 16
DONE = b"data: [DONE]\n\n"


@dataclass
class CompletionJob:
    id: str
    created: int
    model: str
    prompt: str
    prompt_ids: list[int]
    prompt_pieces: list[str]
    choices: list[ChoiceGenerator]
    echo: bool
    logprobs: int
    stream: bool
    tokenizer: Tokenizer

    def usage(self) -> dict:
        completion = sum(len(c.kept_tokens()) for c in self.choices)
        prompt = len(self.prompt_ids)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion, "cached_tokens": 0}


def parse(body: object) -> CompletionJob:
    """Validate like Together (400 naming the field, 404 unknown model, 400 over context)."""
    values = validated(catalogue.COMPLETIONS, body)
    card = BY_ID.get(values["model"])
    if card is None:
        raise model_not_found(values["model"])
    if card.type not in TEXT_TYPES:
        raise ApiError(400, f"Model {card.id} is a {card.type} model and cannot serve "
                            "completions; pick a language or code model.", param="model",
                       code="model_not_available")
    guarded = False
    if values.get("safety_model"):
        safety = BY_ID.get(values["safety_model"])
        if safety is None or safety.type != "moderation":
            raise ApiError(400, f"safety_model must be a moderation model, got "
                                f"{values['safety_model']!r}", param="safety_model",
                           code="invalid_value")
        guarded = True
    models = text_models()
    tokenizer, model = models.tokenizer, models.for_card(card)
    prompt = values["prompt"]
    prompt_ids, pieces = tokenizer.encode_pieces(prompt)
    max_tokens = values.get("max_tokens", DEFAULT_MAX_TOKENS)
    if len(prompt_ids) + max_tokens > CONTEXT_LENGTH:
        raise context_overflow(len(prompt_ids), max_tokens)
    params = SamplingParams(
        temperature=values.get("temperature", 0.7), top_p=values.get("top_p", 1.0),
        top_k=values.get("top_k"), min_p=values.get("min_p", 0.0),
        repetition_penalty=values.get("repetition_penalty", 1.0),
        presence_penalty=values.get("presence_penalty", 0.0),
        frequency_penalty=values.get("frequency_penalty", 0.0),
        logit_bias={int(k): v for k, v in values.get("logit_bias", {}).items()},
        logprobs=values.get("logprobs", 0))
    seed = values.get("seed")
    choices = [
        ChoiceGenerator(tokenizer, model, prompt_ids, params, max_tokens,
                        seed + i if seed is not None else secrets.randbits(63),
                        values.get("stop", []), guarded)
        for i in range(values.get("n", 1))]
    return CompletionJob(new_id(), int(time.time()), card.id, prompt, prompt_ids, pieces,
                         choices, values.get("echo", False), params.logprobs,
                         values.get("stream", False), tokenizer)


def context_overflow(prompt_tokens: int, max_tokens: int) -> ApiError:
    """Prompt + max_tokens over the context, answered as Together really answers it.

    Together's error table lists 403 for this, but its servers send a 400 in TGI's words
    (together-api.md §7.1 in the shared docs); a 403 reads as a key problem, on a backend
    that takes no key.
    """
    return ApiError(400, f"Input validation error: `inputs` tokens + `max_new_tokens` must be "
                         f"<= {CONTEXT_LENGTH}. Given: {prompt_tokens} `inputs` tokens and "
                         f"{max_tokens} `max_new_tokens`", param="max_tokens",
                    code="context_length_exceeded")


def response_body(job: CompletionJob) -> dict:
    """The whole non-streamed response; runs every choice to its end."""
    choices = []
    for index, choice in enumerate(job.choices):
        choice.run()
        item = {"index": index, "text": choice.text, "finish_reason": choice.finish_reason,
                "seed": choice.seed, "logprobs": None}
        if job.logprobs:
            kept = choice.kept_tokens()
            item["logprobs"] = {"tokens": [t.text for t in kept],
                                "token_logprobs": [t.logprob for t in kept],
                                "token_ids": [t.id for t in kept],
                                "top_logprobs": [t.top for t in kept]}
        if choice.moderation:
            item["moderation"] = choice.moderation
        choices.append(item)
    prompt = []
    if job.echo:
        part = {"text": job.prompt}
        if job.logprobs:
            first = job.choices[0]
            part["logprobs"] = prompt_logprobs(job.tokenizer, first.model, job.prompt_ids,
                                               job.prompt_pieces, job.logprobs)
        prompt.append(part)
    return {"id": job.id, "object": "text.completion", "created": job.created,
            "model": job.model, "choices": choices, "usage": job.usage(), "prompt": prompt}


def stream_steps(job: CompletionJob) -> Iterator[list[bytes]]:
    """SSE events grouped by token step: one chunk per still-running choice, by index.

    Held-back text (a possible stop sequence) yields no chunk for that step; ``usage`` rides
    on the very last chunk; ``data: [DONE]`` comes as a step of its own.
    """
    prefix = (f'data: {{"id":"{job.id}","object":"completion.chunk","created":{job.created},'
              f'"model":"{job.model}","choices":[{{"index":').encode()
    running = list(range(len(job.choices)))
    while running:
        events = []
        for index in list(running):
            choice = job.choices[index]
            emission = choice.step()
            if choice.finished:
                running.remove(index)
            if emission.text or choice.finished:
                usage = job.usage() if not running and choice.finished else None
                events.append(prefix + _chunk_rest(index, emission, choice, usage))
        yield events
    yield [DONE]


def _chunk_rest(index: int, emission: Emission, choice: ChoiceGenerator,
                usage: dict | None) -> bytes:
    text = json.dumps(emission.text)
    token = emission.token
    finish = json.dumps(emission.finish_reason)
    seed = choice.seed if emission.finish_reason else None
    if token is None:
        logprob, token_id, token_json = "null", "null", "null"
    else:
        logprob, token_id = repr(token.logprob), str(token.id)
        token_json = (f'{{"id":{token_id},"text":{json.dumps(token.text)},"logprob":{logprob},'
                      f'"special":{"true" if emission.special else "false"}}}')
    moderation = (f',"moderation":{json.dumps(choice.moderation)}'
                  if emission.finish_reason and choice.moderation else "")
    rest = (f'{index},"text":{text},"logprobs":{logprob},"finish_reason":{finish},'
            f'"seed":{json.dumps(seed)},"delta":{{"token_id":{token_id},"role":"assistant",'
            f'"content":{text}}}{moderation}}}],"token":{token_json},"finish_reason":{finish},'
            f'"usage":{json.dumps(usage)}}}\n\n')
    return rest.encode()
