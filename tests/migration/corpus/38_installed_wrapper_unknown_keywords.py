"""Fraud features in one of the two resource pools, through an installed operator with its own keyword."""

from datetime import datetime

from airflow.sdk import DAG
from dataplatform_airflow.operators import DataPlatformSparkSubmitOperator, TwoRPSparkSubmitOperator

with DAG(
    "monarch_38_fraud_features",
    start_date=datetime(2024, 2, 1),
    schedule="@hourly",
    catchup=False,
) as dag:
    features = TwoRPSparkSubmitOperator(
        task_id="fraud_features",
        application="hdfs://monarch-nn/apps/fraud/features.py",
        rp_pool="rp2",
        executor_memory="6g",
    )
    scores = DataPlatformSparkSubmitOperator(
        task_id="fraud_scores",
        application="hdfs://monarch-nn/apps/fraud/scores.py",
        conn_id="yarn_spark_fraud",
        executor_memory="6g",
    )
    features >> scores
