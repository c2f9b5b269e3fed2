"""The tasks that wait for a trace's jobs: the engine's real operator (in a worker, deferred) and
``MokaJobSensor``; used by the conformance DAG and, for the sensor's job, by the trace player."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moka_provider.engines.registry import adapter_for
from moka_provider.local.controllers.base import LEFT_ALONE_LABEL
from moka_provider.operators.flink import MokaFlinkOperator
from moka_provider.operators.job import MokaJobOperator
from moka_provider.operators.ray import MokaRayOperator
from moka_provider.operators.spark import MokaSparkOperator
from moka_provider.sensors.job import MokaJobSensor
from moka_provider.settings import MokaSettings
from tests.conformance.traces import TRACE_LABEL, Trace

#: No trace needs longer; a provider that waits past it fails the trace rather than hanging.
TASK_TIMEOUT_SECONDS = 600
#: The Airflow pool of the traces' tasks, so that they leave worker slots to other tests' tasks.
POOL = "moka_conformance"
POOL_SLOTS = 8
#: Never run: the player writes what the operator would. Any path the operator accepts.
_PROGRAM = str(Path(__file__).resolve().parent / "never_run.py")

_JOB_ARGUMENTS: dict[str, tuple[type[MokaJobOperator], dict[str, Any]]] = {
    "spark": (
        MokaSparkOperator,
        {
            "application": f"local://{_PROGRAM}",
            "driver": {"cores": 1, "memory": "512m"},
            "executors": {"instances": 1, "cores": 1, "memory": "512m"},
        },
    ),
    "flink": (MokaFlinkOperator, {"python_file": _PROGRAM, "parallelism": 1}),
    "ray": (MokaRayOperator, {"entrypoint": f"python {_PROGRAM}", "head": {"cpu": 1, "memory": "1Gi"}}),
}


def job_operator(trace: Trace, task_id: str, *, deferrable: bool) -> MokaJobOperator:
    """The engine's operator for ``trace``, its job labelled for the player and left alone by
    `moka local`'s controllers."""
    engine = "flink" if trace.engine == "flink_session" else trace.engine
    operator, arguments = _JOB_ARGUMENTS[engine]
    resource = adapter_for(trace.engine).resource
    extra: dict[str, Any] = dict(trace.operator_args)
    spec = dict(trace.spec)
    if trace.engine == "flink_session":
        extra["session_cluster"] = spec.pop("deploymentName")
    return operator(
        task_id=task_id,
        application_file={
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "metadata": {"labels": {LEFT_ALONE_LABEL: "off", TRACE_LABEL: trace.key}},
        },
        spec_overrides=spec or None,
        deferrable=deferrable,
        timeout=TASK_TIMEOUT_SECONDS,
        retries=0,
        pool=POOL,
        **arguments,
        **extra,
    )


def sensor(trace: Trace, task_id: str) -> MokaJobSensor:
    """``MokaJobSensor`` (deferred) on the job the player creates for ``trace``."""
    grace = trace.operator_args.get("error_grace")
    return MokaJobSensor(
        task_id=task_id,
        engine=trace.engine,
        job_name=trace.sensor_job_name,
        deferrable=True,
        poke_interval=2,
        timeout=TASK_TIMEOUT_SECONDS,
        retries=0,
        pool=POOL,
        **({"error_grace": grace} if grace is not None else {}),
    )


def sensor_job_manifest(trace: Trace, settings: MokaSettings) -> dict[str, Any]:
    """The job for the sensor to watch, built by the engine's operator as it builds its own."""
    operator = job_operator(trace, "sensor_job", deferrable=False)
    return operator.build_manifest(settings, {})  # an empty context: no template to render
