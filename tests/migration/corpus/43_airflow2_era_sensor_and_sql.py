"""Ads reporting - an Airflow 2.2 DAG: a file sensor from contrib, the contrib Spark SQL operator,
DummyOperator from airflow.operators.dummy, days_ago as the DAG's start date and a timedelta
schedule_interval."""

from datetime import timedelta

from airflow import DAG
from airflow.contrib.operators.spark_sql_operator import SparkSqlOperator
from airflow.contrib.sensors.file_sensor import FileSensor
from airflow.operators.dummy import DummyOperator
from airflow.utils.dates import days_ago

with DAG(
    dag_id="monarch_43_ads_reporting",
    start_date=days_ago(1),
    schedule_interval=timedelta(hours=6),
    catchup=False,
    tags=["ads"],
) as dag:
    landed = FileSensor(
        task_id="impressions_landed",
        filepath="/mnt/landing/ads/{{ ds_nodash }}/_SUCCESS",
        poke_interval=300,
        timeout=6 * 3600,
        mode="reschedule",
    )

    hourly = SparkSqlOperator(
        task_id="hourly_rollup",
        conn_id="spark_sql_yarn",
        sql="INSERT OVERWRITE TABLE ads.hourly PARTITION (ds='{{ ds }}') "
        "SELECT hour, campaign, count(*) FROM ads.impressions WHERE ds='{{ ds }}' GROUP BY hour, campaign",
        yarn_queue="ads",
        executor_memory="3g",
        num_executors=6,
        name="ads-hourly-{{ ds_nodash }}",
    )

    done = DummyOperator(task_id="done")

    landed >> hourly >> done
