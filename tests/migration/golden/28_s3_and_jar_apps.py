"""Partner data share: the jar and its dependencies live in S3; input and output stay on HDFS."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

with DAG(
    "monarch_28_partner_share",
    start_date=datetime(2023, 4, 1),
    schedule="0 12 * * *",
    catchup=False,
) as dag:
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    export = MokaSparkOperator(
        task_id="export_share",
        application="s3a://acme-artifacts/share/partner-share-1.3.0.jar",
        main_class="com.acme.share.Export",
        arguments=[
            "--from",
            "s3a://moka-lake/data/warehouse/orders/dt={{ ds }}",
            "--to",
            "s3a://moka-lake/data/share/orders/dt={{ ds }}",
        ],
        spark_conf={"spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension"},
        spark_deps={
            "jars": [
                "s3a://acme-artifacts/libs/delta-core_2.12-2.4.0.jar",
                "s3a://acme-artifacts/libs/delta-storage-2.4.0.jar",
            ],
        },
        yunikorn_queue="share",
    )
