"""Partner feeds: runs on the edge workers that can reach the partner SFTP (Celery queue "edge")."""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    "monarch_21_partner_feeds",
    start_date=datetime(2022, 5, 1),
    schedule="0 10 * * *",
    catchup=False,
) as dag:
    # The old way, before the spark connection had the queue:
    # ingest = SparkSubmitOperator(task_id="ingest", conf={"spark.master": "yarn", "spark.yarn.queue": "default"})
    # spark-submit --master yarn --queue partners hdfs://monarch-nn/apps/partners/ingest.py
    ingest = SparkSubmitOperator(
        task_id="ingest_feeds",
        queue="edge",  # Airflow worker queue (Celery), NOT the YARN queue
        yarn_queue="partners",
        pool="partner_sftp",
        application="hdfs://monarch-nn/apps/partners/ingest.py",
        application_args=["--date", "{{ ds }}"],
    )
    validate = SparkSubmitOperator(
        task_id="validate_feeds",
        queue="edge",
        application="hdfs://monarch-nn/apps/partners/validate.py",
        conf={"spark.yarn.queue": "partners"},
        application_args=["--date", "{{ ds }}"],
    )
    ingest >> validate
