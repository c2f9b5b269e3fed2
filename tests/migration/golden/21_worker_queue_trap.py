"""Partner feeds: runs on the edge workers that can reach the partner SFTP (Celery queue "edge")."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

with DAG(
    "monarch_21_partner_feeds",
    start_date=datetime(2022, 5, 1),
    schedule="0 10 * * *",
    catchup=False,
) as dag:
    # The old way, before the spark connection had the queue:
    # ingest = SparkSubmitOperator(task_id="ingest", conf={"spark.master": "yarn", "spark.yarn.queue": "default"})
    # spark-submit --master yarn --queue partners hdfs://monarch-nn/apps/partners/ingest.py
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    ingest = MokaSparkOperator(
        task_id="ingest_feeds",
        queue="edge",  # Airflow worker queue (Celery), NOT the YARN queue
        application="s3a://moka-artifacts/apps/partners/ingest.py",
        arguments=["--date", "{{ ds }}"],
        yunikorn_queue="partners",
        pool="partner_sftp",
    )
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    validate = MokaSparkOperator(
        task_id="validate_feeds",
        queue="edge",
        application="s3a://moka-artifacts/apps/partners/validate.py",
        arguments=["--date", "{{ ds }}"],
        yunikorn_queue="partners",
    )
    ingest >> validate
