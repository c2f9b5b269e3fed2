"""Daily sessionization of the web click stream (Monarch, team web-analytics)."""

from datetime import datetime, timedelta

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

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

    # moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    sessionize = MokaSparkOperator(
        task_id="sessionize",
        name="sessionize-clicks",
        application="s3a://moka-artifacts/apps/etl/monarch_job.py",
        arguments=["sessions", "{{ ds }}", "s3a://moka-lake/data/clicks/dt={{ ds }}"],
        spark_conf={
            "spark.executor.memoryOverhead": "512",
            "spark.sql.shuffle.partitions": "8",
        },
        driver={"memory": "512m"},
        executors={"memory": "512m", "cores": 1, "instances": 2},
        yunikorn_queue="web",
    )

    announce >> sessionize
