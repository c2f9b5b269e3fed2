"""OpenLineage: the Spark properties Moka's Spark operators inject, through the OpenLineage provider's
own helpers and configuration, and the run facet the job operators report."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from airflow.providers.openlineage import conf as ol_conf
from airflow.providers.openlineage.plugins.listener import get_openlineage_listener
from airflow.providers.openlineage.plugins.macros import lineage_run_id

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from moka_provider.operators.openlineage import inject_openlineage, job_lineage
from moka_provider.operators.spark import MokaSparkOperator
from moka_provider.settings import MokaSettings

HTTP_TRANSPORT = {"type": "http", "url": "http://lineage.test:5000", "endpoint": "api/v1/lineage"}


@dataclass
class DagRun:
    logical_date: datetime.datetime = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    run_after: datetime.datetime = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    clear_number: int = 0
    conf: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskInstance:
    """What the provider's lineage macros read of a running task instance."""

    dag_id: str = "sales"
    task_id: str = "aggregate"
    try_number: int = 2
    map_index: int = -1
    dag_run: DagRun = field(default_factory=DagRun)

    def get_template_context(self) -> dict[str, Any]:
        return {"dag_run": self.dag_run}


@pytest.fixture
def openlineage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sets ``[openlineage]`` options (``openlineage(transport=..., spark_inject_parent_job_info=...)``)
    as Airflow reads them, from the environment; the provider caches what it read, and its client."""

    def configure(**options: Any) -> None:
        for option, value in options.items():
            text = json.dumps(value) if isinstance(value, dict) else str(value)
            monkeypatch.setenv(f"AIRFLOW__OPENLINEAGE__{option.upper()}", text)
        clear_caches()

    def clear_caches() -> None:
        for value in vars(ol_conf).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()
        get_openlineage_listener.cache_clear()  # its client holds the transport

    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED", "OPENLINEAGE_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    clear_caches()
    yield configure
    monkeypatch.undo()
    clear_caches()


def manifest(**spark_conf: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "Python", "mainApplicationFile": "local:///job.py"}
    if spark_conf:
        spec["sparkConf"] = spark_conf
    return {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication", "spec": spec}


def inject(
    given: dict[str, Any], parent: bool | None = None, transport: bool | None = None
) -> tuple[Any, str]:
    """The manifest after injection, and the log lines it wrote."""
    lines: list[str] = []
    context: Any = {"ti": TaskInstance()}
    result = inject_openlineage(
        given,
        context,
        parent_job_info=parent,
        transport_info=transport,
        log=lambda message, *args: lines.append(message % args),
    )
    return result, "\n".join(lines)


def test_the_parent_job_information_is_the_tasks_openlineage_run(openlineage: Any) -> None:
    openlineage(transport={"type": "console"}, namespace="lake", spark_inject_parent_job_info=True)
    given = manifest(**{"spark.sql.shuffle.partitions": "8"})

    result, log = inject(given)

    conf = result["spec"]["sparkConf"]
    assert conf["spark.openlineage.parentRunId"] == lineage_run_id(TaskInstance())
    assert conf["spark.openlineage.parentJobName"] == "sales.aggregate"
    assert conf["spark.openlineage.parentJobNamespace"] == "lake"
    assert conf["spark.openlineage.rootParentJobName"] == "sales"
    assert conf["spark.sql.shuffle.partitions"] == "8"  # the job's own properties stay
    assert all(isinstance(value, str) for value in conf.values())  # sparkConf is map[string]string
    assert "OpenLineage parent job information injected into sparkConf: " in log
    assert "transport" not in log  # not asked for
    assert "spark.openlineage.parentRunId" not in given["spec"]["sparkConf"]  # a new manifest, not a change


def test_properties_the_job_already_sets_are_kept_and_the_log_says_so(openlineage: Any) -> None:
    openlineage(transport=HTTP_TRANSPORT, spark_inject_parent_job_info=True, spark_inject_transport_info=True)
    given = manifest(
        **{"spark.openlineage.parentRunId": "mine", "spark.openlineage.transport.type": "console"}
    )

    result, log = inject(given)

    assert result["spec"]["sparkConf"] == given["spec"]["sparkConf"]
    assert "parent job information not injected: sparkConf already sets spark.openlineage.parentRunId" in log
    assert (
        "transport information not injected: sparkConf already sets spark.openlineage.transport.type" in log
    )


def test_the_http_transport_goes_to_spark(openlineage: Any) -> None:
    openlineage(transport=HTTP_TRANSPORT)

    result, log = inject(manifest(), transport=True)

    conf = result["spec"]["sparkConf"]
    assert conf["spark.openlineage.transport.type"] == "http"
    assert conf["spark.openlineage.transport.url"] == "http://lineage.test:5000"
    assert conf["spark.openlineage.transport.endpoint"] == "api/v1/lineage"
    assert int(conf["spark.openlineage.transport.timeoutInMillis"]) > 0
    assert not any(key.startswith("spark.openlineage.parent") for key in conf)  # not asked for
    assert "OpenLineage transport information injected into sparkConf" in log


def test_a_transport_spark_cannot_use_is_not_injected_and_the_log_says_why(openlineage: Any) -> None:
    openlineage(transport={"type": "console"}, spark_inject_transport_info=True)

    result, log = inject(manifest())

    assert "sparkConf" not in result["spec"] or not result["spec"]["sparkConf"]
    assert "OpenLineage transport information not injected: the provider has none to give Spark" in log


def test_disabled_openlineage_injects_nothing_and_says_so(openlineage: Any) -> None:
    openlineage(transport=HTTP_TRANSPORT, disabled=True)

    result, log = inject(manifest(), parent=True, transport=True)

    assert result == manifest()
    assert log == "OpenLineage information not injected: OpenLineage is disabled in this Airflow"


@pytest.mark.parametrize(
    ("configured", "argument", "injected"),
    [(True, None, True), (False, None, False), (True, False, False), (False, True, True)],
)
def test_the_arguments_override_airflows_configuration(
    openlineage: Any, configured: bool, argument: bool | None, injected: bool
) -> None:
    openlineage(
        transport=HTTP_TRANSPORT,
        spark_inject_parent_job_info=configured,
        spark_inject_transport_info=configured,
    )

    result, log = inject(manifest(), parent=argument, transport=argument)

    conf = result["spec"].get("sparkConf") or {}
    assert ("spark.openlineage.parentRunId" in conf) is injected
    assert ("spark.openlineage.transport.url" in conf) is injected
    assert (log.count(" injected into sparkConf") == 2) is injected


def test_without_the_provider_nothing_is_injected_and_an_explicit_request_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [*sys.modules, "airflow.providers.openlineage"]:  # importing them fails: not installed
        if name.startswith(("airflow.providers.openlineage", "openlineage")):
            monkeypatch.setitem(sys.modules, name, None)

    asked, asked_log = inject(manifest(), parent=True)
    defaulted, defaulted_log = inject(manifest())

    assert asked == defaulted == manifest()
    assert asked_log == "OpenLineage information not injected: the OpenLineage provider is not installed"
    assert defaulted_log == ""  # the defaults come from that provider: nothing was asked
    assert job_lineage({"engine": "spark"}) is None


def test_the_spark_operators_inject_into_the_manifest_they_build(openlineage: Any) -> None:
    openlineage(transport={"type": "console"}, spark_inject_parent_job_info=True)
    context: Any = {"ti": TaskInstance()}
    spark = MokaSparkOperator(
        task_id="aggregate",
        application="local:///job.py",
        spec_overrides={"sparkConf": {"spark.openlineage.parentJobName": "from-overrides"}},
    )
    monarch = MonarchSparkSubmitOperator(
        task_id="aggregate", application="/jobs/job.py", openlineage_inject_parent_job_info=False
    )
    dropped_in = MonarchSparkSubmitOperator(task_id="aggregate", application="/jobs/job.py")

    settings = MokaSettings(images={"spark": "spark:3.5"}, versions={"spark": "3.5.3"})
    spark_conf = spark.build_manifest(settings, context)["spec"]["sparkConf"]
    monarch_conf = monarch.build_manifest(settings, context)["spec"].get("sparkConf") or {}
    dropped_in_conf = dropped_in.build_manifest(settings, context)["spec"]["sparkConf"]

    # spec_overrides come before the injection, which then leaves the job's own parent alone
    assert spark_conf == {"spark.openlineage.parentJobName": "from-overrides"}
    assert not any(key.startswith("spark.openlineage") for key in monarch_conf)
    assert dropped_in_conf["spark.openlineage.parentRunId"] == lineage_run_id(TaskInstance())


RESULT = {
    "engine": "spark",
    "kind": "SparkApplication",
    "name": "aggregate-1a2b3c4d",
    "namespace": "jobs",
    "uid": "4f1c",
    "attempt": 1,
    "state": "COMPLETED",
    "links": {"moka_ui": "https://moka.test/a", "spark_ui": None, "job_log": "https://logs.test/a"},
    "spark_application_id": "spark-0123",
}


def test_the_job_run_facet_carries_the_jobs_identity_and_links() -> None:
    from openlineage.client.serde import Serde

    lineage = job_lineage(RESULT)

    assert lineage is not None and list(lineage.run_facets) == ["moka_job"]
    facet = json.loads(Serde.to_json(lineage.run_facets["moka_job"]))
    identity = ("engine", "kind", "namespace", "name", "uid", "attempt", "state")
    assert {key: facet[key] for key in identity} == {key: RESULT[key] for key in identity}
    assert facet["applicationId"] == "spark-0123"
    assert facet["links"] == {"moka_ui": "https://moka.test/a", "job_log": "https://logs.test/a"}
    assert facet["_producer"] and facet["_schemaURL"]


def test_flink_and_ray_jobs_give_their_job_id() -> None:
    flink = {**RESULT, "engine": "flink", "kind": "FlinkDeployment", "job_id": "f00d"}
    del flink["spark_application_id"]

    lineage = job_lineage(flink)

    assert lineage is not None and lineage.run_facets["moka_job"].applicationId == "f00d"


def test_an_operator_without_a_successful_job_reports_no_facets() -> None:
    task = MokaSparkOperator(task_id="aggregate", application="local:///job.py")

    assert task.get_openlineage_facets_on_complete(None) is None
    task._result = RESULT
    lineage = task.get_openlineage_facets_on_complete(None)
    assert lineage is not None and lineage.run_facets["moka_job"].name == RESULT["name"]


def test_moka_migrate_keeps_the_openlineage_arguments_of_a_converted_spark_submit() -> None:
    from moka_provider.migration.rewrite_calls import SPARK_SUBMIT, CallSite, plan_call

    keywords = {
        "task_id": "'t'",
        "application": "'s3a://b/x.py'",
        "openlineage_inject_parent_job_info": "True",
    }
    plan = plan_call(CallSite(kind=SPARK_SUBMIT, keywords=keywords))

    assert plan.outcome == "converted" and "application" in plan.removed
    assert "openlineage_inject_parent_job_info" not in plan.removed  # kept as written: Moka's too
    assert not any(finding.subject.startswith("openlineage") for finding in plan.findings)


class ConcludingHook:
    """What concluding a Spark job asks of MokaHook: its settings, its pods (gone), deleting it."""

    settings = MokaSettings.from_extras({"moka_ui_url": "https://moka.test/{namespace}/{name}"})

    def list_pods(self, selector: Any, namespace: str) -> list[dict[str, Any]]:
        return []

    def delete(self, resource: Any, name: str, namespace: str, missing_ok: bool = False) -> bool:
        return True


class PushedLinks:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


def ended_spark_job(verdict: str, state: str) -> dict[str, Any]:
    """A trigger's event for a Spark job that ended (``Outcome.to_event``)."""
    created = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    job = {
        "metadata": {
            "name": "aggregate-1a2b3c4d",
            "namespace": "jobs",
            "uid": "4f1c",
            "creationTimestamp": created.isoformat(),
        },
        "status": {"applicationState": {"state": state}, "sparkApplicationId": "spark-0123"},
    }
    phase = "FAILED" if state == "FAILED" else "RUNNING"
    return {
        "verdict": verdict,
        "job": job,
        "status": {"phase": phase, "state": state, "message": "exit code 3"},
        "started_at": created.timestamp() + 5,
        "finished_at": created.timestamp() + 60,
    }


