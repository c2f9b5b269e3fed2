"""``@task.moka_pyspark``: a Python function run as the driver of a SparkApplication on Moka.

::

    @task.moka_pyspark(executors={"instances": 2, "cores": 1, "memory": "2g"})
    def count_words(spark, path: str) -> int:
        return spark.read.text(path).count()

The function gets a SparkSession first; its other arguments are the task's (from XCom, rendered
templates), and must be JSON. It runs in the driver through a small program shipped with the
provider, ``pyspark_function_runner.py`` (``moka_provider/data/spark/``; ``moka
pyspark-function-runner`` prints its path or copies it), which must be where the driver can read
it: the ``moka`` connection's ``pyspark_function_runner`` (``local://`` in Moka's Spark image, or
``s3a://``; ``moka local`` sets it). The function travels as source, not as a pickle, so the
worker's and the image's Python versions need not match: its ``def`` and JSON arguments go,
compressed, in the application's one argument, which Linux limits to 128 KiB (``MAX_ARG_STRLEN``);
the size is checked before submission. (The kubeflow spark-operator runs spark-submit as a process
with ``spec.arguments`` as the application's arguments: ``internal/controller/sparkapplication/
submission.go``, ``exec.Command`` and ``applicationOption``; Spark passes them on to the driver's
command line.)

The runner prints the return value (JSON) on one marked line of the driver's log; the task reads
it from the log it copies into the task log and returns it (XCom ``return_value``; with
``multiple_outputs``, a dict's keys too). The job's own result (name, links, cost, ...), which
MokaSparkOperator returns, is pushed under the XCom key ``moka_job``. An exception in the
function, or a return value that is not JSON, fails the job and the task, with the exception's
type, message and traceback in the task's error. Every MokaSparkOperator argument but
``application``, ``main_class``, ``application_type`` and ``arguments`` (the runner's) applies.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, overload

from airflow.providers.common.compat.sdk import DecoratedOperator, TaskDecorator, task_decorator_factory
from airflow.sdk.exceptions import AirflowException

from moka_provider.data import PYSPARK_FUNCTION_RUNNER
from moka_provider.decorators.function_source import function_source
from moka_provider.exceptions import MokaJobFailed, MokaJobSpecError
from moka_provider.operators.spark import MokaSparkOperator, runner_location

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.bases.decorator import Task

    from moka_provider.settings import MokaSettings

#: Linux's limit on one command-line argument (``MAX_ARG_STRLEN``: 32 pages of 4 KiB, with the
#: terminating NUL): the driver's command line carries the payload.
MAX_PAYLOAD_BYTES = 128 * 1024 - 1
#: The XCom key of the job's result (what MokaSparkOperator returns).
JOB_XCOM_KEY = "moka_job"
#: MokaSparkOperator arguments the runner takes: the function is the application.
_RUNNER_ARGUMENTS = ("application", "main_class", "application_type", "arguments")


@functools.cache
def _runner() -> Any:
    """The runner program, loaded as a module: the payload's encoding and the report line are
    written there, once, for the driver and the worker."""
    spec = importlib.util.spec_from_file_location(
        "moka_pyspark_function_runner", PYSPARK_FUNCTION_RUNNER.path
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MokaPySparkDecoratedOperator(DecoratedOperator, MokaSparkOperator):
    """The operator ``@task.moka_pyspark`` makes (see the module's documentation)."""

    custom_operator_name = "@task.moka_pyspark"
    template_fields: Sequence[str] = tuple(
        field
        for field in ("op_args", "op_kwargs", *MokaSparkOperator.template_fields)
        if field not in _RUNNER_ARGUMENTS
    )
    template_fields_renderers = {
        **DecoratedOperator.template_fields_renderers,
        **MokaSparkOperator.template_fields_renderers,
    }
    shallow_copy_attrs: Sequence[str] = ("python_callable",)

    def __init__(self, *, python_callable: Callable[..., Any], **kwargs: Any) -> None:
        for name in _RUNNER_ARGUMENTS:
            if kwargs.get(name) is not None:
                raise MokaJobSpecError(
                    name, "@task.moka_pyspark runs the decorated function: it is the application"
                )
        #: what the driver is sent of the function (checked now, when the DAG is parsed)
        self.function = function_source(python_callable.__wrapped__)  # type: ignore[attr-defined]
        super().__init__(python_callable=python_callable, **kwargs)
        self._report: dict[str, Any] | None = None  # the runner's report line, once seen

    def build_manifest(self, settings: MokaSettings, context: Context) -> dict[str, Any]:
        """MokaSparkOperator's SparkApplication, running the runner with the function's payload."""
        self.application = runner_location(settings, PYSPARK_FUNCTION_RUNNER, self.moka_conn_id)
        self.arguments = [self._payload()]
        return super().build_manifest(settings, context)

    def _payload(self) -> str:
        """The runner's argument: the function's source and its (rendered) arguments, checked."""
        name = self.function.name
        original = self.python_callable.__wrapped__  # type: ignore[attr-defined]
        try:
            bound = inspect.signature(original).bind(None, *self.op_args, **self.op_kwargs)
        except TypeError as error:
            raise MokaJobSpecError(
                "op_args", f"{name}(spark, ...) cannot take these arguments: {error}"
            ) from None
        for parameter, value in list(bound.arguments.items())[1:]:
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as error:
                raise MokaJobSpecError(
                    parameter, f"{name}() gets its arguments as JSON, and this one is not: {error}"
                ) from None
        payload: str = _runner().encode_payload(
            {
                "name": name,
                "source": self.function.source,
                "file": self.function.file,
                "line": self.function.line,
                "args": list(self.op_args),
                "kwargs": dict(self.op_kwargs),
            }
        )
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise MokaJobSpecError(
                "op_args",
                f"{name}()'s source and arguments take {len(payload)} bytes compressed, over Linux's "
                f"limit of {MAX_PAYLOAD_BYTES + 1} for one argument of the driver's command line: "
                "pass large data through storage (a path), not as an argument",
            )
        return payload

    # -- the result -------------------------------------------------------------------------------

    def show_log_line(self, pod: str, line: str) -> None:
        """Copy the line to the task log; the runner's report line is also kept (the last one wins:
        the current attempt's)."""
        super().show_log_line(pod, line)
        report = _runner().read_report(line)
        if report is not None:
            self._report = report

    def execute(self, context: Context) -> Any:
        with self._function_failure():
            job = super().execute(context)
        return self._function_result(context, job)

    def execute_complete(self, context: Context, event: Any, first_phase: str | None = None) -> Any:
        with self._function_failure():
            job = super().execute_complete(context, event, first_phase)
        return self._function_result(context, job)

    @contextlib.contextmanager
    def _function_failure(self) -> Iterator[None]:
        """A failed job whose runner reported an error fails the task with that error and its
        traceback first, then the job's own failure (without the log's tail, shown above it)."""
        try:
            yield
        except MokaJobFailed as failure:
            error = (self._report or {}).get("error")
            if error is None:
                raise
            raise MokaJobFailed(
                f"{self.function.name}(): {error['summary']}\n{error['traceback']}"
                f"{str(failure).removesuffix(failure.log_tail)}",
                verdict=failure.verdict,
                state=failure.state,
                job_message=failure.job_message,
                log_tail=failure.log_tail,
            ) from failure

    def _function_result(self, context: Context, job: dict[str, Any]) -> Any:
        """The function's return value, from the runner's report; the job's result under ``moka_job``."""
        if self.do_xcom_push:
            context["ti"].xcom_push(key=JOB_XCOM_KEY, value=job)
        report = self._report or {}
        if "return_value" not in report:
            raise AirflowException(
                f"{self.function.name}(): the job succeeded, but its driver's log has no report line "
                "from the runner with the return value (was the log readable? see above)"
            )
        return report["return_value"]


def _session_first(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as the task sees it: without its first parameter, the SparkSession the runner
    passes. Calling it calls ``function`` (with the session first)."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not parameters or parameters[0].kind not in positional:
        raise MokaJobSpecError(
            "python_callable",
            f"@task.moka_pyspark: {getattr(function, '__name__', function)}() must take the "
            "SparkSession as its first parameter",
        )

    @functools.wraps(function)
    def task_callable(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    task_callable.__signature__ = signature.replace(parameters=parameters[1:])  # type: ignore[attr-defined]
    return task_callable


FParams = ParamSpec("FParams")
FReturn = TypeVar("FReturn")


@overload
def moka_pyspark_task(
    python_callable: Callable[Concatenate[Any, FParams], FReturn],
) -> Task[FParams, FReturn]: ...


@overload
def moka_pyspark_task(
    python_callable: None = None, multiple_outputs: bool | None = None, **kwargs: Any
) -> Callable[[Callable[Concatenate[Any, FParams], FReturn]], Task[FParams, FReturn]]: ...


def moka_pyspark_task(
    python_callable: Callable[..., Any] | None = None,
    multiple_outputs: bool | None = None,
    **kwargs: Any,
) -> Any:
    """``@task.moka_pyspark``: run the decorated function as a Spark driver on Moka.

    Takes MokaSparkOperator's arguments (``driver``, ``executors``, ``spark_conf``,
    ``yunikorn_queue``, ``deferrable``, ...) and ``multiple_outputs``, like every TaskFlow
    decorator. Imported and used as ``@moka_pyspark_task(...)``, its types also tell a type
    checker that the task is called without the session (``task.moka_pyspark`` is typed by
    Airflow as any provider's decorator: with the function's own parameters).
    """

    def decorate(function: Callable[..., Any]) -> TaskDecorator:
        return task_decorator_factory(
            python_callable=_session_first(function),
            multiple_outputs=multiple_outputs,
            decorated_operator_class=MokaPySparkDecoratedOperator,
            **kwargs,
        )

    if python_callable is not None:
        return decorate(python_callable)
    return decorate
