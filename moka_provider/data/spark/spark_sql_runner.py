"""Run Spark SQL statements as a Spark application: what ``spark-sql -e`` did on Monarch.

The ``spark-sql`` shell cannot run in cluster mode, so ``MonarchSparkSqlOperator`` submits this
script as the application, with the SQL text as its argument: ``spark_sql_runner.py -e "<sql>"``.
Statements are separated by ``;`` (not inside quotes or comments) and run in order; a statement
that returns rows prints them tab-separated, as the shell does. The first failing statement ends
the run with its error. Runs in the Spark driver; needs nothing but PySpark and the standard library.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator


def split_statements(sql: str) -> list[str]:
    """The statements of ``sql``: split at ``;`` outside quotes, backquotes and comments; blank
    statements dropped, comments kept inside the statements they belong to."""
    statements: list[str] = []
    current: list[str] = []
    index, quote = 0, ""
    while index < len(sql):
        char = sql[index]
        pair = sql[index : index + 2]
        if quote:
            current.append(char)
            if char == "\\" and quote != "`" and index + 1 < len(sql):
                current.append(sql[index + 1])
                index += 1
            elif char == quote:
                quote = ""
        elif pair == "--":
            end = sql.find("\n", index)
            end = len(sql) if end == -1 else end
            current.append(sql[index:end])
            index = end
            continue
        elif pair == "/*":
            end = sql.find("*/", index + 2)
            end = len(sql) if end == -1 else end + 2
            current.append(sql[index:end])
            index = end
            continue
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    statements.append("".join(current))
    return [statement.strip() for statement in statements if _has_code(statement)]


def _has_code(statement: str) -> bool:
    """Whether anything but whitespace and comments is left."""
    lines = [line.split("--", 1)[0] for line in statement.splitlines()]
    text = "\n".join(lines)
    while "/*" in text:
        start = text.index("/*")
        end = text.find("*/", start + 2)
        text = text[:start] + ("" if end == -1 else text[end + 2 :])
    return bool(text.strip())


def _rows(frame: object) -> Iterator[str]:
    for row in frame.toLocalIterator():  # type: ignore[attr-defined]
        yield "\t".join("NULL" if value is None else str(value) for value in row)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "-e":
        print("usage: spark_sql_runner.py -e '<statements>'", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    statements = split_statements(argv[1])
    try:
        for number, statement in enumerate(statements, start=1):
            print(f"-- statement {number}/{len(statements)}", file=sys.stderr, flush=True)
            frame = spark.sql(statement)
            if frame.columns:
                for line in _rows(frame):
                    print(line, flush=True)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
