"""DAGs the MokaSparkOperator integration tests run with ``airflow dags test``.

One DAG per case; each ends with a task printing the Moka task's XCom (result and link URLs) as a
``MOKA_XCOM=`` JSON line for the test to read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from moka_provider.operators.spark import MokaSparkOperator

WORKLOADS = Path(__file__).resolve().parents[1] / "workloads"
PI = Path(__file__).resolve().parents[3] / "dags_examples" / "workloads" / "pyspark_pi.py"
SCRIPT = f"local://{WORKLOADS / 'script.py'}"
LINK_KEYS = ("_link_MokaUILink", "_link_SparkUILink", "_link_JobLogLink")


def report(task_id: str) -> Any:
    @task(task_id=f"report_{task_id}")
    def _report(ti: Any = None) -> None:
        values = {key: ti.xcom_pull(task_ids=task_id, key=key) for key in LINK_KEYS}
        values["result"] = ti.xcom_pull(task_ids=task_id)
        print("MOKA_XCOM=" + json.dumps(values, default=str))

    return _report()


def spark_dag(dag_id: str, operator: type[MokaSparkOperator] = MokaSparkOperator, **kwargs: Any) -> DAG:
    with DAG(dag_id, schedule=None, catchup=False, params={"partitions": 3, "message": "hello"}) as dag:
        job = operator(task_id="job", driver={"cores": 1, "memory": "512m"}, **kwargs)
        job >> report("job")
    return dag


spark_dag(
    "moka_spark_pi_sync",
    application=f"local://{PI}",
    arguments=["{{ params.partitions }}"],
    executors={"instances": 1, "cores": 2, "memory": "512m"},
)
spark_dag(
    "moka_spark_pi_deferred",
    application=f"local://{PI}",
    arguments=["{{ params.partitions }}"],
    executors={"instances": 1, "cores": 2, "memory": "512m"},
    deferrable=True,
)
spark_dag(
    "moka_spark_slow_sync",
    application=SCRIPT,
    arguments=["slow", os.environ.get("MOKA_SLOW_SECONDS", "25"), "0"],
)
spark_dag(
    "moka_spark_slow_nondurable",
    application=SCRIPT,
    arguments=["slow", os.environ.get("MOKA_SLOW_SECONDS", "25"), "0"],
    durable=False,
)

with DAG("moka_spark_mapped", schedule=None, catchup=False) as mapped:
    MokaSparkOperator.partial(
        task_id="job", application=SCRIPT, driver={"cores": 1, "memory": "512m"}
    ).expand(arguments=[["first", "0", "0"], ["second", "0", "0"]])
