"""Clickstream to Hive: stage files with hdfs dfs, transform with Spark, add the partition with beeline."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

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
    transform = SparkSubmitOperator(
        task_id="transform_clicks",
        application="hdfs://monarch-nn/apps/clicks/transform.py",
        conf={"spark.yarn.queue": "web"},
        application_args=[
            "hdfs://monarch-nn/data/staging/clicks/{{ ds }}",
            "hdfs://monarch-nn/data/warehouse/clicks/dt={{ ds }}",
        ],
    )
    add_partition = BashOperator(
        task_id="add_partition",
        bash_command=BEELINE + " -e \"ALTER TABLE web.clicks ADD IF NOT EXISTS PARTITION (dt='{{ ds }}')\"",
    )
    stage >> transform >> add_partition
