"""Run a ``@task.moka_pyspark`` function as a Spark driver: ``pyspark_function_runner.py <payload>``.

The payload is one argument: the function's source (its ``def``, decorators removed), the file and
line it came from, and its JSON arguments, as JSON, compressed (zlib) and base64-encoded. The
runner compiles the source (annotations are not evaluated: the driver need not import what they
name), calls the function with a SparkSession first, and prints one report line to stdout: the
marker, then JSON holding either ``return_value`` or ``error`` (what went wrong, with the
traceback). A failure also goes to stderr as a traceback and ends the driver with exit code 1, so
the SparkApplication fails. Runs in the Spark driver; needs nothing but PySpark and the standard
library.

The worker loads this same file to encode the payload and read the report line: the format is
written once, here.
"""

from __future__ import annotations
import __future__

import base64
import json
import linecache
import sys
import traceback
import zlib
from typing import Any

#: Starts the report line (one per run, the last line of the runner's stdout).
REPORT_MARKER = "::moka-pyspark-function:: "


def encode_payload(payload: dict[str, Any]) -> str:
    """The command-line argument carrying ``payload`` (JSON, zlib, base64)."""
    data = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def decode_payload(argument: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(argument, validate=True)))
    return payload


def report_line(report: dict[str, Any]) -> str:
    return REPORT_MARKER + json.dumps(report, separators=(",", ":"))


def read_report(line: str) -> dict[str, Any] | None:
    """The report in a line of the driver's log; ``None`` for any other line."""
    if not line.startswith(REPORT_MARKER):
        return None
    try:
        report = json.loads(line[len(REPORT_MARKER) :])
    except ValueError:
        return None
    return report if isinstance(report, dict) and ("return_value" in report or "error" in report) else None


def load_function(payload: dict[str, Any]) -> Any:
    """The function the payload's source defines, its tracebacks pointing at the DAG file's lines."""
    filename, first_line, source = payload["file"], int(payload["line"]), payload["source"]
    # Padded so that line numbers are the DAG file's; registered so that tracebacks quote the lines.
    padded = "\n" * (first_line - 1) + source
    linecache.cache[filename] = (len(padded), None, padded.splitlines(keepends=True), filename)
    code = compile(padded, filename, "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
    namespace: dict[str, Any] = {"__name__": "__moka_pyspark__"}
    exec(code, namespace)
    return namespace[payload["name"]]


def error_report(stage: str, error: BaseException) -> dict[str, Any]:
    """What went wrong at ``stage`` (``load``, ``call`` or ``return_value``), for the task; the
    traceback of a return value that is not JSON is the error alone (its frames are the encoder's)."""
    what = {
        "load": "the runner could not load the function",
        "call": "the function raised",
        "return_value": "the function's return value is not JSON",
    }[stage]
    return {
        "error": {
            "stage": stage,
            "type": type(error).__name__,
            "message": str(error),
            "summary": f"{what}: {type(error).__name__}: {error}",
            "traceback": "".join(
                traceback.format_exception_only(type(error), error)
                if stage == "return_value"
                else traceback.format_exception(type(error), error, error.__traceback__)
            ),
        }
    }


def return_report(value: Any) -> dict[str, Any]:
    """The report of a function that returned ``value``: the value, or why it is not JSON."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        return error_report("return_value", error)
    return {"return_value": value}


def call(function: Any, spark: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Call ``function`` with ``spark`` and the payload's arguments; its report."""
    try:
        value = function(spark, *payload["args"], **payload["kwargs"])
    except Exception as error:
        return error_report("call", error)
    return return_report(value)


def _finish(report: dict[str, Any]) -> int:
    """Print the report line (and any error's traceback); the exit code."""
    if "error" in report:
        print(report["error"]["traceback"], file=sys.stderr, end="", flush=True)
    print(report_line(report), flush=True)
    return 1 if "error" in report else 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: pyspark_function_runner.py <payload>", file=sys.stderr)
        return 2
    try:
        payload = decode_payload(argv[0])
        function = load_function(payload)
    except Exception as error:
        return _finish(error_report("load", error))
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    try:
        return _finish(call(function, spark, payload))
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
