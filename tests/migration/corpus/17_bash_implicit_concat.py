"""Logistics ETA model scoring; the command is split over several string literals."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    "monarch_17_eta_scoring",
    start_date=datetime(2022, 8, 1),
    schedule="0 */6 * * *",
    catchup=False,
) as dag:
    score = BashOperator(
        task_id="score_eta",
        bash_command=(
            "spark-submit --master yarn --deploy-mode cluster "
            "--queue logistics "
            "--conf spark.yarn.appMasterEnv.MODEL_VERSION=2024-02 "
            "--conf spark.executorEnv.MODEL_VERSION=2024-02 "
            "--conf spark.dynamicAllocation.enabled=true "
            "--conf spark.shuffle.service.enabled=true "
            "--conf spark.dynamicAllocation.maxExecutors=24 "
            "--py-files hdfs://monarch-nn/apps/logistics/eta_model.zip "
            "--files hdfs://monarch-nn/apps/logistics/eta.conf#eta.conf "
            "hdfs://monarch-nn/apps/logistics/score_eta.py "
            "--ts {{ ts_nodash }} --config eta.conf"
        ),
    )
