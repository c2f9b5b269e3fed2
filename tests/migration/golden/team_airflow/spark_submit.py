"""The team's SparkSubmitOperator: our YARN connection, a queue argument of our own, quiet logs."""

from typing import Any

from moka_provider.operators.monarch import MonarchSparkSubmitOperator


# moka migrate: needs a human: an in-house subclass of AirflowSparkSubmitOperator: it now...
class SparkSubmitOperator(MonarchSparkSubmitOperator):
    """Submits with the team's connection; ``team_queue`` is the YARN queue, ``owner_team`` is
    kept for the on-call dashboard."""

    ui_color = "#f4a460"

    def __init__(
        self, *, team_queue: str = "analytics", owner_team: str = "analytics", **kwargs: Any
    ) -> None:
        super().__init__(conn_id="yarn_spark", yarn_queue=team_queue, verbose=False, **kwargs)
        self.owner_team = owner_team
