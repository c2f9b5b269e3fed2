"""Clickstream to Hive: stage files with hdfs dfs, transform with Spark, add the partition with beeline."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

BEELINE = "beeline -u 'jdbc:hive2://hive.monarch.acme.internal:10000/default;principal=hive/_HOST@MONARCH'"

with DAG(
    "monarch_23_clickstream_hive",
    start_date=datetime(2021, 8, 1),
    schedule="0 2 * * *",
    catchup=False,
) as dag:
    stage = BashOperator(
        task_id="stage_files",
        bash_command=(
            "hdfs dfs -mkdir -p hdfs://monarch-nn/data/staging/clicks/{{ ds }} && "
            "hdfs dfs -cp hdfs://monarch-nn/data/landing/clicks/{{ ds }}/* hdfs://monarch-nn/data/staging/clicks/{{ ds }}/"
        ),
    )
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    transform = MokaSparkOperator(
        task_id="transform_clicks",
        application="s3a://moka-artifacts/apps/clicks/transform.py",
        arguments=[
            "s3a://moka-lake/data/staging/clicks/{{ ds }}",
            "s3a://moka-lake/data/warehouse/clicks/dt={{ ds }}",
        ],
        yunikorn_queue="web",
    )
    add_partition = BashOperator(
        task_id="add_partition",
        bash_command=BEELINE + " -e \"ALTER TABLE web.clicks ADD IF NOT EXISTS PARTITION (dt='{{ ds }}')\"",
    )
    stage >> transform >> add_partition
