"""Ad impressions dedup. The job is launched from the edge node's spark-submit (no Spark connection)."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator

with DAG(
    "monarch_03_impressions_dedup",
    start_date=datetime(2021, 1, 1),
    schedule="30 1 * * *",
    catchup=False,
) as dag:
    clean_output = BashOperator(
        task_id="clean_output",
        bash_command="hdfs dfs -rm -r -f -skipTrash hdfs://monarch-nn/data/ads/impressions_dedup/dt={{ ds }}",
    )

    dedup = BashOperator(
        task_id="dedup_impressions",
        bash_command="""
spark-submit \
  --master yarn \
  --deploy-mode cluster \
  --queue ads \
  --name impressions-dedup-{{ ds_nodash }} \
  --driver-memory 4g \
  --executor-memory 8g \
  --executor-cores 4 \
  --num-executors 30 \
  --conf spark.yarn.executor.memoryOverhead=2048 \
  --conf spark.sql.shuffle.partitions=1200 \
  --py-files hdfs://monarch-nn/apps/ads/ads_lib.zip \
  hdfs://monarch-nn/apps/ads/dedup_impressions.py \
    --date {{ ds }} \
    --input hdfs://monarch-nn/data/ads/impressions_raw/dt={{ ds }} \
    --output hdfs://monarch-nn/data/ads/impressions_dedup/dt={{ ds }}
""",
    )

    mark_done = BashOperator(
        task_id="mark_done",
        bash_command="hdfs dfs -touchz hdfs://monarch-nn/data/ads/impressions_dedup/dt={{ ds }}/_SUCCESS",
    )

    clean_output >> dedup >> mark_done
