"""Run under the current `together` SDK (3.x, in its own venv): print best events/s.

The project's venv pins the legacy 1.x SDK (the strict parser the local backend is
checked against); 3.x needs other versions of its dependencies, so it lives apart.

    python bench/sdk3_reader.py BASE_URL PARAMS_JSON REPEATS
"""
import json
import sys
import time

from together import Together

base_url, params, repeats = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
client = Together(api_key="bench", base_url=base_url.rsplit("/v1", 1)[0])  # 3.x adds /v1
args = {k: v for k, v in params.items() if k != "stream"}
best = 0.0
for _ in range(repeats):
    first = last = None
    count = 0
    for chunk in client.completions.create(stream=True, **args):
        last = time.perf_counter()
        first = first or last
        count += len(chunk.choices or [])
    best = max(best, count / (last - first))
print(best)
