"""Country exports, one mapped task instance per country (Airflow 2 dynamic task mapping)."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG

with DAG(
    "monarch_33_country_exports",
    start_date=datetime(2023, 8, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    MonarchSparkSubmitOperator.partial(
        task_id="export_country",
        application="hdfs://monarch-nn/apps/exports/country_export.py",
        conf={"spark.yarn.queue": "exports"},
        executor_memory="2g",
    ).expand(application_args=[["--country", "fr"], ["--country", "de"], ["--country", "jp"]])
