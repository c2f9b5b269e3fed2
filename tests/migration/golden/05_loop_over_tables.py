"""Nightly compaction of the CRM tables: one Spark job per table, the same settings for all."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

TABLES = ["accounts", "contacts", "opportunities", "activities"]

SPARK_CONF = {
    "spark.yarn.queue": "crm",
    "spark.yarn.executor.memoryOverhead": "1536",
    "spark.dynamicAllocation.enabled": "true",
    "spark.shuffle.service.enabled": "true",
    "spark.dynamicAllocation.maxExecutors": "40",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
}

with DAG(
    dag_id="monarch_05_crm_compaction",
    start_date=datetime(2022, 1, 1),
    schedule="0 2 * * *",
    catchup=False,
    max_active_tasks=2,
) as dag:
    start = EmptyOperator(task_id="start")
    done = EmptyOperator(task_id="done")

    for table in TABLES:
        compact = MonarchSparkSubmitOperator(
            task_id=f"compact_{table}",
            application="hdfs://monarch-nn/apps/crm/compact_table.py",
            conf=SPARK_CONF,
            executor_memory="4g",
            application_args=[
                "--table",
                table,
                "--path",
                f"hdfs://monarch-nn/data/crm/{table}",
                "--date",
                "{{ ds }}",
            ],
        )
        start >> compact >> done
