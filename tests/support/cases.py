"""Shared case tables: one bad value per parameter with the message the catalogue gives
(checked by the catalogue's unit tests, brought in through the pages by the app tests), and
the property name under which the fault-matrix tests report their case."""
from __future__ import annotations

CASE_PROPERTY = "case"



COMPLETION_CASES = [
    ("model", 5, "model must be text, got 5"),
    ("model", "x" * 257, "model must be at most 256 characters, got 257"),
    ("model", "a\x00b", "model must not contain a NUL character"),
    ("prompt", None, "prompt must be text, got None"),
    ("max_tokens", 0, "max_tokens must be an integer from 1 to 131072, got 0"),
    ("max_tokens", 1.5, "max_tokens must be an integer from 1 to 131072, got 1.5"),
    ("stop", "END", "stop must be a list of strings, got 'END'"),
    ("stop", ["a", ""], "stop must be a list of non-empty strings, got ''"),
    ("stop", ["s"] * 17, "stop may hold at most 16 strings, got 17"),
    ("stop", ["x" * 257], "each of stop must be at most 256 characters"),
    ("temperature", 2.5, "temperature must be a number from 0 to 2, got 2.5"),
    ("temperature", "hot", "temperature must be a number from 0 to 2, got 'hot'"),
    ("temperature", float("nan"), "temperature must be a number from 0 to 2, got nan"),
    ("temperature", 10**400, "temperature must be a number from 0 to 2, got 1" + "0" * 56 + "..."),
    ("top_p", -0.1, "top_p must be a number from 0 to 1, got -0.1"),
    ("top_k", 0, "top_k must be an integer from 1 to 100000, got 0"),
    ("min_p", 1.1, "min_p must be a number from 0 to 1, got 1.1"),
    ("repetition_penalty", 0.05, "repetition_penalty must be a number from 0.1 to 2, got 0.05"),
    ("presence_penalty", 2.1, "presence_penalty must be a number from -2 to 2, got 2.1"),
    ("frequency_penalty", -2.1, "frequency_penalty must be a number from -2 to 2, got -2.1"),
    ("logit_bias", {"x": 1}, "logit_bias keys must be token ids (whole numbers of 0 or more), "
                             "got 'x'"),
    ("logit_bias", {"5": 101}, "logit_bias for token 5 must be a number from -100 to 100, "
                               "got 101"),
    ("logit_bias", [1], "logit_bias must map token ids to numbers, got [1]"),
    ("seed", -1, "seed must be an integer from 0 to 18446744073709551615, got -1"),
    ("seed", True, "seed must be an integer from 0 to 18446744073709551615, got True"),
    ("n", 0, "n must be an integer from 1 to 128, got 0"),
    ("n", 129, "n must be an integer from 1 to 128, got 129"),
    ("n", "9" * 5000, "n must be an integer from 1 to 128, got '" + "9" * 56 + "..."),
    ("n", 10**5000, "n must be an integer from 1 to 128, got a number too long to show"),
    ("logprobs", 21, "logprobs must be an integer from 0 to 20, got 21"),
    ("echo", "yes", "echo must be true or false, got 'yes'"),
    ("stream", 1, "stream must be true or false, got 1"),
    ("safety_model", ["g"], "safety_model must be text, got ['g']"),
]
IMAGE_CASES = [
    ("negative_prompt", 3, "negative_prompt must be text, got 3"),
    ("width", 1001, "width must be an integer from 64 to 2048 and a multiple of 8, got 1001"),
    ("height", 4096, "height must be an integer from 64 to 2048 and a multiple of 8, got 4096"),
    ("steps", 51, "steps must be an integer from 1 to 50, got 51"),
    ("guidance_scale", 31, "guidance_scale must be a number from 0 to 30, got 31"),
    ("seed", "abc", "seed must be an integer from 0 to 18446744073709551615, got 'abc'"),
    ("n", 17, "n must be an integer from 1 to 16, got 17"),
    ("image_url", "ftp://x/y.png", "image_url must be an http(s) URL, got 'ftp://x/y.png'"),
    ("response_format", "b64_json", "response_format must be one of base64, url, "
                                    "got 'b64_json'"),
    ("output_format", "gif", "output_format must be one of jpeg, png, got 'gif'"),
    ("disable_safety_checker", None, "disable_safety_checker must be true or false, got None"),
    ("image_loras", [{"path": "https://h.co/a", "scale": 3}],
     "image_loras item 1: scale must be a number from -2 to 2, got 3"),
    ("reference_images", ["https://h.co/a.png", "file:///etc/passwd"],
     "reference_images item 2 must be an http(s) URL, got 'file:///etc/passwd'"),
    ("model", "", "model is required and must not be empty"),
    ("prompt", " \n", "prompt is required and must not be empty"),
]
