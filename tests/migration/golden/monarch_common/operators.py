"""In-house operators of the Monarch platform team."""

from typing import Any

from moka_provider.operators.monarch import MonarchSparkSubmitOperator


# moka migrate: needs a human: an in-house subclass of SparkSubmitOperator: it now extends...
class AcmeSparkSubmitOperator(MonarchSparkSubmitOperator):
    """SparkSubmitOperator that tags the job with its cost center (for the YARN chargeback report)."""

    def __init__(self, *, cost_center: str = "unknown", **kwargs: Any) -> None:
        conf = dict(kwargs.pop("conf", None) or {})
        conf.setdefault("spark.yarn.tags", f"cost-center-{cost_center}")
        super().__init__(conf=conf, **kwargs)
        self.cost_center = cost_center
