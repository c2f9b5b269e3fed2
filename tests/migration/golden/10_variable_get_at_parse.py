"""Inventory snapshot: queue and sizing come from Airflow Variables (read when the file is parsed)."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.sdk import Variable

SPARK_QUEUE = Variable.get("inventory_spark_queue", default="supply-chain")
SIZING = Variable.get(
    "inventory_spark_sizing",
    deserialize_json=True,
    default={"executor_memory": "4g", "num_executors": 6},
)

with DAG(
    "monarch_10_inventory_snapshot",
    start_date=datetime(2023, 1, 1),
    schedule="15 0 * * *",
    catchup=False,
) as dag:
    snapshot = MonarchSparkSubmitOperator(
        task_id="snapshot",
        application="hdfs://monarch-nn/apps/supply/inventory_snapshot.py",
        conf={"spark.yarn.queue": SPARK_QUEUE, "spark.yarn.maxAppAttempts": "2"},
        executor_memory=SIZING["executor_memory"],
        num_executors=SIZING["num_executors"],
        application_args=["--date", "{{ ds }}"],
    )
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    reconcile = MokaSparkOperator(
        task_id="reconcile",
        application="s3a://moka-artifacts/apps/supply/reconcile.py",
        arguments=[
            "--date",
            "{{ ds }}",
            "--threshold",
            "{{ var.value.get('inventory_threshold', '0.02') }}",
        ],
        yunikorn_queue="supply-chain",
    )
    snapshot >> reconcile
