"""Loyalty tiers (TaskFlow DAG, written when the team still used the Airflow 1 import paths)."""

import pendulum
from airflow.contrib.operators.spark_submit_operator import SparkSubmitOperator
from airflow.decorators import dag, task  # type: ignore[attr-defined]
from airflow.operators.bash_operator import BashOperator

APP_DIR = "hdfs://monarch-nn/apps/etl"


@dag(
    dag_id="monarch_31_loyalty_tiers",
    schedule="@daily",
    start_date=pendulum.datetime(2023, 1, 1, tz="UTC"),
    catchup=False,
)
def loyalty_tiers():
    @task
    def tiers():
        return ["gold", "silver"]

    compute = SparkSubmitOperator(
        task_id="compute_tiers",
        application="hdfs://monarch-nn/apps/etl/monarch_job.py",
        conf={"spark.yarn.queue": "loyalty", "spark.sql.shuffle.partitions": "6"},
        num_executors=1,
        executor_cores=1,
        application_args=["compute_tiers", "{{ ds }}", "{{ dag_run.conf.get('program', 'default') }}"],
    )

    publish = BashOperator(
        task_id="publish_tiers",
        bash_command=f"spark-submit --master yarn --queue loyalty --num-executors 1 {APP_DIR}/monarch_job.py "
        f"publish_tiers {{{{ ds }}}}",
    )

    tiers() >> compute >> publish


loyalty_tiers()
