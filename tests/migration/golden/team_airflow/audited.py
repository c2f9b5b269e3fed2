"""A SparkSubmitOperator that writes an audit line before it submits."""

import logging
from typing import Any

from moka_provider.operators.monarch import MonarchSparkSubmitOperator

log = logging.getLogger(__name__)


# moka migrate: needs a human: an in-house subclass of SparkSubmitOperator: it now extends...
class AuditedSparkSubmitOperator(MonarchSparkSubmitOperator):
    """Logs who submitted what, for the compliance report, then submits."""

    def execute(self, context: Any) -> None:
        log.info("audit: %s submits %s", self.owner, self.application)
        super().execute(context)
