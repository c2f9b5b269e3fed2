"""The ``moka`` console script: ``moka local ...`` (a local control plane), ``moka migrate ...`` and
``moka spark-sql-runner`` (the Spark SQL runner for a Spark image).

Each subcommand's module adds its parser and runs it; they import what they need only when run, so
``moka --help`` stays quick. ``spark-sql-runner`` is small enough to live here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from moka_provider.data import spark_sql_runner_path


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (the command line by default) and run the subcommand; the exit code."""
    from moka_provider.local import cli as local_cli
    from moka_provider.migration import cli as migration_cli

    parser = argparse.ArgumentParser(prog="moka", description="Moka tools for Airflow users.")
    commands = parser.add_subparsers(dest="command", required=True)
    local_cli.add_parser(commands)
    migration_cli.add_parser(commands)
    _add_spark_sql_runner_parser(commands)
    args = parser.parse_args(argv)
    exit_code: int = args.run(args)
    return exit_code


def _add_spark_sql_runner_parser(commands: Any) -> None:
    runner = commands.add_parser(
        "spark-sql-runner",
        help="print where the installed Spark SQL runner is, or copy it (for a Spark image)",
        description="The program MonarchSparkSqlOperator submits as its Spark application; the Spark "
        "image must hold it where the moka connection's spark_sql_runner says.",
    )
    runner.add_argument("--output", type=Path, help="write a copy to this file (its folders are created)")
    runner.set_defaults(run=_spark_sql_runner)


def _spark_sql_runner(args: argparse.Namespace) -> int:
    source = spark_sql_runner_path()
    if args.output is None:
        print(source)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, args.output)
        print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
