"""Growth funnel - written for Airflow 1.10 and never touched since: days_ago, schedule_interval,
provide_context, the contrib Spark operator and the Airflow 1 module paths."""

from datetime import timedelta

from airflow import DAG
from airflow.contrib.operators.spark_submit_operator import SparkSubmitOperator
from airflow.operators.bash_operator import BashOperator
from airflow.operators.dummy_operator import DummyOperator
from airflow.operators.python_operator import PythonOperator
from airflow.utils.dates import days_ago

default_args = {
    "owner": "growth",
    "start_date": days_ago(2),
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}

dag = DAG(
    "monarch_42_growth_funnel",
    default_args=default_args,
    schedule_interval="0 4 * * *",
    catchup=False,
    max_active_runs=1,
)


def check_inputs(**context):
    print("checking the inputs of", context["ds"])


start = DummyOperator(task_id="start", dag=dag)

inputs = PythonOperator(
    task_id="check_inputs",
    python_callable=check_inputs,
    provide_context=True,
    dag=dag,
)

funnel = SparkSubmitOperator(
    task_id="funnel",
    conn_id="spark_yarn",
    application="hdfs://monarch-nn/apps/growth/funnel.py",
    py_files="hdfs://monarch-nn/libs/growth-common.zip",
    executor_memory="4g",
    executor_cores=2,
    num_executors=8,
    conf={"spark.yarn.queue": "growth", "spark.sql.shuffle.partitions": "64"},
    application_args=["--date", "{{ ds }}"],
    dag=dag,
)

export = BashOperator(
    task_id="export",
    bash_command=(
        "spark-submit --master yarn --deploy-mode cluster --queue growth "
        "--executor-memory 2g hdfs://monarch-nn/apps/growth/export.py {{ ds }}"
    ),
    dag=dag,
)

end = DummyOperator(task_id="end", dag=dag)

start >> inputs >> funnel >> export >> end
