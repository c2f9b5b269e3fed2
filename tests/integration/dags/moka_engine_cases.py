"""DAGs of the engine-neutral lifecycle tests: the same cases for Spark, Flink and Ray.

Every case runs the same driver program (``workloads/script.py``; for Flink ``flink_script.py``,
which first runs a tiny batch job) with a message, a number of seconds to wait and an exit code,
through the engine's operator. ``report_job`` prints a task's XCom as a ``MOKA_XCOM=`` line.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from moka_provider.operators.flink import MokaFlinkOperator
from moka_provider.operators.job import MokaJobOperator
from moka_provider.operators.ray import MokaRayOperator
from moka_provider.operators.spark import MokaSparkOperator
from moka_provider.sensors.job import MokaJobSensor

WORKLOADS = Path(__file__).resolve().parents[1] / "workloads"
SLOW = os.environ.get("MOKA_SLOW_SECONDS", "25")


def spark_job(message: str, seconds: str, code: str) -> dict[str, Any]:
    return {
        "application": f"local://{WORKLOADS / 'script.py'}",
        "arguments": [message, seconds, code],
        "driver": {"cores": 1, "memory": "512m"},
        "executors": {"instances": 1, "cores": 1, "memory": "512m"},
    }


def flink_job(message: str, seconds: str, code: str) -> dict[str, Any]:
    return {
        "python_file": str(WORKLOADS / "flink_script.py"),
        "args": [message, seconds, code],
        "parallelism": 1,
    }


def ray_job(message: str, seconds: str, code: str) -> dict[str, Any]:
    return {
        "entrypoint": f"python {WORKLOADS / 'script.py'} {message} {seconds} {code}",
        "head": {"cpu": 1, "memory": "1Gi"},
    }


ENGINES: dict[str, tuple[type[MokaJobOperator], Callable[[str, str, str], dict[str, Any]]]] = {
    "spark": (MokaSparkOperator, spark_job),
    "flink": (MokaFlinkOperator, flink_job),
    "ray": (MokaRayOperator, ray_job),
}


def archive_only(operator: type[MokaJobOperator]) -> type[MokaJobOperator]:
    """The operator, except that its job (and so its pod) is removed before it concludes, as a TTL
    would: the log must then come from the log archive."""

    class ConcludeAfterDeletion(operator):  # type: ignore[valid-type, misc]
        def _conclude(self, context: Any, outcome: Any) -> dict[str, Any]:
            metadata = outcome.job["metadata"]
            self.hook.delete(self.adapter.resource, metadata["name"], metadata["namespace"], missing_ok=True)
            pods = self.adapter.log_pods(outcome.job)
            for _ in range(120):
                if not pods or not self.hook.list_pods(pods.selector, metadata["namespace"]):
                    break
                time.sleep(0.5)
            return super()._conclude(context, outcome)

    return ConcludeAfterDeletion


def report_job(task_id: str) -> Any:
    """A task printing the XCom of the Moka task ``task_id`` (its result and link URLs)."""

    @task(task_id=f"report_{task_id}")
    def report(ti: Any = None) -> None:
        keys = [key for key in ti.task.dag.get_task(task_id).operator_extra_links]
        values = {link.xcom_key: ti.xcom_pull(task_ids=task_id, key=link.xcom_key) for link in keys}
        values["task"], values["result"] = task_id, ti.xcom_pull(task_ids=task_id)
        print("MOKA_XCOM=" + json.dumps(values, default=str))

    return report()


def case(dag_id: str, operator: type[Any], **kwargs: Any) -> None:
    with DAG(dag_id, schedule=None, catchup=False, params={"message": "hello"}):
        operator(task_id="job", **kwargs) >> report_job("job")


# Success and failure, in the worker and deferred: four independent tasks of one run per engine.
for engine, (operator, job) in ENGINES.items():
    with DAG(f"moka_{engine}_outcomes", schedule=None, catchup=False, params={"message": "hello"}):
        for mode, deferrable in (("sync", False), ("deferred", True)):
            ok = operator(
                task_id=f"ok_{mode}",
                deferrable=deferrable,
                **job(f"{{{{ params.message }}}}-{mode}", "0", "0"),
            )
            ok >> report_job(f"ok_{mode}")
            operator(task_id=f"fail_{mode}", deferrable=deferrable, **job(f"doomed-{mode}", "0", "3"))

# What does not depend on the engine (adoption, kill, deadlines, the log archive, the sensor, mapped
# tasks) runs once, with Spark: the lifecycle is one code path over the engine adapters.
SPARK, spark_job_args = ENGINES["spark"]
case("moka_spark_slow", SPARK, **spark_job_args("slow", SLOW, "0"))
case("moka_spark_slow_nondurable", SPARK, durable=False, **spark_job_args("slow", SLOW, "0"))
case("moka_spark_start_timeout", SPARK, start_timeout=6, **spark_job_args("never", "0", "0"))
case("moka_spark_archived_log", archive_only(SPARK), deferrable=True, **spark_job_args("archived", "0", "0"))
for mode, deferrable in (("sync", False), ("deferred", True)):
    case(
        f"moka_spark_sensor_{mode}",
        MokaJobSensor,
        engine="spark",
        job_name="{{ dag_run.conf['job'] }}",
        poke_interval=2,
        timeout=300,
        deferrable=deferrable,
    )
case(
    "moka_spark_sensor_labels",
    MokaJobSensor,
    engine="spark",
    label_selector="{{ dag_run.conf['labels'] }}",
    poke_interval=2,
    timeout=300,
    deferrable=True,
)
with DAG("moka_spark_mapped", schedule=None, catchup=False):
    unmapped = {key: value for key, value in spark_job_args("", "0", "0").items() if key != "arguments"}
    MokaSparkOperator.partial(task_id="job", **unmapped).expand(
        arguments=[["first", "0", "0"], ["second", "0", "0"]]
    )
