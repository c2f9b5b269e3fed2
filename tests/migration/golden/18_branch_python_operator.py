"""Ledger rebuild: a full rebuild on the first of the month, an incremental run otherwise."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator

LEDGER_CONF = {"spark.yarn.queue": "finance", "spark.yarn.maxAppAttempts": 1}


def choose_mode(logical_date=None, **_):
    return "full_rebuild" if logical_date.day == 1 else "incremental"


with DAG(
    "monarch_18_ledger_rebuild",
    start_date=datetime(2022, 1, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    choose = BranchPythonOperator(task_id="choose_mode", python_callable=choose_mode)
    full = MonarchSparkSubmitOperator(
        task_id="full_rebuild",
        application="hdfs://monarch-nn/apps/finance/ledger.py",
        conf=LEDGER_CONF,
        num_executors=40,
        application_args=["--mode", "full", "--month", "{{ logical_date.strftime('%Y-%m') }}"],
    )
    incremental = MonarchSparkSubmitOperator(
        task_id="incremental",
        application="hdfs://monarch-nn/apps/finance/ledger.py",
        conf=LEDGER_CONF,
        num_executors=8,
        application_args=["--mode", "incremental", "--date", "{{ ds }}"],
    )
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    choose >> [full, incremental] >> join
