"""Store traffic rollup: spark-submit from a Bash task, one option per line."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    "monarch_29_store_traffic",
    start_date=datetime(2022, 11, 1),
    schedule="0 5 * * *",
    catchup=False,
    tags=["retail"],
) as dag:
    start = BashOperator(task_id="start", bash_command="echo 'store traffic for {{ ds }}'")

    rollup = BashOperator(
        task_id="rollup_traffic",
        bash_command="spark-submit \\\n"
        "    --master yarn \\\n"
        "    --deploy-mode cluster \\\n"
        "    --queue retail \\\n"
        "    --name store-traffic \\\n"
        "    --num-executors 1 \\\n"
        "    --executor-cores 1 \\\n"
        "    --executor-memory 512m \\\n"
        "    --conf spark.yarn.maxAppAttempts=1 \\\n"
        "    --conf spark.sql.shuffle.partitions=5 \\\n"
        "    hdfs://monarch-nn/apps/etl/monarch_job.py \\\n"
        "    store_traffic {{ ds }} hdfs://monarch-nn/data/retail/traffic/dt={{ ds }}\n",
    )

    finish = BashOperator(task_id="finish", bash_command="echo done")

    start >> rollup >> finish
