"""Parses, but fails when imported: it reads a settings file that only existed on the Monarch workers."""

import json
from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with open("/etc/monarch/pipelines/churn.json") as settings_file:
    SETTINGS = json.load(settings_file)

with DAG("monarch_b03_churn", start_date=datetime(2022, 1, 1), schedule=None) as dag:
    churn = SparkSubmitOperator(
        task_id="churn",
        application="hdfs://monarch-nn/apps/churn/churn.py",
        conf={"spark.yarn.queue": "etl"},
        application_args=["{{ ds }}"],
    )
