"""The exact request as copy-paste code: cURL, Python requests, the `together` SDK, Node fetch.

Every snippet reads the key from the environment (``$TOGETHER_API_KEY``,
``os.environ["TOGETHER_API_KEY"]``, ``process.env.TOGETHER_API_KEY``), so a snippet can be
shared or pasted in a ticket without leaking anything; this module never sees the key.
Streaming snippets read the SSE stream; with n > 1 they collect each choice by ``index``
because one stream carries all choices interleaved.
"""
from __future__ import annotations

import json
import pprint
import shlex
from typing import Any, Mapping

KEY_ENV = "TOGETHER_API_KEY"
# The local backend listens on a port chosen at each start: its snippets read the base URL
# from this variable (the `together` SDK reads it too) instead of hard-coding the port.
BASE_ENV = "TOGETHER_BASE_URL"
TOGETHER_DEFAULT_BASE = "https://api.together.xyz/v1"
# Tab name → st.code highlighting language.
HIGHLIGHT = {"cURL": "bash", "Python": "python", "together SDK": "python", "Node": "javascript"}


def endpoint_url(base_url: str, path: str = "/completions") -> str:
    return base_url.rstrip("/") + path


def curl(base_url: str, body: Mapping[str, Any], base_from_env: bool = False) -> str:
    """A shell command; the JSON body is one single-quoted argument (shlex-safe)."""
    url = f'"${{{BASE_ENV}}}/completions"' if base_from_env else shlex.quote(
        endpoint_url(base_url))
    lines = [f"curl {'-N ' if body.get('stream') else ''}-sS {url}",
             f'-H "Authorization: Bearer ${KEY_ENV}"',
             "-H 'Content-Type: application/json'",
             f"-d {shlex.quote(json.dumps(body, indent=2, ensure_ascii=False))}"]
    return " \\\n  ".join(lines)


def _py_literal(body: Mapping[str, Any], indent: int) -> str:
    text = pprint.pformat(dict(body), sort_dicts=False, width=88 - indent)
    return text.replace("\n", "\n" + " " * indent)


def python_requests(base_url: str, body: Mapping[str, Any], base_from_env: bool = False) -> str:
    url = (f"os.environ[{BASE_ENV!r}].rstrip(\"/\") + \"/completions\"" if base_from_env
           else repr(endpoint_url(base_url)))
    head = (f"import json\nimport os\n\nimport requests\n\n"
            f"URL = {url}\n"
            f"HEADERS = {{\"Authorization\": f\"Bearer {{os.environ['{KEY_ENV}']}}\"}}\n"
            f"body = {_py_literal(body, 7)}\n\n")
    if not body.get("stream"):
        return head + (
            "response = requests.post(URL, headers=HEADERS, json=body, timeout=120)\n"
            "response.raise_for_status()\n"
            "for choice in response.json()[\"choices\"]:\n"
            "    print(f\"--- choice {choice['index']} ({choice['finish_reason']})\")\n"
            "    print(choice[\"text\"])\n")
    return head + (
        "texts = {}\n"
        "with requests.post(URL, headers=HEADERS, json=body, stream=True,\n"
        "                   timeout=(10, 120)) as response:\n"
        "    response.raise_for_status()\n"
        "    for line in response.iter_lines():\n"
        "        if not line.startswith(b\"data:\"):\n"
        "            continue  # blank separators and keep-alive comments\n"
        "        data = line[len(b\"data:\"):].strip()\n"
        "        if data == b\"[DONE]\":\n"
        "            break\n"
        "        chunk = json.loads(data)\n"
        "        if \"error\" in chunk:\n"
        "            raise RuntimeError(chunk[\"error\"][\"message\"])\n"
        "        for choice in chunk[\"choices\"]:\n"
        "            texts[choice[\"index\"]] = texts.get(choice[\"index\"], \"\") + choice[\"text\"]\n"
        + ("            print(choice[\"text\"], end=\"\", flush=True)\n"
           "print()\n" if body.get("n", 1) == 1 else
           "for index in sorted(texts):\n"
           "    print(f\"--- choice {index}\")\n"
           "    print(texts[index])\n"))


