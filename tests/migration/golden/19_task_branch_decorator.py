"""Catalog sync: skip the Spark job when the upstream export did not change (TaskFlow branch)."""

from datetime import datetime

from airflow.sdk import task
from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(
    "monarch_19_catalog_sync",
    start_date=datetime(2023, 3, 1),
    schedule="@hourly",
    catchup=False,
) as dag:

    @task.branch
    def changed(ti=None):
        return "sync_catalog" if ti.try_number == 1 else "nothing_to_do"

    # moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    sync = MokaSparkOperator(
        task_id="sync_catalog",
        application="s3a://moka-artifacts/apps/catalog/sync.py",
        arguments=[
            "--since",
            "{{ data_interval_start }}",
            "--until",
            "{{ data_interval_end }}",
        ],
        executors={"instances": 3},
        yunikorn_queue="catalog",
    )
    skip = EmptyOperator(task_id="nothing_to_do")

    changed() >> [sync, skip]
