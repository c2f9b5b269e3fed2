"""Regional backfills: BashOperator mapped over spark-submit commands (dynamic task mapping)."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

REGIONS = ["emea", "apac"]

with DAG(
    "monarch_40_regional_backfill",
    start_date=datetime(2024, 2, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    backfill = BashOperator.partial(task_id="backfill_region", retries=1).expand(
        bash_command=[
            "spark-submit --master yarn --queue backfill hdfs://monarch-nn/apps/backfill/region.py emea {{ ds }}",
            "spark-submit --master yarn --queue backfill hdfs://monarch-nn/apps/backfill/region.py apac {{ ds }}",
        ]
    )
    mixed = BashOperator.partial(task_id="backfill_and_cleanup").expand(
        bash_command=[
            "spark-submit --master yarn hdfs://monarch-nn/apps/backfill/compact.py {{ ds }}",
            "hdfs dfs -rm -r -skipTrash /tmp/backfill/{{ ds }}",
        ]
    )
    markers = BashOperator.partial(task_id="write_marker").expand(
        bash_command=["touch /tmp/emea", "touch /tmp/apac"]
    )
    backfill >> mixed >> markers
