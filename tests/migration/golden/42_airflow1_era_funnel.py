"""Growth funnel - written for Airflow 1.10 and never touched since: days_ago, schedule_interval,
provide_context, the contrib Spark operator and the Airflow 1 module paths."""

from datetime import timedelta

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.empty import EmptyOperator
import pendulum

default_args = {
    "owner": "growth",
    "start_date": pendulum.datetime(2024, 3, 3, tz="UTC"),
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}

dag = DAG(
    "monarch_42_growth_funnel",
    default_args=default_args,
    schedule="0 4 * * *",
    catchup=False,
    max_active_runs=1,
)


def check_inputs(**context):
    print("checking the inputs of", context["ds"])


start = EmptyOperator(task_id="start", dag=dag)

inputs = PythonOperator(
    task_id="check_inputs",
    python_callable=check_inputs,
    dag=dag,
)

# moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
# moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
# moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
funnel = MokaSparkOperator(
    task_id="funnel",
    application="s3a://moka-artifacts/apps/growth/funnel.py",
    arguments=["--date", "{{ ds }}"],
    spark_conf={"spark.sql.shuffle.partitions": "64"},
    executors={"memory": "4g", "cores": 2, "instances": 8},
    spark_deps={"py_files": ["s3a://moka-artifacts/libs/growth-common.zip"]},
    yunikorn_queue="growth",
    dag=dag,
)

# moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
# moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
export = MokaSparkOperator(
    task_id="export",
    application="s3a://moka-artifacts/apps/growth/export.py",
    arguments=["{{ ds }}"],
    executors={"memory": "2g"},
    yunikorn_queue="growth",
    dag=dag,
)

end = EmptyOperator(task_id="end", dag=dag)

start >> inputs >> funnel >> export >> end
