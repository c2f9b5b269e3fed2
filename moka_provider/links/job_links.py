"""Extra-link buttons of Moka tasks (registered in ``get_provider_info``).

The operator stores each button's URL in the task's XCom under the link's ``xcom_key`` as soon as
it is known (before deferring, and again when the job's state changes), which is where Airflow 3's
UI reads extra links from: so they are visible while the job runs. An empty URL (no template on
the connection, or a value the job does not have yet) is shown as no link, never a broken one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey


class MokaJobLink(BaseOperatorLink):
    """A button showing one URL of :func:`moka_provider.engines.links.job_urls`."""

    name: ClassVar[str]
    #: Which of ``job_urls``' entries this button shows.
    button: ClassVar[str]

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        # Called by the worker when the task ends, on the operator that ran: its latest URLs. (The
        # UI reads the XCom this value and persist_urls() store.)
        urls = getattr(operator, "moka_urls", None) or {}
        return urls.get(self.button) or ""


class MokaUILink(MokaJobLink):
    name = "Moka UI"
    button = "moka_ui"


class JobLogLink(MokaJobLink):
    name = "Job log"
    button = "job_log"


class SparkUILink(MokaJobLink):
    """The live Spark UI while the application runs, its History Server page afterwards."""

    name = "Spark UI"
    button = "spark_ui"


class FlinkDashboardLink(MokaJobLink):
    name = "Flink dashboard"
    button = "flink_dashboard"


class RayDashboardLink(MokaJobLink):
    name = "Ray dashboard"
    button = "ray_dashboard"


ALL_LINKS: tuple[type[MokaJobLink], ...] = (
    MokaUILink,
    JobLogLink,
    SparkUILink,
    FlinkDashboardLink,
    RayDashboardLink,
)


def persist_urls(ti: Any, operator: Any, urls: dict[str, str | None]) -> None:
    """Store the URLs of the operator's extra links where the UI reads them, unless unchanged."""
    if urls == getattr(operator, "moka_urls", None):
        return
    operator.moka_urls = urls
    for link in operator.operator_extra_links:
        if isinstance(link, MokaJobLink) and link.button in urls:
            ti.xcom_push(key=link.xcom_key, value=urls[link.button] or "")
