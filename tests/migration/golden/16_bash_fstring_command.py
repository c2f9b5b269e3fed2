"""Email deliverability metrics. The spark-submit line is assembled from constants in an f-string."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitBashOperator
from airflow.sdk import DAG

SPARK_SUBMIT = "/opt/spark/bin/spark-submit"
APP_DIR = "hdfs://monarch-nn/apps/email"
QUEUE = "crm"
EXECUTORS = 12

with DAG(
    "monarch_16_email_deliverability",
    start_date=datetime(2022, 6, 1),
    schedule="0 9 * * *",
    catchup=False,
) as dag:
    deliverability = MonarchSparkSubmitBashOperator(
        task_id="deliverability",
        bash_command=(
            f"{SPARK_SUBMIT} --master yarn --deploy-mode cluster --queue {QUEUE} "
            f"--num-executors {EXECUTORS} --executor-memory 4g "
            f"--conf spark.yarn.maxAppAttempts=1 "
            f"{APP_DIR}/deliverability.py --date {{{{ ds }}}} --lookback 7"
        ),
    )
    bounces = MonarchSparkSubmitBashOperator(
        task_id="bounces",
        bash_command=f"{SPARK_SUBMIT} --master yarn --queue {QUEUE} {APP_DIR}/bounces.py {{{{ ds }}}}",
    )
    deliverability >> bounces
