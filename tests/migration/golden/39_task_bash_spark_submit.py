"""Search index build with TaskFlow: @task.bash functions returning spark-submit commands."""

import pendulum
from airflow.sdk import dag, task
from moka_provider.operators.spark import MokaSparkOperator


@dag(schedule="@daily", start_date=pendulum.datetime(2024, 2, 1, tz="UTC"), catchup=False)
def monarch_39_search_index():
    def build_index():
        """Build the day's index on YARN."""
        # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
        # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
        return MokaSparkOperator(
            task_id="build_index",
            retries=1,
            application="s3a://moka-artifacts/apps/search/build_index.py",
            arguments=["--day", "{{ ds }}"],
            executors={"memory": "4g", "instances": 8},
            yunikorn_queue="search",
        )

    @task.bash
    def publish_index(shard: str = "all"):
        return f"spark-submit --master yarn hdfs://monarch-nn/apps/search/publish.py --shard {shard}"

    @task.bash
    def notify():
        return "echo index published for {{ ds }}"

    build_index() >> publish_index() >> notify()


monarch_39_search_index()
