"""Daily sessionization of the web click stream (Monarch, team web-analytics)."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

default_args = {
    "owner": "web-analytics",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id="monarch_01_daily_sessions",
    default_args=default_args,
    start_date=datetime(2022, 3, 1),
    schedule="0 3 * * *",
    catchup=False,
    tags=["web", "spark"],
) as dag:
    announce = BashOperator(
        task_id="announce",
        bash_command="echo 'sessionizing clicks of {{ ds }}'",
    )

    sessionize = SparkSubmitOperator(
        task_id="sessionize",
        conn_id="spark_default",
        application="hdfs://monarch-nn/apps/etl/monarch_job.py",
        name="sessionize-clicks",
        application_args=["sessions", "{{ ds }}", "hdfs://monarch-nn/data/clicks/dt={{ ds }}"],
        conf={
            "spark.yarn.queue": "web",
            "spark.yarn.executor.memoryOverhead": "512",
            "spark.sql.shuffle.partitions": "8",
        },
        driver_memory="512m",
        executor_memory="512m",
        executor_cores=1,
        num_executors=2,
    )

    announce >> sessionize
