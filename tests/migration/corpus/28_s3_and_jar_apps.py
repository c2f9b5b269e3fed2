"""Partner data share: the jar and its dependencies live in S3; input and output stay on HDFS."""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    "monarch_28_partner_share",
    start_date=datetime(2023, 4, 1),
    schedule="0 12 * * *",
    catchup=False,
) as dag:
    export = SparkSubmitOperator(
        task_id="export_share",
        application="s3://acme-artifacts/share/partner-share-1.3.0.jar",
        java_class="com.acme.share.Export",
        deploy_mode="cluster",
        jars="s3://acme-artifacts/libs/delta-core_2.12-2.4.0.jar,s3://acme-artifacts/libs/delta-storage-2.4.0.jar",
        conf={
            "spark.yarn.queue": "share",
            "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        },
        application_args=[
            "--from",
            "hdfs://monarch-nn/data/warehouse/orders/dt={{ ds }}",
            "--to",
            "hdfs://monarch-nn/data/share/orders/dt={{ ds }}",
        ],
    )
