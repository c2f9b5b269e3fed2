"""Feature flags audit: a tiny local-mode job on the worker, then the real job on the cluster."""

from datetime import datetime

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

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
    # moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    audit = MokaSparkOperator(
        task_id="audit_flags",
        application="s3a://moka-artifacts/apps/flags/audit.py",
        arguments=["{{ ds }}"],
        yunikorn_queue="platform",
    )
    preview >> snapshot >> audit
