"""Weather backfill helper: partition paths use slashes, so the dates are reformatted with macros."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

with DAG(
    "monarch_26_weather_ingest",
    start_date=datetime(2022, 1, 1),
    schedule="@daily",
    catchup=False,
    params={"stations": "all", "resolution": "hourly"},
) as dag:
    # moka migrate: check --name: the name is a template: it must render to lowercase letters...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    ingest = MokaSparkOperator(
        task_id="ingest_weather",
        name="weather-{{ ds_nodash }}",
        application="s3a://moka-artifacts/apps/weather/ingest.py",
        arguments=[
            "--input",
            "s3a://moka-lake/data/weather/raw/{{ macros.ds_format(ds, '%Y-%m-%d', '%Y/%m/%d') }}",
            "--previous",
            "s3a://moka-lake/data/weather/clean/{{ macros.ds_add(ds, -1) }}",
            "--stations",
            "{{ params.stations }}",
            "--resolution",
            "{{ params.resolution }}",
        ],
        yunikorn_queue="{{ params.get('queue', 'science') }}",
    )
