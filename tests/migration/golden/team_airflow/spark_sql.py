"""The team's SparkSqlOperator: always on YARN, in the team's queue unless told otherwise."""

from typing import Any

from moka_provider.operators.monarch import MonarchSparkSqlOperator


# moka migrate: needs a human: an in-house subclass of SparkSqlOperator: it now extends...
class TeamSparkSqlOperator(MonarchSparkSqlOperator):
    """Runs SQL on YARN through the team's connection."""

    def __init__(self, *, team_queue: str = "analytics", **kwargs: Any) -> None:
        super().__init__(master="yarn", conn_id="spark_sql_yarn", yarn_queue=team_queue, **kwargs)
