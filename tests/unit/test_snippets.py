"""View-as-code snippets: valid code, the key only as an environment variable, and they run."""
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lib.api import snippets

BASE = "https://api.together.xyz/v1"
TRICKY = {"model": "m/x", "prompt": "It's a \"quote\", $HOME `ls` \\n ünï <img src=x>\n",
          "max_tokens": 8, "stop": ["\n\n", "'"], "logit_bias": {"50": -100.0},
          "temperature": 0.3, "echo": True, "seed": 2**63, "stream": False}
BODIES = [TRICKY, {**TRICKY, "stream": True}, {**TRICKY, "stream": True, "n": 3}]
SECRET = "tgp_v1_this-is-not-a-real-key-0123456789"


@pytest.mark.parametrize("body", BODIES)
def test_curl_is_one_shell_command_whose_body_round_trips(body):
    text = snippets.curl(BASE, body)
    words = shlex.split(text.replace("\\\n", " "))
    assert words[0] == "curl"
    assert json.loads(words[words.index("-d") + 1]) == body
    assert "Authorization: Bearer $TOGETHER_API_KEY" in words
    assert ("-N" in words) == body["stream"]


@pytest.mark.parametrize("body", BODIES)
def test_python_snippets_compile_and_hold_the_exact_body(body):
    for text in (snippets.python_requests(BASE, body), snippets.together_sdk(BASE, body)):
        compile(text, "<snippet>", "exec")
        namespace = {}
        body_src = text[text.index("body = "):text.index("\n\n", text.index("body = "))]
        exec(body_src, namespace)
        assert namespace["body"] == body
        assert 'os.environ["TOGETHER_API_KEY"]' in text or "os.environ['TOGETHER_API_KEY']" in text


def test_sdk_snippet_names_a_non_default_base_url_only():
    assert "base_url" not in snippets.together_sdk(BASE, TRICKY)
    assert "base_url='http://127.0.0.1:9/v1'" in snippets.together_sdk("http://127.0.0.1:9/v1",
                                                                       TRICKY)


@pytest.mark.parametrize("body", BODIES)
def test_node_snippet_is_valid_javascript(body, tmp_path):
    path = tmp_path / "snippet.mjs"
    path.write_text(snippets.node_fetch(BASE, body))
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "process.env.TOGETHER_API_KEY" in path.read_text()


def test_no_snippet_can_hold_a_key_it_never_receives():
    assert set(snippets.all_snippets(BASE, TRICKY)) == set(snippets.HIGHLIGHT)
    for text in snippets.all_snippets(BASE, TRICKY).values():
        assert SECRET not in text and "tgp_v1" not in text


def _run(code: str, backend, tmp_path: Path, runner: list[str]) -> subprocess.CompletedProcess:
    path = tmp_path / ("snippet.mjs" if runner[0] == "node" else "snippet.py")
    path.write_text(code)
    env = {**os.environ, "TOGETHER_API_KEY": SECRET}
    return subprocess.run(runner + [str(path)], capture_output=True, text=True, env=env,
                          timeout=60)


def _body(**extra):
    return {"model": "local/ngram-docs", "prompt": "The playground", "max_tokens": 12,
            "temperature": 0.0, **extra}


@pytest.mark.parametrize("extra", [{"stream": False}, {"stream": True},
                                   {"stream": True, "n": 2}])
def test_requests_snippet_runs_against_the_local_backend(fresh_backend, tmp_path, extra):
    body = _body(**extra)
    result = _run(snippets.python_requests(fresh_backend.base_url, body), fresh_backend,
                  tmp_path, [sys.executable])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    if extra.get("n") == 2:
        assert "--- choice 0" in result.stdout and "--- choice 1" in result.stdout


@pytest.mark.parametrize("extra", [{"stream": False}, {"stream": True, "n": 2}])
def test_sdk_and_node_snippets_run_against_the_local_backend(fresh_backend, tmp_path, extra):
    body = _body(**extra)
    sdk = _run(snippets.together_sdk(fresh_backend.base_url, body), fresh_backend, tmp_path,
               [sys.executable])
    assert sdk.returncode == 0, sdk.stderr
    assert "--- choice 0" in sdk.stdout
    node = _run(snippets.node_fetch(fresh_backend.base_url, body), fresh_backend, tmp_path,
                ["node"])
    assert node.returncode == 0, node.stderr
    assert "--- choice 0" in node.stdout


def test_sent_summary_names_only_what_is_sent():
    line = snippets.sent_summary({"model": "m", "prompt": "p" * 500, "temperature": 0.3,
                                  "n": 2, "stop": ["\n"]})
    assert line == ('Sent: temperature=0.3, n=2, stop=["\\n"]; everything else at the '
                    "API's default")
    assert "nothing but the model and prompt" in snippets.sent_summary({"model": "m"})
