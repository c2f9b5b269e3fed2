"""Operators of the data platform team, installed as a package on every Airflow worker."""

from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator


class DataPlatformSparkSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator with the platform's connection as the default."""

    def __init__(self, *, conn_id: str = "yarn_spark", **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, **kwargs)


class TwoRPSparkSubmitOperator(SparkSubmitOperator):
    """Submits into one of the two resource pools of the shared cluster (``rp_pool``)."""

    def __init__(self, *, rp_pool: str = "rp1", **kwargs: Any) -> None:
        conf = dict(kwargs.pop("conf", None) or {})
        conf["spark.yarn.queue"] = f"root.{rp_pool}"
        super().__init__(conf=conf, **kwargs)
