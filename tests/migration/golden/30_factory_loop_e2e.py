"""Warehouse snapshots: a helper builds the Spark task of each warehouse, called in a loop."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG

APP = "hdfs://monarch-nn/apps/etl/monarch_job.py"
SNAPSHOT_CONF = {
    "spark.yarn.queue": "supply-chain",
    "spark.yarn.executor.memoryOverhead": "384",
    "spark.sql.shuffle.partitions": "3",
}


def snapshot_task(warehouse, dag):
    return MonarchSparkSubmitOperator(
        task_id=f"snapshot_{warehouse}",
        dag=dag,
        application=APP,
        conf=SNAPSHOT_CONF,
        num_executors=1,
        executor_cores=1,
        executor_memory="512m",
        application_args=[
            f"snapshot_{warehouse}",
            "{{ ds }}",
            f"hdfs://monarch-nn/data/supply/{warehouse}/dt={{{{ ds }}}}",
        ],
    )


dag = DAG(
    "monarch_30_warehouse_snapshots",
    start_date=datetime(2023, 6, 1),
    schedule="0 0 * * *",
    catchup=False,
)

previous = None
for name in ["north", "south"]:
    current = snapshot_task(name, dag)
    if previous is not None:
        previous >> current
    previous = current
