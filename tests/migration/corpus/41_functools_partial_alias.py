"""Marketing exports: tasks made through functools.partial aliases of the operators."""

import functools
from datetime import datetime

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

SubmitJob = functools.partial(
    SparkSubmitOperator, conn_id="yarn_spark", executor_memory="3g", num_executors=4
)
Shell = functools.partial(BashOperator, retries=2)

with DAG(
    "monarch_41_marketing_exports",
    start_date=datetime(2024, 2, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    campaigns = SubmitJob(
        task_id="export_campaigns",
        application="hdfs://monarch-nn/apps/marketing/export_campaigns.py",
        application_args=["{{ ds }}"],
    )
    clicks = SubmitJob(
        task_id="export_clicks",
        application="hdfs://monarch-nn/apps/marketing/export_clicks.py",
        conf={"spark.yarn.queue": "marketing"},
    )
    spend = Shell(
        task_id="export_spend",
        bash_command="spark-submit --master yarn hdfs://monarch-nn/apps/marketing/export_spend.py {{ ds }}",
    )
    done = Shell(task_id="mark_done", bash_command="touch /tmp/marketing_exports_{{ ds }}")
    [campaigns, clicks] >> spend >> done
