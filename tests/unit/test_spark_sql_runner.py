"""The Spark SQL runner's statement splitter (the part that runs without Spark), and ``moka
spark-sql-runner``, which hands the runner to platform teams."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from moka_provider.cli import main as moka
from moka_provider.data import spark_sql_runner_path

# The runner is package data, not a module of the provider: loaded from its file, as the driver runs it.
_spec = importlib.util.spec_from_file_location("spark_sql_runner", spark_sql_runner_path())
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


def test_moka_prints_where_the_runner_is(capsys: pytest.CaptureFixture[str]) -> None:
    assert moka(["spark-sql-runner"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed == spark_sql_runner_path()
    assert printed.read_text().startswith('"""Run Spark SQL statements as a Spark application')


def test_moka_copies_the_runner_for_an_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "image" / "opt" / "moka" / "spark_sql_runner.py"

    assert moka(["spark-sql-runner", "--output", str(target)]) == 0

    assert capsys.readouterr().out.strip() == str(target)
    assert target.read_bytes() == spark_sql_runner_path().read_bytes()
