"""Ad impressions dedup. The job is launched from the edge node's spark-submit (no Spark connection)."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    "monarch_03_impressions_dedup",
    start_date=datetime(2021, 1, 1),
    schedule="30 1 * * *",
    catchup=False,
) as dag:
    clean_output = BashOperator(
        task_id="clean_output",
        bash_command="hdfs dfs -rm -r -f -skipTrash hdfs://monarch-nn/data/ads/impressions_dedup/dt={{ ds }}",
    )

    # moka migrate: check --name: the name is a template: it must render to lowercase letters...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    dedup = MokaSparkOperator(
        task_id="dedup_impressions",
        name="impressions-dedup-{{ ds_nodash }}",
        application="s3a://moka-artifacts/apps/ads/dedup_impressions.py",
        arguments=[
            "--date",
            "{{ ds }}",
            "--input",
            "s3a://moka-lake/data/ads/impressions_raw/dt={{ ds }}",
            "--output",
            "s3a://moka-lake/data/ads/impressions_dedup/dt={{ ds }}",
        ],
        spark_conf={
            "spark.executor.memoryOverhead": "2048",
            "spark.sql.shuffle.partitions": "1200",
        },
        driver={"memory": "4g"},
        executors={"memory": "8g", "cores": 4, "instances": 30},
        spark_deps={"py_files": ["s3a://moka-artifacts/apps/ads/ads_lib.zip"]},
        yunikorn_queue="ads",
    )

    mark_done = BashOperator(
        task_id="mark_done",
        bash_command="hdfs dfs -touchz hdfs://monarch-nn/data/ads/impressions_dedup/dt={{ ds }}/_SUCCESS",
    )

    clean_output >> dedup >> mark_done
