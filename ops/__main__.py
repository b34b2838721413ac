"""`python -m ops <command>`: operations on the running system.

    python -m ops upgrade-runs [--wait] [--query "Platform='jd'"]

moves every open order run onto the newest workflow code (README, "Changing the workflow").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from ops.upgrade_runs import WAIT_TIMEOUT, upgrade_runs
from settings import get_settings
from workflows.client import connect


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops")
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser(
        "upgrade-runs", help="ask every open order run to move onto the newest workflow code"
    )
    upgrade.add_argument(
        "--wait", action="store_true", help="wait until each run has moved, then print the total"
    )
    upgrade.add_argument(
        "--query",
        help="narrow the open runs with a visibility filter, e.g. \"Platform='jd'\"",
    )
    upgrade.add_argument(
        "--wait-seconds",
        type=float,
        default=WAIT_TIMEOUT.total_seconds(),
        help="with --wait, give up on runs still not moved after this long",
    )
    return parser.parse_args(argv)


async def run_upgrade(args: argparse.Namespace) -> int:
    client = await connect(get_settings())
    report = await upgrade_runs(
        client,
        query=args.query,
        wait=args.wait,
        wait_timeout=timedelta(seconds=args.wait_seconds),
    )
    return 0 if report.ok else 1


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.command == "upgrade-runs":
        return asyncio.run(run_upgrade(args))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
