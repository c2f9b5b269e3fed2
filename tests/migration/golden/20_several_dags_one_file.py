"""Payments reconciliation: an hourly and a daily DAG defined side by side."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG

RECON_CONF = {
    "spark.yarn.queue": "payments",
    "spark.yarn.executor.memoryOverhead": "768",
}

hourly = DAG(
    "monarch_20_payments_recon_hourly",
    start_date=datetime(2022, 1, 1),
    schedule="5 * * * *",
    catchup=False,
)
daily = DAG(
    "monarch_20_payments_recon_daily",
    start_date=datetime(2022, 1, 1),
    schedule="0 3 * * *",
    catchup=False,
)

MonarchSparkSubmitOperator(
    task_id="recon_hour",
    dag=hourly,
    application="hdfs://monarch-nn/apps/payments/recon.py",
    conf=RECON_CONF,
    application_args=["--hour", "{{ ts }}"],
)

settle = MonarchSparkSubmitOperator(
    task_id="settle_day",
    dag=daily,
    application="hdfs://monarch-nn/apps/payments/settle.py",
    conf=RECON_CONF,
    application_args=["--date", "{{ ds }}"],
)
report = MonarchSparkSubmitOperator(
    task_id="settlement_report",
    dag=daily,
    application="hdfs://monarch-nn/apps/payments/report.py",
    conf=RECON_CONF,
    application_args=["--date", "{{ ds }}"],
)
settle >> report
