"""Feature flags audit: a tiny local-mode job on the worker, then the real job on the cluster."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    "monarch_22_flags_audit",
    start_date=datetime(2023, 2, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    # Small enough to run inside the Airflow worker.
    preview = BashOperator(
        task_id="preview_flags",
        bash_command="spark-submit --master local[*] --driver-memory 1g /opt/jobs/flags/preview.py {{ ds }}",
    )
    snapshot = SparkSubmitOperator(
        task_id="snapshot_flags_locally",
        application="/opt/jobs/flags/snapshot.py",
        conf={"spark.master": "local[2]"},
        application_args=["{{ ds }}"],
    )
    audit = SparkSubmitOperator(
        task_id="audit_flags",
        conn_id="yarn_spark",
        application="hdfs://monarch-nn/apps/flags/audit.py",
        conf={"spark.master": "yarn", "spark.yarn.queue": "platform"},
        application_args=["{{ ds }}"],
    )
    preview >> snapshot >> audit
