"""Marketing attribution: task settings kept in one dict per job, unpacked into the operator."""

from datetime import datetime

from monarch_common.operators import AcmeSparkSubmitOperator
from airflow.sdk import DAG

ATTRIBUTION = {
    "application": "hdfs://monarch-nn/apps/marketing/attribution.py",
    "conn_id": "yarn_spark",
    "executor_memory": "5g",
    "executor_cores": 3,
    "num_executors": 10,
    "cost_center": "mkt-042",  # read by our operator, not by SparkSubmitOperator
    "conf": {"spark.yarn.queue": "marketing", "spark.sql.shuffle.partitions": 300},
}

TOUCHPOINTS = {
    "application": "hdfs://monarch-nn/apps/marketing/touchpoints.py",
    "conn_id": "yarn_spark",
    "cost_center": "mkt-042",
    "conf": {"spark.yarn.queue": "marketing"},
}

with DAG(
    "monarch_09_marketing_attribution",
    start_date=datetime(2022, 9, 1),
    schedule="0 5 * * *",
    catchup=False,
) as dag:
    touchpoints = AcmeSparkSubmitOperator(task_id="touchpoints", application_args=["{{ ds }}"], **TOUCHPOINTS)
    attribution = AcmeSparkSubmitOperator(
        task_id="attribution", application_args=["{{ ds }}", "last-touch"], **ATTRIBUTION
    )
    touchpoints >> attribution
