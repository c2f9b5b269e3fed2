"""Per-region revenue marts, one task group per region."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup

REGIONS = {"emea": "eu-finance", "amer": "us-finance", "apac": "apac-finance"}

with DAG(
    "monarch_06_revenue_marts",
    start_date=datetime(2022, 7, 1),
    schedule="0 6 * * *",
    catchup=False,
) as dag:
    begin = EmptyOperator(task_id="begin")
    publish = EmptyOperator(task_id="publish")

    for region, queue in REGIONS.items():
        with TaskGroup(group_id=f"region_{region}") as group:
            stage = MonarchSparkSubmitOperator(
                task_id="stage_orders",
                application="hdfs://monarch-nn/apps/finance/stage_orders.py",
                yarn_queue=queue,
                application_args=["--region", region, "--date", "{{ ds }}"],
            )
            mart = MonarchSparkSubmitOperator(
                task_id="build_mart",
                application="hdfs://monarch-nn/apps/finance/revenue_mart.py",
                yarn_queue=queue,
                num_executors=6,
                executor_memory="8g",
                application_args=["--region", region, "--date", "{{ ds }}"],
            )
            stage >> mart
        begin >> group >> publish
