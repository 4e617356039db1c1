"""What opening the home page costs the server (issue 14), in a fresh process as a user's
first visit is: no pandas or pyarrow for its model table (a second and 60 MB), no numpy or
Pillow (only images and the local models use them), and the embedded local backend serves
the page without loading its text models (40 MB), which only a completion needs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pyarrow", "numpy", "PIL")
# Runs the home page once under AppTest, then says which heavy modules the process holds
# and whether the embedded backend has its text models in memory (or is loading them).
FIRST_VISIT = """
import json, sys, threading
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60)
at.run()
assert not at.exception, [e.value for e in at.exception]
from lib.local_backend import demo_models
print(json.dumps({"modules": [m for m in sys.argv[2:] if m in sys.modules],
                  "models_loaded": (demo_models._trained is not None or demo_models._lock.locked()
                                    or any("train" in t.name for t in threading.enumerate())),
                  "tables": [m.value for m in at.markdown if m.value.startswith("| id |")]}))
"""


def _first_visit(data_dir: Path, page: str = "playground.py") -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PLAYGROUND_LOCAL_BACKEND_URL", "TOGETHER_API_KEY")}
    env["PLAYGROUND_DATA_DIR"] = str(data_dir)
    done = subprocess.run([sys.executable, "-c", FIRST_VISIT, str(ROOT / page),
                           *HEAVY], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_home_page_lists_the_local_models_without_heavy_imports_or_loading_them(
        tmp_path):
    seen = _first_visit(tmp_path)
    assert seen["modules"] == []
    assert seen["models_loaded"] is False
    (table,) = seen["tables"]
    assert "local\\/ngram\\-docs" in table


def test_the_completions_page_draws_without_pandas_or_pyarrow(tmp_path):
    """Its logit-bias editor was a data editor, which brought both into the first draw."""
    seen = _first_visit(tmp_path, "pages/1_Completions.py")
    assert not {"pandas", "pyarrow"} & set(seen["modules"]), seen["modules"]


def test_the_prompt_lab_page_draws_without_pandas_or_pyarrow(tmp_path):
    """Its inputs were an editable grid from the first draw; now a read-only table until
    "Edit in place" is switched on."""
    seen = _first_visit(tmp_path, "pages/7_Prompt_lab.py")
    assert not {"pandas", "pyarrow"} & set(seen["modules"]), seen["modules"]
