"""Payments reconciliation, submitted through an in-house operator that overrides execute()."""

from datetime import datetime

from airflow.sdk import DAG
from team_airflow.audited import AuditedSparkSubmitOperator

with DAG(
    "monarch_36_payments_reconciliation",
    start_date=datetime(2024, 2, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    AuditedSparkSubmitOperator(
        task_id="reconcile_payments",
        application="hdfs://monarch-nn/apps/payments/reconcile.py",
        conn_id="yarn_spark",
        application_args=["{{ ds }}"],
    )
