"""Run a real PySpark job on Moka with MokaSparkOperator: the README's demo.

``spark_pi`` submits ``workloads/pyspark_pi.py`` as a SparkApplication and waits for it in the
triggerer (``deferrable=True``); its driver log lands in the task log, its links (Moka UI, Spark
UI / History Server, log archive, as far as the ``moka`` connection has templates for them) on the
task in the Airflow UI, and its facts in XCom, which ``show_result`` prints. On `moka local` the
job runs with pyspark on this machine: the ``local://`` path is where the driver runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from moka_provider.operators.spark import MokaSparkOperator

WORKLOAD = Path(__file__).resolve().parent / "workloads" / "pyspark_pi.py"

with DAG(
    "moka_spark_pi",
    schedule=None,
    catchup=False,
    tags=["moka", "example", "spark"],
    params={"partitions": 4},
):
    spark_pi = MokaSparkOperator(
        task_id="spark_pi",
        application=f"local://{WORKLOAD}",
        arguments=["{{ params.partitions }}"],
        spark_conf={"spark.sql.shuffle.partitions": 4},
        driver={"cores": 1, "memory": "512m"},
        executors={"instances": 2, "cores": 1, "memory": "512m"},
        deferrable=True,
        start_timeout=300,
    )

    @task
    def show_result(result: Any) -> None:
        print(f"{result['kind']} {result['namespace']}/{result['name']}: {result['state']}")
        print(f"spark application id: {result['spark_application_id']}, took {result['duration_seconds']} s")
        for button, url in result["links"].items():
            print(f"link {button}: {url or '(no template on the moka connection)'}")

    show_result(spark_pi.output)
