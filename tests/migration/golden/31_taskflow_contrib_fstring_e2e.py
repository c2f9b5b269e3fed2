"""Loyalty tiers (TaskFlow DAG, written when the team still used the Airflow 1 import paths)."""

import pendulum
from moka_provider.operators.monarch import MonarchSparkSubmitBashOperator
from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import dag
from airflow.sdk import task

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

    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    compute = MokaSparkOperator(
        task_id="compute_tiers",
        application="s3a://moka-artifacts/apps/etl/monarch_job.py",
        arguments=[
            "compute_tiers",
            "{{ ds }}",
            "{{ dag_run.conf.get('program', 'default') }}",
        ],
        spark_conf={"spark.sql.shuffle.partitions": "6"},
        executors={"cores": 1, "instances": 1},
        yunikorn_queue="loyalty",
    )

    publish = MonarchSparkSubmitBashOperator(
        task_id="publish_tiers",
        bash_command=f"spark-submit --master yarn --queue loyalty --num-executors 1 {APP_DIR}/monarch_job.py "
        f"publish_tiers {{{{ ds }}}}",
    )

    tiers() >> compute >> publish


loyalty_tiers()
