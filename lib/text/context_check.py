"""Before sending: does prompt + Max tokens fit the model's context?

A request over the context is refused by the server (Together and the local backend with a
400, others with their own words); when the model listing gives the context length, the
page can say so before anything is sent, in the same words the refusal would get.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from lib.api.errors import context_words
from lib.api.results import ModelInfo
from lib.catalogue import COMPLETIONS
from lib.text.sweep import CHARS_PER_TOKEN


def prompt_tokens_estimate(prompt: str) -> int:
    """A rough count of the prompt's tokens, from its characters (no tokenizer call)."""
    return math.ceil(len(prompt) / CHARS_PER_TOKEN)


def context_warning(model: ModelInfo | None, body: Mapping[str, Any],
                    prompt_tokens: int) -> str | None:
    """The warning for a request whose prompt + max_tokens is over the model's context.

    None when it fits, or when the listing does not know the model or its context length
    (nothing can be said then; the server will answer). A body without max_tokens is
    counted with the catalogue's default, which is what the page sends.
    """
    length = model.context_length if model is not None else None
    if not length:
        return None
    max_tokens = int(body.get("max_tokens") or COMPLETIONS["max_tokens"].default)
    if prompt_tokens + max_tokens <= length:
        return None
    return "Likely to be refused: " + context_words(
        length, prompt=f"prompt (about {prompt_tokens:,} tokens)",
        max_tokens=f"Max tokens ({max_tokens:,})")
