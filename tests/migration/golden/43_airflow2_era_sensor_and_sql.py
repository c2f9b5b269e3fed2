"""Ads reporting - an Airflow 2.2 DAG: a file sensor from contrib, the contrib Spark SQL operator,
DummyOperator from airflow.operators.dummy, days_ago as the DAG's start date and a timedelta
schedule_interval."""

from datetime import timedelta

from airflow.providers.standard.sensors.filesystem import FileSensor
from moka_provider.operators.monarch import MonarchSparkSqlOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
import pendulum

with DAG(
    dag_id="monarch_43_ads_reporting",
    start_date=pendulum.datetime(2024, 3, 4, tz="UTC"),
    schedule=timedelta(hours=6),
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

    hourly = MonarchSparkSqlOperator(
        task_id="hourly_rollup",
        conn_id="spark_sql_yarn",
        sql="INSERT OVERWRITE TABLE ads.hourly PARTITION (ds='{{ ds }}') "
        "SELECT hour, campaign, count(*) FROM ads.impressions WHERE ds='{{ ds }}' GROUP BY hour, campaign",
        yarn_queue="ads",
        executor_memory="3g",
        num_executors=6,
        name="ads-hourly-{{ ds_nodash }}",
    )

    done = EmptyOperator(task_id="done")

    landed >> hourly >> done
