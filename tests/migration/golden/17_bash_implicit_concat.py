"""Logistics ETA model scoring; the command is split over several string literals."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

with DAG(
    "monarch_17_eta_scoring",
    start_date=datetime(2022, 8, 1),
    schedule="0 */6 * * *",
    catchup=False,
) as dag:
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    score = MokaSparkOperator(
        task_id="score_eta",
        application="s3a://moka-artifacts/apps/logistics/score_eta.py",
        arguments=["--ts", "{{ ts_nodash }}", "--config", "eta.conf"],
        spark_conf={
            "spark.kubernetes.driverEnv.MODEL_VERSION": "2024-02",
            "spark.executorEnv.MODEL_VERSION": "2024-02",
        },
        dynamic_allocation={"max_executors": 24, "shuffle_tracking_enabled": True},
        spark_deps={
            "files": ["s3a://moka-artifacts/apps/logistics/eta.conf#eta.conf"],
            "py_files": ["s3a://moka-artifacts/apps/logistics/eta_model.zip"],
        },
        yunikorn_queue="logistics",
    )
