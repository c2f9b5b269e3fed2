"""Store traffic rollup: spark-submit from a Bash task, one option per line."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    "monarch_29_store_traffic",
    start_date=datetime(2022, 11, 1),
    schedule="0 5 * * *",
    catchup=False,
    tags=["retail"],
) as dag:
    start = BashOperator(task_id="start", bash_command="echo 'store traffic for {{ ds }}'")

    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    rollup = MokaSparkOperator(
        task_id="rollup_traffic",
        name="store-traffic",
        application="s3a://moka-artifacts/apps/etl/monarch_job.py",
        arguments=[
            "store_traffic",
            "{{ ds }}",
            "s3a://moka-lake/data/retail/traffic/dt={{ ds }}",
        ],
        spark_conf={"spark.sql.shuffle.partitions": "5"},
        executors={"memory": "512m", "cores": 1, "instances": 1},
        yunikorn_queue="retail",
        spec_overrides={"restartPolicy": {"type": "Never"}},
    )

    finish = BashOperator(task_id="finish", bash_command="echo done")

    start >> rollup >> finish
