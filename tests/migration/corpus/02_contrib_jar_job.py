"""Billing aggregation (Scala) - written for Airflow 1.10, moved to Airflow 2 without changes."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.contrib.operators.spark_submit_operator import SparkSubmitOperator
from airflow.operators.dummy_operator import DummyOperator

args = {
    "owner": "billing",
    "depends_on_past": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}

dag = DAG(
    "monarch_02_billing_aggregation",
    default_args=args,
    start_date=datetime(2019, 6, 1),
    schedule="@daily",
    catchup=False,
)

start = DummyOperator(task_id="start", dag=dag)

aggregate = SparkSubmitOperator(
    task_id="aggregate_invoices",
    conn_id="yarn_spark",
    java_class="com.acme.billing.AggregateInvoices",
    application="hdfs://monarch-nn/apps/billing/billing-assembly-2.4.1.jar",
    jars="hdfs://monarch-nn/libs/postgresql-42.2.5.jar,hdfs://monarch-nn/libs/acme-commons-1.9.jar",
    total_executor_cores=16,
    executor_cores=4,
    executor_memory="6g",
    driver_memory="2g",
    conf={
        "spark.yarn.maxAppAttempts": "1",
        "spark.yarn.max.executor.failures": "8",
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    },
    application_args=[
        "--date",
        "{{ ds }}",
        "--output",
        "hdfs://monarch-nn/data/billing/invoices_daily/{{ ds_nodash }}",
    ],
    dag=dag,
)

start >> aggregate
