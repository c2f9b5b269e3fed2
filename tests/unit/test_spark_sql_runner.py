"""The Spark SQL runner's statement splitter (the part that runs without Spark), and ``moka
spark-sql-runner`` / ``moka spark-jdbc-runner``, which hand the runners to platform teams."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from moka_provider.cli import main as moka
from moka_provider.data import SPARK_RUNNERS, SPARK_SQL_RUNNER, SparkRunner

# The runner is package data, not a module of the provider: loaded from its file, as the driver runs it.
_spec = importlib.util.spec_from_file_location("spark_sql_runner", SPARK_SQL_RUNNER.path)
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)
main, split_statements = runner.main, runner.split_statements


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", ["SELECT 1"]),
        ("SELECT 1;\nSELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT ';' AS s; SELECT \"a;b\"", ["SELECT ';' AS s", 'SELECT "a;b"']),
        ("SELECT `we;ird` FROM t", ["SELECT `we;ird` FROM t"]),
        ("SELECT 'it\\'s; fine'; SELECT 2", ["SELECT 'it\\'s; fine'", "SELECT 2"]),
        ("-- a comment; not a split\nSELECT 1", ["-- a comment; not a split\nSELECT 1"]),
        ("/* one; two */ SELECT 1; ;; ", ["/* one; two */ SELECT 1"]),
        ("SET spark.sql.x=1;\n-- only a comment\n;", ["SET spark.sql.x=1"]),
        ("", []),
    ],
)
def test_statements_split_at_semicolons_outside_quotes_and_comments(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


def test_the_runner_wants_dash_e_and_the_sql(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["SELECT 1"]) == 2
    assert "usage" in capsys.readouterr().err


@pytest.mark.parametrize("runner", SPARK_RUNNERS, ids=lambda runner: runner.command)
def test_moka_prints_where_the_runner_is(runner: SparkRunner, capsys: pytest.CaptureFixture[str]) -> None:
    assert moka([runner.command]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed == runner.path
    assert printed.name == f"{runner.name}.py"
    assert printed.is_file()


@pytest.mark.parametrize("runner", SPARK_RUNNERS, ids=lambda runner: runner.command)
def test_moka_copies_the_runner_for_an_image(
    runner: SparkRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "image" / "opt" / "moka" / f"{runner.name}.py"

    assert moka([runner.command, "--output", str(target)]) == 0

    assert capsys.readouterr().out.strip() == str(target)
    assert target.read_bytes() == runner.path.read_bytes()
