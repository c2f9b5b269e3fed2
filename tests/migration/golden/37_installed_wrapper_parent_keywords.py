"""Inventory snapshot through the data platform's installed operator package (source not in this repository)."""

from datetime import datetime

from airflow.sdk import DAG
from moka_provider.operators.monarch import MonarchSparkSubmitOperator

with DAG(
    "monarch_37_inventory_snapshot",
    start_date=datetime(2024, 2, 1),
    schedule="0 1 * * *",
    catchup=False,
) as dag:
    MonarchSparkSubmitOperator(
        task_id="inventory_snapshot",
        application="hdfs://monarch-nn/apps/inventory/snapshot.py",
        conf={"spark.yarn.queue": "inventory"},
        application_args=["--date", "{{ ds }}"],
        retries=2,
    )
