"""The OpenLineage run facet of a Moka job. Imports the OpenLineage client: only
:func:`moka_provider.operators.openlineage.job_lineage` imports it, when the provider is installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import define
from openlineage.client.facet_v2 import RunFacet

#: The result's keys holding the engine's own id of the run, by engine: Spark's application id,
#: Flink's and Ray's job id.
_ENGINE_RUN_IDS = ("spark_application_id", "job_id")


@define
class MokaJobRunFacet(RunFacet):
    """The job a Moka task ran: which resource on which cluster namespace, and where to look at it.

    :param engine: ``spark``, ``flink``, ``flink_session`` or ``ray``.
    :param kind: the custom resource's kind (``SparkApplication``, ``FlinkDeployment``, ``RayJob``).
    :param applicationId: the engine's id of the run (Spark application id, Flink or Ray job id).
    :param links: the task's link URLs (``moka_ui``, ``job_log``, ``spark_ui``, ...), those known.
    """

    engine: str
    kind: str
    namespace: str
    name: str
    uid: str | None
    attempt: int
    state: str | None
    applicationId: str | None
    links: dict[str, str]

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> MokaJobRunFacet:
        """The facet of the job described by ``result`` (``JobReporter.result``: its XCom value)."""
        return cls(
            engine=result["engine"],
            kind=result["kind"],
            namespace=result["namespace"],
            name=result["name"],
            uid=result.get("uid"),
            attempt=result.get("attempt", 1),
            state=result.get("state"),
            applicationId=next((result[key] for key in _ENGINE_RUN_IDS if result.get(key)), None),
            links={button: url for button, url in (result.get("links") or {}).items() if url},
        )