def fail_event_lineage(task: MokaSparkOperator) -> Any:
    """What the OpenLineage provider's own extractor takes from ``task`` for a FAIL event."""
    from airflow.providers.openlineage.extractors.base import DefaultExtractor

    return DefaultExtractor(task).extract_on_failure(TaskInstance())


@pytest.mark.parametrize(
    ("verdict", "state"), [("failed", "FAILED"), ("timeout", "RUNNING"), ("deleted", "RUNNING")]
)
def test_a_job_that_ended_badly_is_in_the_fail_events_facet(verdict: str, state: str) -> None:
    """Back from the triggerer in a new worker process: the facet comes from the trigger's event."""
    from moka_provider.exceptions import MokaJobFailed

    task = MokaSparkOperator(task_id="aggregate", application="local:///job.py", deferrable=True, timeout=30)
    task._hook = ConcludingHook()  # type: ignore[assignment]
    before = fail_event_lineage(task)
    context: Any = {"ti": PushedLinks()}

    with pytest.raises(MokaJobFailed):
        task.execute_complete(context, ended_spark_job(verdict, state))
    lineage = fail_event_lineage(task)

    assert before is None  # no job yet: nothing to say
    assert lineage is not None and list(lineage.run_facets) == ["moka_job"]
    facet = lineage.run_facets["moka_job"]
    assert (facet.kind, facet.namespace, facet.name, facet.uid) == (
        "SparkApplication",
        "jobs",
        "aggregate-1a2b3c4d",
        "4f1c",
    )
    assert facet.state == state and facet.applicationId == "spark-0123"
    assert facet.links == {"moka_ui": "https://moka.test/jobs/aggregate-1a2b3c4d"}
    assert task.get_openlineage_facets_on_complete(None) is None  # the COMPLETE facet is a success's only
