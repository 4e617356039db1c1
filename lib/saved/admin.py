"""Admin commands for a team deployment's saved data.

    python -m lib.saved.admin assign-local --to u-<32 hex digits>

gives the runs written in personal mode (owner "local", which no signed-in person sees) to
one person, named by the id the sidebar shows them under their e-mail. Run it on the
server with the app's PLAYGROUND_DATA_DIR.
"""
from __future__ import annotations

import argparse
import sys

from lib.saved.history import History, HistoryError
from lib.saved.owner import LOCAL_OWNER, check_owner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.saved.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    assign = commands.add_parser("assign-local",
                                 help="give personal-mode runs to one signed-in person")
    assign.add_argument("--to", required=True, help="the person's id, as their sidebar shows it")
    args = parser.parse_args(argv)
    try:
        owner = check_owner(args.to)
        moved = History(owner=LOCAL_OWNER).assign(owner)
    except (ValueError, HistoryError) as exc:
        parser.exit(2, f"{exc}\n")
    print(f"{moved} runs now belong to {owner}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
