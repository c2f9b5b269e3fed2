"""The team's SparkSqlOperator: always on YARN, in the team's queue unless told otherwise."""

from typing import Any

from airflow.providers.apache.spark.operators.spark_sql import SparkSqlOperator


class TeamSparkSqlOperator(SparkSqlOperator):
    """Runs SQL on YARN through the team's connection."""

    def __init__(self, *, team_queue: str = "analytics", **kwargs: Any) -> None:
        super().__init__(master="yarn", conn_id="spark_sql_yarn", yarn_queue=team_queue, **kwargs)
