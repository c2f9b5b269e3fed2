"""Audience scores with the team's own SparkSubmitOperator wrapper (its source is in team_airflow/)."""

from datetime import datetime

from airflow.sdk import DAG
from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from moka_provider.operators.spark import MokaSparkOperator

SHARED_CONF = {"spark.sql.shuffle.partitions": 200}

with DAG(
    "monarch_34_audience_scores",
    start_date=datetime(2024, 2, 1),
    schedule="0 3 * * *",
    catchup=False,
) as dag:
    # moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    features = MokaSparkOperator(
        task_id="audience_features",
        application="s3a://moka-artifacts/apps/audience/features.py",
        arguments=["--day", "{{ ds }}"],
        executors={"memory": "4g", "instances": 6},
        yunikorn_queue="audience",
    )
    scores = MonarchSparkSubmitOperator(
        task_id="audience_scores",
        application="hdfs://monarch-nn/apps/audience/scores.py",
        conf=SHARED_CONF,  # a shared dict: read when the DAG file runs
        application_args=["--day", "{{ ds }}"],
        conn_id="yarn_spark",
        yarn_queue="analytics",
        verbose=False,
    )
    features >> scores
