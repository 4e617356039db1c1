"""``python -m lib.local_backend --port 8765``: run the local backend in the foreground.

``--control`` serves the ``/_local/`` endpoints (for a benchmark driving a backend in its
own process); the credential comes from the parent through ``LOCAL_BACKEND_CONTROL_TOKEN``,
never the command line, where every local user could read it.
"""
from __future__ import annotations

import argparse
import os
import time

from .demo_models import text_models
from .server import CONTROL_TOKEN_ENV, LocalBackend


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Together-compatible demo backend.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tokens-per-second", type=float, default=60.0,
                        help="stream pace; 0 = as fast as possible")
    parser.add_argument("--control", action="store_true",
                        help=f"serve /_local/ control endpoints to holders of ${CONTROL_TOKEN_ENV}")
    args = parser.parse_args(argv)
    token = os.environ.get(CONTROL_TOKEN_ENV)
    if args.control and not token:
        parser.error(f"--control needs the credential in ${CONTROL_TOKEN_ENV}")
    backend = LocalBackend(args.host, args.port, args.tokens_per_second,
                           control=args.control, control_token=token).start()
    trained = text_models()
    how = "loaded from the cache" if trained.from_cache else "trained"
    print(f"Local backend ready at {backend.base_url} (models {how} in "
          f"{trained.seconds:.2f} s); Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        backend.stop()


if __name__ == "__main__":
    main()
