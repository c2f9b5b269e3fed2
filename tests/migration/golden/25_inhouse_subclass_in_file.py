"""Loyalty points: a DAG-local SparkSubmitOperator subclass adds the team's defaults."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG


# moka migrate: needs a human: an in-house subclass of SparkSubmitOperator: it now extends...
class LoyaltySparkSubmitOperator(MonarchSparkSubmitOperator):
    """SparkSubmitOperator with the loyalty team's queue and memory settings."""

    def __init__(self, **kwargs):
        conf = {"spark.yarn.queue": "loyalty", "spark.yarn.executor.memoryOverhead": "1024"}
        conf.update(kwargs.pop("conf", {}) or {})
        kwargs.setdefault("executor_memory", "6g")
        super().__init__(conf=conf, **kwargs)


with DAG(
    "monarch_25_loyalty_points",
    start_date=datetime(2022, 10, 1),
    schedule="0 4 * * *",
    catchup=False,
) as dag:
    accrue = LoyaltySparkSubmitOperator(
        task_id="accrue_points",
        application="hdfs://monarch-nn/apps/loyalty/accrue.py",
        application_args=["{{ ds }}"],
    )
    expire = LoyaltySparkSubmitOperator(
        task_id="expire_points",
        application="hdfs://monarch-nn/apps/loyalty/expire.py",
        conf={"spark.sql.shuffle.partitions": "100"},
        application_args=["{{ ds }}"],
    )
    accrue >> expire
