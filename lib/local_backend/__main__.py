"""``python -m lib.local_backend --port 8765``: run the local backend in the foreground."""
from __future__ import annotations

import argparse
import time

from .models import text_models
from .server import LocalBackend


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Together-compatible demo backend.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tokens-per-second", type=float, default=60.0,
                        help="stream pace; 0 = as fast as possible")
    args = parser.parse_args(argv)
    backend = LocalBackend(args.host, args.port, args.tokens_per_second).start()
    trained = text_models()
    print(f"Local backend ready at {backend.base_url} (models trained in "
          f"{trained.seconds:.2f} s); Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        backend.stop()


if __name__ == "__main__":
    main()
