# Airflow types task.<a provider's decorator> with the function's own parameters, the session too:
# mypy: disable-error-code="call-arg, arg-type, misc"
"""The DAG of the ``@task.moka_pyspark`` tests: one run, three real Spark jobs.

``numbers`` (an ordinary task) feeds ``squares`` through XCom; ``squares`` uses its SparkSession,
prints, and returns JSON that ``consume`` prints as a ``PYSPARK_RESULT=`` line with the job's
XCom. ``raises`` (deferred) raises in the driver; ``not_json`` returns a DataFrame.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import DAG, task

SMALL: dict[str, Any] = {
    "driver": {"cores": 1, "memory": "512m"},
    "executors": {"instances": 1, "cores": 1, "memory": "512m"},
}

with DAG("moka_pyspark_taskflow", schedule=None, catchup=False, params={"n": 5}):

    @task
    def numbers(n: str) -> list[int]:
        return list(range(1, int(n) + 1))

    @task.moka_pyspark(spark_conf={"spark.sql.shuffle.partitions": 2}, **SMALL)
    def squares(spark, values: list[int], label: str) -> Any:
        print(f"driver says: {label}")
        frame = spark.createDataFrame([(value,) for value in values], ["value"])
        total = frame.selectExpr("sum(value * value) AS total").first()["total"]
        return {"label": label, "total": total, "partitions": spark.conf.get("spark.sql.shuffle.partitions")}

    @task
    def consume(result: dict[str, Any], ti: Any = None) -> None:
        job = ti.xcom_pull(task_ids="squares", key="moka_job")
        print("PYSPARK_RESULT=" + json.dumps({"result": result, "job": job}, default=str))

    consume(squares(numbers("{{ params.n }}"), label="sq-{{ ds_nodash }}"))

    @task.moka_pyspark(deferrable=True, **SMALL)
    def raises(spark, table: str) -> None:
        raise LookupError(f"no table {table}")

    @task.moka_pyspark(**SMALL)
    def not_json(spark) -> Any:
        return spark.range(3)

    raises("nowhere")
    not_json()
