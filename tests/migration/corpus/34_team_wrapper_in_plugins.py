"""Audience scores with the team's own SparkSubmitOperator wrapper (its source is in team_airflow/)."""

from datetime import datetime

from airflow.sdk import DAG
from team_airflow.spark_submit import SparkSubmitOperator

SHARED_CONF = {"spark.sql.shuffle.partitions": 200}

with DAG(
    "monarch_34_audience_scores",
    start_date=datetime(2024, 2, 1),
    schedule="0 3 * * *",
    catchup=False,
) as dag:
    features = SparkSubmitOperator(
        task_id="audience_features",
        application="hdfs://monarch-nn/apps/audience/features.py",
        application_args=["--day", "{{ ds }}"],
        executor_memory="4g",
        num_executors=6,
        team_queue="audience",
        owner_team="audience",
    )
    scores = SparkSubmitOperator(
        task_id="audience_scores",
        application="hdfs://monarch-nn/apps/audience/scores.py",
        conf=SHARED_CONF,  # a shared dict: read when the DAG file runs
        application_args=["--day", "{{ ds }}"],
    )
    features >> scores