def together_sdk(base_url: str, body: Mapping[str, Any], base_from_env: bool = False) -> str:
    """The official SDK (the v1 `together` package, ``client.completions.create``)."""
    if base_from_env:
        base = f", base_url=os.environ[{BASE_ENV!r}]"
    else:
        base = "" if base_url.rstrip("/") == TOGETHER_DEFAULT_BASE else f", base_url={base_url!r}"
    head = (f"import os\n\nfrom together import Together\n\n"
            f"client = Together(api_key=os.environ[\"{KEY_ENV}\"]{base})\n"
            f"body = {_py_literal(body, 7)}\n\n")
    if not body.get("stream"):
        return head + ("response = client.completions.create(**body)\n"
                       "for choice in response.choices:\n"
                       "    print(f\"--- choice {choice.index} ({choice.finish_reason})\")\n"
                       "    print(choice.text)\n")
    return head + (
        "texts = {}\n"
        "for chunk in client.completions.create(**body):\n"
        "    for choice in chunk.choices or []:\n"
        "        piece = choice.delta.content if choice.delta else \"\"\n"
        "        texts[choice.index] = texts.get(choice.index, \"\") + (piece or \"\")\n"
        "for index in sorted(texts):\n"
        "    print(f\"--- choice {index}\")\n"
        "    print(texts[index])\n")


def node_fetch(base_url: str, body: Mapping[str, Any], base_from_env: bool = False) -> str:
    url = (f"`${{process.env.{BASE_ENV}}}/completions`" if base_from_env
           else json.dumps(endpoint_url(base_url)))
    head = (f"const body = {json.dumps(body, indent=2, ensure_ascii=False)};\n\n"
            f"const response = await fetch({url}, {{\n"
            "  method: \"POST\",\n"
            "  headers: {\n"
            f"    Authorization: `Bearer ${{process.env.{KEY_ENV}}}`,\n"
            "    \"Content-Type\": \"application/json\",\n"
            "  },\n"
            "  body: JSON.stringify(body),\n"
            "});\n"
            "if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);\n")
    if not body.get("stream"):
        return head + ("const data = await response.json();\n"
                       "for (const choice of data.choices) {\n"
                       "  console.log(`--- choice ${choice.index} (${choice.finish_reason})`);\n"
                       "  console.log(choice.text);\n"
                       "}\n")
    return head + (
        "const texts = {};\n"
        "const decoder = new TextDecoder();\n"
        "let buffer = \"\";\n"
        "for await (const bytes of response.body) {\n"
        "  buffer += decoder.decode(bytes, { stream: true });\n"
        "  const lines = buffer.split(\"\\n\");\n"
        "  buffer = lines.pop();\n"
        "  for (const line of lines) {\n"
        "    if (!line.startsWith(\"data:\")) continue;\n"
        "    const data = line.slice(5).trim();\n"
        "    if (data === \"[DONE]\") continue;\n"
        "    const chunk = JSON.parse(data);\n"
        "    if (chunk.error) throw new Error(chunk.error.message);\n"
        "    for (const choice of chunk.choices) {\n"
        "      texts[choice.index] = (texts[choice.index] ?? \"\") + choice.text;\n"
        "    }\n"
        "  }\n"
        "}\n"
        "for (const [index, text] of Object.entries(texts)) {\n"
        "  console.log(`--- choice ${index}`);\n"
        "  console.log(text);\n"
        "}\n")


def all_snippets(base_url: str, body: Mapping[str, Any],
                 base_from_env: bool = False) -> dict[str, str]:
    """Language name → snippet, in the order the page shows the tabs.

    ``base_from_env``: the base URL is read from ``$TOGETHER_BASE_URL`` (the local
    backend, whose port changes on each start), and ``setup`` says what to set.
    """
    return {"cURL": curl(base_url, body, base_from_env),
            "Python": python_requests(base_url, body, base_from_env),
            "together SDK": together_sdk(base_url, body, base_from_env),
            "Node": node_fetch(base_url, body, base_from_env)}


def setup(base_url: str, base_from_env: bool) -> str:
    """The variables a snippet reads, and what to set them to (never the key itself)."""
    if not base_from_env:
        return f"Set {KEY_ENV} to your key first: the snippets read it, never hold it."
    return (f"Set two variables first: {BASE_ENV}={base_url} (this session's local backend: "
            "its port changes each time it starts, so check it here again after a restart) "
            f"and {KEY_ENV} (any value: the local backend checks no key).")


def sent_summary(body: Mapping[str, Any], hidden: tuple[str, ...] = ("model", "prompt")) -> str:
    """One line naming what the request sets, so "left at default" is visible at a glance."""
    shown = [f"{name}={_short(value)}" for name, value in body.items() if name not in hidden]
    return (f"Sent: {', '.join(shown) if shown else 'nothing but the model and prompt'}; "
            "everything else at the API's default")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"
