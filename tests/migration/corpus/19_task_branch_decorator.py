"""Catalog sync: skip the Spark job when the upstream export did not change (TaskFlow branch)."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import task

with DAG(
    "monarch_19_catalog_sync",
    start_date=datetime(2023, 3, 1),
    schedule="@hourly",
    catchup=False,
) as dag:

    @task.branch
    def changed(ti=None):
        return "sync_catalog" if ti.try_number == 1 else "nothing_to_do"

    sync = SparkSubmitOperator(
        task_id="sync_catalog",
        application="hdfs://monarch-nn/apps/catalog/sync.py",
        conn_id="spark_default",
        conf={"spark.yarn.queue": "catalog", "spark.executor.instances": 3},
        application_args=["--since", "{{ data_interval_start }}", "--until", "{{ data_interval_end }}"],
    )
    skip = EmptyOperator(task_id="nothing_to_do")

    changed() >> [sync, skip]
