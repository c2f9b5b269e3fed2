"""The ``moka`` console script: ``moka local ...`` (a local control plane) and ``moka migrate ...``.

Each subcommand's module adds its parser and runs it; they import what they need only when run, so
``moka --help`` stays quick.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (the command line by default) and run the subcommand; the exit code."""
    from moka_provider.local import cli as local_cli
    from moka_provider.migration import cli as migration_cli

    parser = argparse.ArgumentParser(prog="moka", description="Moka tools for Airflow users.")
    commands = parser.add_subparsers(dest="command", required=True)
    local_cli.add_parser(commands)
    migration_cli.add_parser(commands)
    args = parser.parse_args(argv)
    exit_code: int = args.run(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
