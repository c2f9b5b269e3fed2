"""The Spark SQL runner's statement splitter (the part that runs without Spark)."""

from __future__ import annotations

import pytest

from moka_provider.migration.spark_sql_runner import main, split_statements


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
