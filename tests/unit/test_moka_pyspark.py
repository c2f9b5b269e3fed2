"""``@task.moka_pyspark`` without a cluster: the function's source for the driver, the runner's
payload and report (its functions run directly, as the driver runs them), the SparkApplication the
task builds, and how the task reads the report into its result or its error."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
from pathlib import Path
from typing import Any, cast

import pytest
from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowException

from moka_provider.data import PYSPARK_FUNCTION_RUNNER
from moka_provider.decorators.function_source import function_source
from moka_provider.decorators.moka_pyspark import (
    MAX_PAYLOAD_BYTES,
    MokaPySparkDecoratedOperator,
    moka_pyspark_task,
)
from moka_provider.exceptions import MokaJobFailed, MokaJobSpecError
from moka_provider.settings import MokaSettings
from tests.conftest import REPO

# The runner is package data, not a module of the provider: loaded from its file, as the driver runs it.
_spec = importlib.util.spec_from_file_location("pyspark_function_runner", PYSPARK_FUNCTION_RUNNER.path)
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
RUNNER = "local:///opt/moka/pyspark_function_runner.py"
SETTINGS = MokaSettings(
    images={"spark": "spark:3.5.3"}, versions={"spark": "3.5.3"}, pyspark_function_runner=RUNNER
)
SCALE = 3  # a module-level name: the driver does not have it


def decorated(function: Any, *args: Any, **kwargs: Any) -> MokaPySparkDecoratedOperator:
    """The task ``@task.moka_pyspark`` makes of ``function`` called with ``args``/``kwargs``."""
    with DAG("unit", schedule=None, start_date=START) as dag:
        moka_pyspark_task(function)(*args, **kwargs)
    [operator] = dag.tasks
    assert isinstance(operator, MokaPySparkDecoratedOperator)
    return operator


def decode(manifest: dict[str, Any]) -> dict[str, Any]:
    [argument] = manifest["spec"]["arguments"]
    payload: dict[str, Any] = runner.decode_payload(argument)
    return payload


# --- the function's source ------------------------------------------------------------------------


def test_the_driver_gets_the_def_alone_with_its_comments_and_the_dag_file_s_line() -> None:
    with DAG("unit", schedule=None, start_date=START) as dag:

        @moka_pyspark_task(
            executors={"instances": 1},  # a decorator over several lines
        )
        # a comment above the def
        def total(spark: Any, values: list[int], scale: float = 1.0) -> Any:
            # a comment inside
            return spark.createDataFrame([(v,) for v in values], ["v"]).count() * scale

        total([1, 2])

    operator = dag.get_task("total")
    assert isinstance(operator, MokaPySparkDecoratedOperator)
    source = operator.function.source
    assert source.startswith("def total(spark: Any, values: list[int], scale: float = 1.0) -> Any:\n")
    assert "moka_pyspark_task" not in source and "executors" not in source and "above the def" not in source
    assert "    # a comment inside\n" in source
    lines = Path(__file__).read_text().splitlines()
    assert lines[operator.function.line - 1].strip().startswith("def total(")
    assert operator.function.file == __file__


def uses_module_name(spark: Any) -> int:
    return SCALE * spark.range(2).count()


def default_from_module(spark: Any, scale: int = SCALE) -> int:
    return scale


def calls_a_helper(spark: Any) -> int:
    return uses_module_name(spark)


def imports_inside(spark: Any, paths: list[str]) -> int:
    import json as encoder

    from pyspark.sql import functions as F

    return len(encoder.dumps([F.lit(path) for path in sorted(paths)]))


async def coroutine(spark: Any) -> None:
    return None


def closure(spark: Any) -> Any:
    factor = 2

    def inner(spark: Any) -> int:
        return factor

    return inner


def with_other_decorator(function: Any) -> Any:
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return wrapper


@with_other_decorator
def wrapped(spark: Any) -> None:
    return None


def _without_source() -> Any:
    namespace: dict[str, Any] = {}
    exec("def from_exec(spark):\n    return 1\n", namespace)
    return namespace["from_exec"]


@pytest.mark.parametrize(
    ("function", "problem"),
    [
        (lambda spark: 1, "a lambda cannot be sent to the driver"),
        (closure(None), "uses variables of the function it is defined in (factor)"),
        (uses_module_name, "uses names from outside it, which the driver does not have: SCALE;"),
        (default_from_module, "names from outside it, which the driver does not have: SCALE;"),
        (calls_a_helper, "which the driver does not have: uses_module_name;"),
        (coroutine, "coroutine() is async"),
        (wrapped, "wrapped() has another decorator"),
        (_without_source(), "the source of from_exec() cannot be read"),
        (print, "'print' is not a function defined with def"),
    ],
    ids=["lambda", "closure", "global", "default", "helper", "async", "decorator", "no-source", "builtin"],
)
def test_a_function_the_driver_cannot_define_is_refused_when_the_dag_is_parsed(
    function: Any, problem: str
) -> None:
    with pytest.raises(MokaJobSpecError, match="python_callable") as error:
        function_source(function)
    assert problem in str(error.value)


def test_imports_inside_builtins_and_annotations_are_fine() -> None:
    assert function_source(imports_inside).name == "imports_inside"


def test_the_function_must_take_the_session_first() -> None:
    def no_parameters() -> int:
        return 1

    with pytest.raises(MokaJobSpecError, match="must take the SparkSession as its first parameter"):
        moka_pyspark_task(no_parameters)  # type: ignore[arg-type]


# --- the runner, as the driver runs it ------------------------------------------------------------


def _payload(source: str, *args: Any, line: int = 10, **kwargs: Any) -> dict[str, Any]:
    name = source.split("(", 1)[0].removeprefix("def ")
    return {
        "name": name,
        "source": source,
        "file": "/dags/team.py",
        "line": line,
        "args": args,
        "kwargs": kwargs,
    }


def test_the_payload_round_trips_compressed() -> None:
    payload = _payload("def f(spark, x):\n    return x\n" + "    # padding\n" * 200, [1, "two"], flag=True)
    argument = runner.encode_payload(payload)
    assert json.loads(json.dumps(runner.decode_payload(argument))) == json.loads(json.dumps(payload))
    assert len(argument) < len(json.dumps(payload)) / 4  # repetitive source compresses well


def test_the_function_gets_the_session_first_then_its_arguments() -> None:
    payload = _payload(
        "def f(spark, values, scale=1):\n    return [spark, sum(values) * scale]\n", [1, 2], scale=3
    )
    function = runner.load_function(payload)
    assert runner.call(function, "SESSION", payload) == {"return_value": ["SESSION", 9]}


def test_annotations_are_not_evaluated_in_the_driver() -> None:
    payload = _payload("def f(spark: SparkSession, rows: Frame) -> DataFrame:\n    return rows\n", 5)
    assert runner.call(runner.load_function(payload), None, payload) == {"return_value": 5}


def test_an_exception_is_reported_with_the_dag_file_s_lines() -> None:
    source = "def f(spark, table):\n    raise LookupError(f'no table {table}')\n"
    payload = _payload(source, "nowhere", line=40)
    report = runner.call(runner.load_function(payload), None, payload)
    error = report["error"]
    assert (
        error["stage"] == "call" and error["type"] == "LookupError" and error["message"] == "no table nowhere"
    )
    assert error["summary"] == "the function raised: LookupError: no table nowhere"
    assert 'File "/dags/team.py", line 41, in f' in error["traceback"]
    assert "raise LookupError(f'no table {table}')" in error["traceback"]  # the line, quoted


@pytest.mark.parametrize(("value", "why"), [({1, 2}, "Object of type set"), (float("nan"), "Out of range")])
def test_a_return_value_that_is_not_json_is_reported(value: Any, why: str) -> None:
    error = runner.return_report(value)["error"]
    assert error["stage"] == "return_value"
    assert error["summary"].startswith("the function's return value is not JSON: ")
    assert why in error["summary"]
    assert error["traceback"].startswith(error["type"])  # the error alone: no encoder frames


def test_moka_copies_the_runner_for_an_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from moka_provider.cli import main as moka

    target = tmp_path / "image" / "opt" / "moka" / "pyspark_function_runner.py"
    assert moka(["pyspark-function-runner", "--output", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    assert target.read_bytes() == PYSPARK_FUNCTION_RUNNER.path.read_bytes()


def test_the_report_line_is_found_among_other_lines() -> None:
    line = runner.report_line({"return_value": {"total": 55}})
    assert runner.read_report(line) == {"return_value": {"total": 55}}
    assert runner.read_report("26/12/07 INFO SparkContext: Running Spark version 4.0") is None
    assert runner.read_report(runner.REPORT_MARKER + "{not json") is None
    assert runner.read_report(runner.REPORT_MARKER + '{"other": 1}') is None


def test_the_runner_reports_a_function_it_cannot_load(capsys: pytest.CaptureFixture[str]) -> None:
    argument = runner.encode_payload(_payload("def f(spark):\n    return (\n"))
    assert runner.main([argument]) == 1  # before any SparkSession: no pyspark needed
    out, err = capsys.readouterr()
    report = runner.read_report(out.strip().splitlines()[-1])
    assert report["error"]["stage"] == "load" and report["error"]["type"] == "SyntaxError"
    assert "SyntaxError" in err  # the traceback, for the driver's log


def test_the_runner_wants_one_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main([]) == 2
    assert "usage" in capsys.readouterr().err


# --- the task: its SparkApplication ---------------------------------------------------------------


def word_count(spark: Any, lines: list[str], top: int = 3) -> Any:
    return spark.createDataFrame([(line,) for line in lines], ["line"]).limit(top).count()


def test_task_moka_pyspark_is_the_provider_s_registered_decorator() -> None:
    assert task.moka_pyspark is moka_pyspark_task


def test_the_application_is_the_runner_with_the_function_and_its_arguments() -> None:
    with DAG("unit", schedule=None, start_date=START) as dag:
        moka_pyspark_task(
            executors={"instances": 2, "cores": 1, "memory": "1g"},
            spark_conf={"spark.sql.shuffle.partitions": 4},
            yunikorn_queue="root.team",
        )(word_count)(["a b", "c"], top=1)
    operator = dag.get_task("word_count")
    assert isinstance(operator, MokaPySparkDecoratedOperator)

    manifest = operator.build_manifest(SETTINGS, {})

    spec = manifest["spec"]
    assert spec["mainApplicationFile"] == RUNNER and spec["type"] == "Python"
    assert spec["executor"]["instances"] == 2 and spec["sparkConf"]["spark.sql.shuffle.partitions"] == "4"
    assert spec["batchSchedulerOptions"]["queue"] == "root.team"
    payload = decode(manifest)
    assert payload["name"] == "word_count" and payload["source"].startswith("def word_count(spark: Any")
    assert payload["args"] == [["a b", "c"]] and payload["kwargs"] == {"top": 1}
    assert not {"application", "arguments", "main_class"} & set(operator.template_fields)
    assert {"op_args", "op_kwargs", "driver", "executors", "spark_conf"} <= set(operator.template_fields)


def test_arguments_must_be_json_and_are_named() -> None:
    operator = decorated(word_count, ["x"], top=datetime.date(2024, 1, 1))
    with pytest.raises(MokaJobSpecError, match=r"argument 'top'.*gets its arguments as JSON.*date"):
        operator.build_manifest(SETTINGS, {})


def test_the_payload_must_fit_one_command_line_argument() -> None:
    incompressible = os.urandom(MAX_PAYLOAD_BYTES).hex()
    with pytest.raises(MokaJobSpecError, match="over Linux's limit of 131072 for one argument"):
        decorated(word_count, [incompressible]).build_manifest(SETTINGS, {})


def test_the_connection_must_say_where_the_runner_is() -> None:
    without = MokaSettings(images=SETTINGS.images, versions=SETTINGS.versions)
    with pytest.raises(MokaJobSpecError, match="set its pyspark_function_runner"):
        decorated(word_count, ["x"]).build_manifest(without, {})


@pytest.mark.parametrize("argument", ["application", "arguments", "main_class", "application_type"])
def test_the_runner_s_arguments_are_not_the_task_s(argument: str) -> None:
    with (
        DAG("unit", schedule=None, start_date=START),
        pytest.raises(MokaJobSpecError, match=f"argument '{argument}'.*it is the application"),
    ):
        cast(Any, moka_pyspark_task)(**{argument: "x"})(word_count)(["x"])


# --- the task: its result and its errors -----------------------------------------------------------


class RecordingTaskInstance:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_the_return_value_is_read_from_the_driver_log_and_the_job_kept_under_moka_job() -> None:
    operator = decorated(word_count, ["x"])
    ti = RecordingTaskInstance()
    operator.show_log_line(
        "wc-driver", runner.report_line({"return_value": {"stale": True}})
    )  # an earlier attempt
    operator.show_log_line("wc-driver", "26/12/07 INFO SparkContext: Successfully stopped SparkContext")
    operator.show_log_line("wc-driver", runner.report_line({"return_value": {"words": 3}}))

    result = operator._function_result(cast(Any, {"ti": ti}), {"name": "wc-1", "state": "COMPLETED"})

    assert result == {"words": 3}
    assert ti.pushed == {"moka_job": {"name": "wc-1", "state": "COMPLETED"}}


def test_a_job_without_a_report_line_fails_the_task() -> None:
    operator = decorated(word_count, ["x"])
    with pytest.raises(AirflowException, match="no report line from the runner"):
        operator._function_result(cast(Any, {"ti": RecordingTaskInstance()}), {"state": "COMPLETED"})


def test_a_driver_exception_is_the_task_s_error_with_its_traceback() -> None:
    operator = decorated(word_count, ["x"])
    payload = _payload("def f(spark):\n    raise LookupError('no table nowhere')\n")
    operator.show_log_line(
        "wc-driver", runner.report_line(runner.call(runner.load_function(payload), None, payload))
    )

    tail = "\nlast 1 lines of the log (pod wc-driver):\n  | LookupError: no table nowhere"
    failed = f"SparkApplication moka/wc-1 failed (FAILED): driver exited with code 1{tail}"

    with pytest.raises(MokaJobFailed) as raised, operator._function_failure():
        raise MokaJobFailed(failed, verdict="failed", state="FAILED", log_tail=tail)

    message = str(raised.value)
    assert message.startswith("word_count(): the function raised: LookupError: no table nowhere\n")
    assert "Traceback (most recent call last)" in message and "line 11, in f" in message
    assert message.endswith("\nSparkApplication moka/wc-1 failed (FAILED): driver exited with code 1")
    assert raised.value.verdict == "failed" and raised.value.log_tail == tail  # the tail kept apart


def test_a_failed_job_without_a_report_keeps_its_own_error() -> None:
    operator = decorated(word_count, ["x"])
    original = MokaJobFailed(
        "did not start within start_timeout=5s", verdict="start_timeout", state="SUBMITTED"
    )
    with pytest.raises(MokaJobFailed) as raised, operator._function_failure():
        raise original
    assert raised.value is original


def test_the_example_and_test_dags_parse_and_serialise() -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    for path in (
        REPO / "dags_examples" / "moka_pyspark_wordcount.py",
        REPO / "tests" / "integration" / "dags" / "moka_pyspark_cases.py",
    ):
        bag = DagBag(str(path))
        assert bag.import_errors == {}
        [dag] = [dag for dag in bag.dags.values() if dag.fileloc == str(path)]  # Airflow 3.2: examples too
        for task_id, operator in dag.task_dict.items():
            if isinstance(operator, MokaPySparkDecoratedOperator):
                assert operator.function.name == task_id
                again = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task(task_id)
                assert again.task_type == "MokaPySparkDecoratedOperator"


def test_a_mapped_task_unmaps_to_the_decorated_operator() -> None:
    with DAG("unit", schedule=None, start_date=START) as dag:
        moka_pyspark_task(word_count).partial(top=2).expand(lines=[["a"], ["b c"]])

    operator = dag.get_task("word_count").unmap({"op_kwargs": {"lines": ["b c"]}})

    assert isinstance(operator, MokaPySparkDecoratedOperator)
    assert decode(operator.build_manifest(SETTINGS, {}))["kwargs"] == {"top": 2, "lines": ["b c"]}
