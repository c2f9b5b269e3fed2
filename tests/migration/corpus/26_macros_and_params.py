"""Weather backfill helper: partition paths use slashes, so the dates are reformatted with macros."""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    "monarch_26_weather_ingest",
    start_date=datetime(2022, 1, 1),
    schedule="@daily",
    catchup=False,
    params={"stations": "all", "resolution": "hourly"},
) as dag:
    ingest = SparkSubmitOperator(
        task_id="ingest_weather",
        application="hdfs://monarch-nn/apps/weather/ingest.py",
        name="weather-{{ ds_nodash }}",
        conf={"spark.yarn.queue": "{{ params.get('queue', 'science') }}"},
        application_args=[
            "--input",
            "hdfs://monarch-nn/data/weather/raw/{{ macros.ds_format(ds, '%Y-%m-%d', '%Y/%m/%d') }}",
            "--previous",
            "hdfs://monarch-nn/data/weather/clean/{{ macros.ds_add(ds, -1) }}",
            "--stations",
            "{{ params.stations }}",
            "--resolution",
            "{{ params.resolution }}",
        ],
    )
