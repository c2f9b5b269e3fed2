"""DAGs of the deployment tests, next to the example DAGs (``dags_examples/``) in the same Airflow.

- ``moka_deploy_ray_job_deferred``: the Ray example's job, deferred (the example waits in the worker).
- ``moka_deploy_spark_slow``: a deferred PySpark job whose driver sleeps ``params.seconds`` first,
  so a test (and a browser) sees it RUNNING; a later try of the task (after a clear) sleeps
  ``params.seconds_later``.
- ``moka_deploy_spark_retry``: the same job waited for in the worker, with one retry, for the
  worker-crash test.
- ``moka_deploy_spark_quiet``: two Spark jobs, one waited for in the worker and one deferred, whose
  statuses a test writes (the local controllers leave them alone): RUNNING, unchanged, for longer
  than every client-side timeout of the Kubernetes clients, then COMPLETED.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from moka_provider.local.controllers.base import LEFT_ALONE_LABEL
from moka_provider.operators.ray import MokaRayOperator
from moka_provider.operators.spark import MokaSparkOperator

WORKLOADS = Path(__file__).resolve().parents[3] / "dags_examples" / "workloads"
SPARK: dict[str, Any] = {
    "application": f"local://{WORKLOADS / 'pyspark_pi.py'}",
    "driver": {"cores": 1, "memory": "512m"},
    "executors": {"instances": 1, "cores": 1, "memory": "512m"},
    "start_timeout": 300,
}

with DAG("moka_deploy_ray_job_deferred", schedule=None, catchup=False, tags=["moka", "test"]):
    MokaRayOperator(
        task_id="sum_squares",
        entrypoint=f"python {WORKLOADS / 'ray_job.py'} 4",
        head={"cpu": 1, "memory": "2Gi"},
        deferrable=True,
        start_timeout=300,
    )

with DAG(
    "moka_deploy_spark_slow",
    schedule=None,
    catchup=False,
    tags=["moka", "test"],
    params={"seconds": 60, "seconds_later": 1},
):
    MokaSparkOperator(
        task_id="spark_slow",
        arguments=["2", "--sleep", "{{ params.seconds if ti.try_number == 1 else params.seconds_later }}"],
        deferrable=True,
        **SPARK,
    )

with DAG(
    "moka_deploy_spark_retry",
    schedule=None,
    catchup=False,
    tags=["moka", "test"],
    params={"seconds": 40},
):
    MokaSparkOperator(
        task_id="spark_retry",
        arguments=["2", "--sleep", "{{ params.seconds }}"],
        deferrable=False,
        retries=1,
        retry_delay=timedelta(seconds=2),
        **SPARK,
    )

with DAG("moka_deploy_spark_quiet", schedule=None, catchup=False, tags=["moka", "test"]):
    for task_id, deferrable in (("in_worker", False), ("deferred", True)):
        MokaSparkOperator(
            task_id=task_id,
            application_file={
                "apiVersion": "sparkoperator.k8s.io/v1beta2",
                "kind": "SparkApplication",
                "metadata": {"labels": {LEFT_ALONE_LABEL: "off"}},
            },
            deferrable=deferrable,
            **SPARK,
        )
