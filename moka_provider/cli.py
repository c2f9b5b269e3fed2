"""The ``moka`` console script: ``moka local ...`` (a local control plane), ``moka migrate ...`` and
``moka spark-sql-runner`` / ``moka spark-jdbc-runner`` (the Spark runners, for a Spark image).

Each subcommand's module adds its parser and runs it; they import what they need only when run, so
``moka --help`` stays quick. The runners' commands are small enough to live here.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
from pathlib import Path
from typing import Any

from moka_provider.data import SPARK_RUNNERS, SparkRunner


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (the command line by default) and run the subcommand; the exit code."""
    from moka_provider.local import cli as local_cli
    from moka_provider.migration import cli as migration_cli

    parser = argparse.ArgumentParser(prog="moka", description="Moka tools for Airflow users.")
    commands = parser.add_subparsers(dest="command", required=True)
    local_cli.add_parser(commands)
    migration_cli.add_parser(commands)
    _add_spark_runner_parsers(commands)
    args = parser.parse_args(argv)
    exit_code: int = args.run(args)
    return exit_code


def _add_spark_runner_parsers(commands: Any) -> None:
    for runner in SPARK_RUNNERS:
        command = commands.add_parser(
            runner.command,
            help=f"print where the installed {runner.title} is, or copy it (for a Spark image)",
            description=f"The program {runner.operator} submits as its Spark application; the Spark "
            f"image must hold it where the moka connection's {runner.name} says.",
        )
        command.add_argument(
            "--output", type=Path, help="write a copy to this file (its folders are created)"
        )
        command.set_defaults(run=functools.partial(_spark_runner, runner))


def _spark_runner(runner: SparkRunner, args: argparse.Namespace) -> int:
    if args.output is None:
        print(runner.path)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(runner.path, args.output)
        print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
