"""OpenLineage across Airflow and the job, through Airflow's OpenLineage provider when it is installed.

Into the job: a Spark job's ``spec.sparkConf`` gets the task's OpenLineage run (parent job
information, ``spark.openlineage.parent*`` and ``spark.openlineage.root*``) and where to send events
(transport information, ``spark.openlineage.transport.*``), so that the events of Spark's
OpenLineage integration link to the Airflow task: what the provider's own helpers
(``airflow.providers.openlineage.utils.spark``) compute for the Dataproc, EMR and SparkSubmit
operators. Out of the job: :func:`job_lineage`, the facets of a job that ended, for
``get_openlineage_facets_on_complete`` and ``get_openlineage_facets_on_failure``.

Imported only by a running task, never when a DAG is parsed; the provider itself is imported when
needed, and its absence (or OpenLineage being disabled) skips lineage with a line in the task log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

#: Key prefixes whose presence makes the provider's helpers leave the properties alone
#: (``_is_parent_job_information_present_in_spark_properties`` and
#: ``_is_transport_information_present_in_spark_properties`` in its ``utils/spark.py``): looked
#: for here too, to name the keys in the task log.
_PARENT_PREFIX = "spark.openlineage.parent"
_TRANSPORT_PREFIX = "spark.openlineage.transport"


def inject_openlineage(
    manifest: dict[str, Any],
    context: Context,
    *,
    parent_job_info: bool | None,
    transport_info: bool | None,
    log: Callable[..., None],
) -> dict[str, Any]:
    """``manifest`` (a SparkApplication) with OpenLineage's Spark properties added to ``spec.sparkConf``.

    :param parent_job_info: inject the task's run; ``None``: Airflow's ``[openlineage]
        spark_inject_parent_job_info``.
    :param transport_info: inject the transport; ``None``: ``[openlineage] spark_inject_transport_info``.
    :param log: the task log's ``info``: one line for each kind of information injected or skipped.
    """
    try:
        from airflow.providers.openlineage import conf
    except ImportError:
        if parent_job_info or transport_info:
            log("OpenLineage information not injected: the OpenLineage provider is not installed")
        return manifest
    wanted = {
        _PARENT_PREFIX: conf.spark_inject_parent_job_info() if parent_job_info is None else parent_job_info,
        _TRANSPORT_PREFIX: conf.spark_inject_transport_info() if transport_info is None else transport_info,
    }
    if not any(wanted.values()):
        return manifest
    if conf.is_disabled():
        log("OpenLineage information not injected: OpenLineage is disabled in this Airflow")
        return manifest
    # The helpers load the provider's listener and its OpenLineage client: only now that they run.
    from airflow.providers.openlineage.utils.spark import (
        inject_parent_job_information_into_spark_properties,
        inject_transport_information_into_spark_properties,
    )

    helpers = {
        _PARENT_PREFIX: ("parent job information", inject_parent_job_information_into_spark_properties),
        _TRANSPORT_PREFIX: ("transport information", inject_transport_information_into_spark_properties),
    }
    properties = dict(manifest["spec"].get("sparkConf") or {})
    for prefix, (what, inject) in helpers.items():
        if not wanted[prefix]:
            continue
        present = sorted(key for key in properties if str(key).startswith(prefix))
        if present:
            log("OpenLineage %s not injected: sparkConf already sets %s", what, ", ".join(present))
            continue
        added = {
            key: str(value)
            for key, value in inject(properties, context).items()
            if key not in properties and value is not None
        }
        if not added:
            log(
                "OpenLineage %s not injected: the provider has none to give Spark "
                "(of the transports, only http ones, alone or in a composite, can be passed on)",
                what,
            )
            continue
        properties.update(added)
        log("OpenLineage %s injected into sparkConf: %s", what, ", ".join(sorted(added)))
    return {**manifest, "spec": {**manifest["spec"], "sparkConf": properties}}


def inject_task_openlineage(task: Any, manifest: dict[str, Any], context: Context) -> dict[str, Any]:
    """:func:`inject_openlineage` as a Spark ``task`` asks for it: its ``openlineage_inject_*``
    arguments, lines in its task log."""
    return inject_openlineage(
        manifest,
        context,
        parent_job_info=task.openlineage_inject_parent_job_info,
        transport_info=task.openlineage_inject_transport_info,
        log=task.log.info,
    )


def job_lineage(result: Mapping[str, Any] | None) -> OperatorLineage | None:
    """The ``moka_job`` run facet of a job that ended, from its description as the task's XCom
    value gives it (:meth:`~moka_provider.jobs.reporting.JobReporter.result`); ``None`` without one
    or without the OpenLineage provider."""
    if result is None:
        return None
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage

        from moka_provider.operators.openlineage_facet import MokaJobRunFacet
    except ImportError:
        return None
    return OperatorLineage(run_facets={"moka_job": MokaJobRunFacet.from_result(result)})
