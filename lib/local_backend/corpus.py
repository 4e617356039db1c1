"""Training text that every Python installation already has: the standard library's own source.

Two corpora, so the two text models really differ: the ``docs`` corpus is the docstrings
(English prose about code), the ``code`` corpus is the source with docstrings removed (code
lines and comments). The module list is fixed and bounded so training stays well under a
second; modules missing from a given Python version are skipped.
"""
from __future__ import annotations

import hashlib
import inspect
import os
import re
import sysconfig
from pathlib import Path

# Chosen for prose-rich docstrings and idiomatic code; about 4 MB of source in total.
MODULES = (
    "argparse.py", "functools.py", "collections/__init__.py", "pathlib.py", "subprocess.py",
    "json/__init__.py", "json/decoder.py", "shutil.py", "os.py", "typing.py", "textwrap.py",
    "logging/__init__.py", "threading.py", "datetime.py", "email/message.py",
    "http/client.py", "urllib/parse.py", "tarfile.py", "zipfile.py", "inspect.py",
    "difflib.py", "calendar.py", "statistics.py", "random.py", "string.py", "heapq.py",
    "bisect.py", "enum.py", "dataclasses.py", "contextlib.py", "asyncio/tasks.py",
    "asyncio/events.py", "unittest/case.py", "configparser.py", "csv.py", "tempfile.py",
    "socket.py", "ssl.py", "smtplib.py", "ftplib.py", "pickle.py", "fractions.py",
    "ipaddress.py", "optparse.py", "locale.py", "gettext.py", "codecs.py", "_pyio.py",
    "queue.py", "sched.py", "selectors.py", "uuid.py", "weakref.py", "copy.py", "pprint.py",
    "doctest.py", "pydoc.py", "_pydecimal.py", "imaplib.py", "mailbox.py", "shlex.py",
    "glob.py", "fnmatch.py", "tokenize.py", "traceback.py", "warnings.py", "abc.py",
    "numbers.py", "operator.py", "base64.py", "hashlib.py", "hmac.py", "secrets.py",
    "getopt.py", "cmd.py", "code.py", "timeit.py", "wave.py", "zipapp.py",
    "sqlite3/__init__.py", "xml/dom/minidom.py", "html/parser.py", "http/server.py",
    "http/cookiejar.py", "urllib/request.py", "multiprocessing/pool.py",
    "concurrent/futures/_base.py", "asyncio/streams.py", "importlib/__init__.py",
    "platform.py", "sysconfig.py", "site.py", "ast.py",
)
CORPORA = ("docs", "code")  # the corpora load_corpora returns, by name
# Upper bound per corpus, so an unusually large stdlib cannot slow start-up.
MAX_CHARS = 1_500_000

_TRIPLE = re.compile(r'("""|\'\'\')(.*?)\1', re.DOTALL)


def source_texts() -> list[str]:
    """The training modules' source, in ``MODULES`` order (missing or unreadable ones left out)."""
    root = sysconfig.get_paths()["stdlib"]
    texts = []
    for name in MODULES:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as fh:
                texts.append(fh.read())
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def _bounded(docs: list[str]) -> list[str]:
    out, total = [], 0
    for doc in docs:
        if total + len(doc) > MAX_CHARS:
            break
        out.append(doc)
        total += len(doc)
    return out


def corpus_hash(sources: list[str]) -> str:
    """A digest of everything the corpora are made from: the sources, the module list, the
    bound, and this module's own code (which turns sources into documents). Hashing the raw
    sources takes milliseconds, where extracting the corpora takes about a second."""
    digest = hashlib.sha256()
    for part in (repr((MODULES, MAX_CHARS)), Path(__file__).read_text(encoding="utf-8"),
                 *sources):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def load_corpora(sources: list[str] | None = None) -> dict[str, list[str]]:
    """``{"docs": [docstring, ...], "code": [source chunk, ...]}``: one list item per document,
    from ``sources`` (default: ``source_texts()``).

    Triple-quoted strings are taken as docstrings by pattern (not ``ast``), which is ten times
    faster and indistinguishable for training purposes.
    """
    docs: list[str] = []
    code: list[str] = []
    for source in source_texts() if sources is None else sources:
        for match in _TRIPLE.finditer(source):
            text = inspect.cleandoc(match.group(2)).strip()
            if len(text) > 20:
                docs.append(text)
        stripped = _TRIPLE.sub("", source)
        # One document per top-level block, so end-of-text is learned at sensible places.
        code.extend(chunk.strip("\n") for chunk in re.split(r"\n(?=\S)", stripped)
                    if chunk.strip())
    return {"docs": _bounded(docs), "code": _bounded(code)}
