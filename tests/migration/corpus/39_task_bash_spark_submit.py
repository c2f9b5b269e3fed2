"""Search index build with TaskFlow: @task.bash functions returning spark-submit commands."""

import pendulum
from airflow.sdk import dag, task


@dag(schedule="@daily", start_date=pendulum.datetime(2024, 2, 1, tz="UTC"), catchup=False)
def monarch_39_search_index():
    @task.bash(retries=1)
    def build_index():
        """Build the day's index on YARN."""
        return (
            "spark-submit --master yarn --deploy-mode cluster --queue search "
            "--executor-memory 4g --num-executors 8 "
            "hdfs://monarch-nn/apps/search/build_index.py --day {{ ds }}"
        )

    @task.bash
    def publish_index(shard: str = "all"):
        return f"spark-submit --master yarn hdfs://monarch-nn/apps/search/publish.py --shard {shard}"

    @task.bash
    def notify():
        return "echo index published for {{ ds }}"

    build_index() >> publish_index() >> notify()


monarch_39_search_index()
