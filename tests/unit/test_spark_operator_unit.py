"""MokaSparkOperator without a cluster: construction, arguments, DAG parsing, mapping."""

from __future__ import annotations

import copy
import datetime
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG, BaseOperator
from airflow.sdk.definitions.mappedoperator import MappedOperator
from airflow.serialization.serialized_objects import DagSerialization

from moka_provider.exceptions import MokaApiError, MokaJobSpecError
from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.hooks.watching import WatchEvent
from moka_provider.jobs.tracking import Deadlines, JobTracker, Verdict
from moka_provider.operators.spark import MokaSparkOperator
from moka_provider.resources import CustomResource
from moka_provider.settings import MokaSettings
from tests.conftest import REPO

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
DEFAULT_QUEUE = BaseOperator(task_id="reference").queue


def spark(**kwargs: object) -> MokaSparkOperator:
    return MokaSparkOperator(**{"task_id": "pi", "application": "local:///pi.py", **kwargs})  # type: ignore[arg-type]


# --- construction --------------------------------------------------------------------------------------

SPARK_ARGUMENTS: dict[str, object] = {
    "namespace": "team",
    "name": "pi",
    "spec_overrides": {"spec": {}},
    "main_class": "org.Pi",
    "arguments": ["1"],
    "spark_conf": {"spark.x": 1},
    "hadoop_conf": {"fs.x": "y"},
    "driver": {"cores": 1},
    "executors": {"instances": 2},
    "dynamic_allocation": {"max_executors": 4},
    "spark_deps": {"jars": ["s3a://b/x.jar"]},
    "yunikorn_queue": "root.team",
    "image": "img",
    "env": {"A": "1"},
    "application_file": "app.yaml",
}


def test_every_template_field_is_an_attribute():
    task = spark(**SPARK_ARGUMENTS)

    assert len(set(task.template_fields)) == len(task.template_fields)
    for field in task.template_fields:
        assert hasattr(task, field), field
        assert getattr(task, field) is not None, field
    for argument, value in SPARK_ARGUMENTS.items():
        assert getattr(task, argument) == value, argument


def test_template_fields_exist_with_defaults_too():
    task = spark()

    for field in task.template_fields:
        assert hasattr(task, field), field


def test_template_fields_hold_no_attribute_the_scheduler_reads():
    for shadowed in ("executor", "deps", "queue", "pool", "priority_weight"):
        assert shadowed not in MokaSparkOperator.template_fields


def test_spark_settings_do_not_touch_airflows_task_attributes():
    plain = spark()
    task = spark(
        executors={"instances": 3, "memory": "2g"},
        spark_deps={"jars": ["s3a://b/x.jar"]},
        yunikorn_queue="root.team",
    )

    assert task.executors == {"instances": 3, "memory": "2g"}
    assert task.spark_deps == {"jars": ["s3a://b/x.jar"]}
    assert task.yunikorn_queue == "root.team"
    assert task.executor is None  # BaseOperator's: which Airflow executor runs the task
    assert "deps" not in vars(task) and "deps" not in vars(plain)  # the scheduler's TI dependencies
    assert task.queue == DEFAULT_QUEUE


def test_executors_spark_deps_and_yunikorn_queue_reach_the_spark_application():
    task = spark(
        executors={"instances": 3, "memory": "2g"},
        spark_deps={"jars": ["s3a://b/x.jar"]},
        yunikorn_queue="root.team",
        queue="spark_workers",
        image="spark:3.5.3",
        spark_version="3.5.3",
    )

    spec = task.build_manifest(MokaSettings(queue="root.default"), {})["spec"]

    assert spec["executor"] == {"instances": 3, "memory": "2g"}
    assert spec["deps"] == {"jars": ["s3a://b/x.jar"]}
    assert spec["batchSchedulerOptions"]["queue"] == "root.team"
    assert "spark_workers" not in repr(spec)  # the Airflow queue is not the job's


def test_without_yunikorn_queue_the_connections_queue_is_used():
    task = spark(queue="spark_workers", image="spark:3.5.3", spark_version="3.5.3")

    spec = task.build_manifest(MokaSettings(queue="root.default"), {})["spec"]

    assert task.yunikorn_queue is None
    assert spec["batchSchedulerOptions"]["queue"] == "root.default"


def test_executor_mapping_is_rejected_pointing_at_executors():
    with pytest.raises(TypeError, match=r"executors=") as raised:
        spark(executor={"instances": 3, "memory": "2g"})

    assert "Airflow executor" in str(raised.value)


def test_executor_name_is_still_airflows_executor():
    task = spark(executor="LocalExecutor", executors={"instances": 2})

    assert task.executor == "LocalExecutor"
    assert task.executors == {"instances": 2}


def test_deps_is_rejected_pointing_at_spark_deps():
    with pytest.raises(TypeError, match=r"spark_deps="):
        spark(deps={"jars": ["s3a://b/x.jar"]})


def test_queue_is_the_airflow_queue_and_yunikorn_queue_the_jobs():
    task = spark(yunikorn_queue="root.team", queue="spark_workers")

    assert task.yunikorn_queue == "root.team"
    assert task.queue == "spark_workers"


def test_without_queue_the_airflow_queue_is_the_default():
    task = spark(yunikorn_queue="root.team")

    assert task.queue == DEFAULT_QUEUE
    assert task.yunikorn_queue == "root.team"


def test_worker_queue_no_longer_exists():
    with pytest.raises(TypeError, match="worker_queue"):
        spark(worker_queue="spark_workers")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (datetime.timedelta(minutes=5), 300.0),
        (90, 90.0),
        (0.5, 0.5),
        (datetime.timedelta(milliseconds=1), 0.001),
    ],
)
def test_timeouts_accept_seconds_and_timedeltas(value: float | datetime.timedelta, seconds: float):
    task = spark(start_timeout=value, timeout=value)

    assert task.start_timeout == seconds
    assert task.timeout == seconds


@pytest.mark.parametrize("argument", ["start_timeout", "timeout"])
@pytest.mark.parametrize("value", [0, -1, 0.0, datetime.timedelta(0), datetime.timedelta(seconds=-5)])
def test_timeouts_must_be_positive(argument: str, value: float | datetime.timedelta):
    with pytest.raises(MokaJobSpecError) as raised:
        spark(**{argument: value})

    assert raised.value.argument == argument


def test_no_timeouts_by_default():
    task = spark()

    assert task.start_timeout is None
    assert task.timeout is None
    assert task.delete_on_kill is True


# --- DAG parsing -----------------------------------------------------------------------------------------


def test_parsing_a_dag_of_200_operators_imports_no_kubernetes_client():
    code = textwrap.dedent(
        """
        import datetime, sys
        from airflow.sdk import DAG
        from moka_provider.operators.spark import MokaSparkOperator

        with DAG("many", schedule=None, start_date=datetime.datetime(2024, 1, 1)) as dag:
            for i in range(200):
                MokaSparkOperator(
                    task_id=f"job_{i}", application="local:///pi.py", executors={"instances": 2},
                    spark_deps={"jars": ["s3a://b/x.jar"]}, yunikorn_queue="root.team", start_timeout=60,
                )
        clients = sorted(m for m in sys.modules if m.split(".")[0] in ("kubernetes", "kubernetes_asyncio"))
        print(len(dag.tasks), clients)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "200 []"


def test_operator_in_a_dag_survives_serialization():
    with DAG("plain", schedule=None, start_date=START) as dag:
        spark(yunikorn_queue="root.team", queue="spark_workers", executors={"instances": 2})

    task = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("pi")

    assert task.queue == "spark_workers"
    assert task.executor is None


def test_spark_deps_do_not_replace_the_schedulers_task_dependencies():
    from airflow.ti_deps.deps.base_ti_dep import BaseTIDep

    with DAG("with_deps", schedule=None, start_date=START) as dag:
        spark(spark_deps={"jars": ["s3a://bucket/x.jar"]})
    with DAG("without_deps", schedule=None, start_date=START) as plain_dag:
        spark()

    task = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("pi")
    plain = DagSerialization.from_dict(DagSerialization.to_dict(plain_dag)).get_task("pi")

    assert task.deps  # the scheduler's `dep_context.deps | task.deps` needs a set of TI deps
    assert all(isinstance(dep, BaseTIDep) for dep in task.deps)
    assert task.deps == plain.deps


# --- mapping -------------------------------------------------------------------------------------------


def test_partial_expand_builds_in_a_dag():
    with DAG("mapped", schedule=None, start_date=START) as dag:
        mapped = MokaSparkOperator.partial(
            task_id="pi", application="local:///pi.py", executors={"instances": 2}, timeout=600
        ).expand(arguments=[["1"], ["2"], ["3"]])

    assert isinstance(mapped, MappedOperator)
    assert dag.task_dict["pi"] is mapped
    assert mapped.expand_input.value == {"arguments": [["1"], ["2"], ["3"]]}
    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("pi")
    assert serialized.is_mapped
    assert serialized.queue == DEFAULT_QUEUE
    assert serialized.executor is None


MAPPED_DAG = """
import datetime
from airflow.sdk import DAG
from moka_provider.operators.spark import MokaSparkOperator

with DAG("mapped_spark", schedule=None, start_date=datetime.datetime(2024, 1, 1)):
    MokaSparkOperator.partial(
        task_id="pi",
        application="local:///pi.py",
        yunikorn_queue="root.team",
        queue="spark_workers",
        executors={"instances": 2},
        spark_deps={"jars": ["s3a://bucket/x.jar"]},
    ).expand(arguments=[["1"], ["2"]])
"""


def test_mapped_spark_settings_keep_airflows_queue_executor_and_deps(tmp_path: Path):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.ti_deps.deps.base_ti_dep import BaseTIDep

    (tmp_path / "mapped_spark.py").write_text(MAPPED_DAG)
    bag = DagBag(str(tmp_path))

    assert bag.import_errors == {}
    dag = bag.dags["mapped_spark"]
    mapped = dag.get_task("pi")
    assert isinstance(mapped, MappedOperator)
    assert mapped.partial_kwargs["yunikorn_queue"] == "root.team"
    assert mapped.partial_kwargs["executors"] == {"instances": 2}
    assert mapped.partial_kwargs["spark_deps"] == {"jars": ["s3a://bucket/x.jar"]}

    task = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("pi")
    assert task.is_mapped
    assert task.queue == "spark_workers"
    assert task.executor is None
    assert task.deps and all(isinstance(dep, BaseTIDep) for dep in task.deps)


def test_mapped_deps_is_rejected():
    with pytest.raises(TypeError, match="deps"):
        MokaSparkOperator.partial(task_id="pi", application="local:///pi.py", deps={"jars": ["x.jar"]})


def test_mapped_executor_mapping_is_rejected_pointing_at_executors():
    with pytest.raises(TypeError, match=r"executors="):
        MokaSparkOperator.partial(
            task_id="pi", application="local:///pi.py", executor={"instances": 2}
        ).expand(arguments=[["1"], ["2"]])


# --- waiting in the worker --------------------------------------------------------------------------------


def spark_job(state: str, *, uid: str = "uid-1", version: str = "1") -> dict[str, Any]:
    return {
        "metadata": {
            "name": "pi-1a2b3c4d",
            "namespace": "moka",
            "uid": uid,
            "resourceVersion": version,
            "creationTimestamp": datetime.datetime.now(datetime.UTC).isoformat(),  # deadlines count from it
        },
        "status": {"applicationState": {"state": state}},
    }


class FakeHook:
    """get/watch of MokaHook over one job in memory (``None``: not found); each watch yields a batch."""

    def __init__(self, current: dict[str, Any] | None, *batches: list[WatchEvent]) -> None:
        self.current = current
        self.batches = list(batches)
        self.gets = 0
        self.watches: list[dict[str, Any]] = []
        self.outage = 0  # the next gets that fail as an unreachable API server
        self.retry_policy = RetryPolicy(initial_wait=0.001, max_wait=0.01)
        self.events: list[dict[str, Any]] = []  # what the operator recorded about the job
        self.event_queries: list[dict[str, Any]] = []

    def list_events(self, name: str, namespace: str | None = None, **selector: Any) -> list[dict]:
        self.event_queries.append({"name": name, "namespace": namespace, **selector})
        return list(self.events)

    def get(self, resource: CustomResource, name: str, namespace: str | None = None) -> dict:
        self.gets += 1
        if self.gets > 10:
            raise RuntimeError("still waiting after 10 looks at the job")
        if self.outage:
            self.outage -= 1
            raise MokaApiError(f"get {resource.describe(namespace, name)}", 503, "ServiceUnavailable", "busy")
        if self.current is None:
            raise MokaApiError(f"get {resource.describe(namespace, name)}", 404, "NotFound", "not found")
        return copy.deepcopy(self.current)

    def watch(
        self,
        resource: CustomResource,
        namespace: str,
        *,
        name: str,
        resource_version: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[WatchEvent]:
        self.watches.append({"name": name, "resource_version": resource_version, "timeout": timeout})
        for event in self.batches.pop(0) if self.batches else []:
            self.current = None if event.type == "DELETED" else event.object
            yield event


def worker_wait(
    hook: FakeHook, submitted: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list]:
    task = spark(timeout=3600)
    task._hook = hook  # type: ignore[assignment]
    persisted: list[str] = []
    monkeypatch.setattr(
        MokaSparkOperator,
        "_persist_links",
        lambda self, context, job: persisted.append(job["status"]["applicationState"]["state"]),
    )
    tracker = JobTracker(task.adapter, submitted, Deadlines.for_job(submitted, None, 3600))
    return task._watch({}, tracker), persisted


def test_worker_wait_gets_the_job_then_watches_from_its_resource_version(monkeypatch: pytest.MonkeyPatch):
    hook = FakeHook(
        spark_job("RUNNING", version="5"),
        [WatchEvent("MODIFIED", spark_job("COMPLETED", version="6"))],
    )

    outcome, persisted = worker_wait(hook, spark_job("SUBMITTED"), monkeypatch)

    assert outcome.verdict is Verdict.SUCCEEDED
    assert outcome.job["metadata"]["resourceVersion"] == "6"
    assert hook.gets == 1
    assert [watch["resource_version"] for watch in hook.watches] == ["5"]
    assert persisted == ["RUNNING", "COMPLETED"]  # links stored on each change of state


def test_worker_wait_outlasts_an_api_server_that_is_away(monkeypatch: pytest.MonkeyPatch):
    hook = FakeHook(spark_job("COMPLETED", version="7"))
    hook.outage = 4  # each failed get stands for a call the hook already retried and gave up on

    outcome, _ = worker_wait(hook, spark_job("RUNNING"), monkeypatch)

    assert outcome.verdict is Verdict.SUCCEEDED
    assert hook.gets == 5


def test_worker_wait_ends_at_once_for_a_job_that_already_ended(monkeypatch: pytest.MonkeyPatch):
    hook = FakeHook(spark_job("FAILED", version="9"))

    outcome, _ = worker_wait(hook, spark_job("RUNNING"), monkeypatch)

    assert outcome.verdict is Verdict.FAILED
    assert outcome.job["metadata"]["resourceVersion"] == "9"


def test_worker_wait_for_a_job_already_gone_is_deleted(monkeypatch: pytest.MonkeyPatch):
    hook = FakeHook(None)

    outcome, _ = worker_wait(hook, spark_job("RUNNING"), monkeypatch)

    assert outcome.verdict is Verdict.DELETED
    assert outcome.job["metadata"]["uid"] == "uid-1"
    assert outcome.status.state == "RUNNING"  # the last state seen
    assert hook.watches == []


@pytest.mark.parametrize(
    ("reason", "verdict"),
    [("SparkDriverCompleted", Verdict.SUCCEEDED), ("SparkApplicationFailed", Verdict.FAILED)],
)
def test_worker_wait_for_a_job_gone_after_it_ended_ends_as_its_operator_recorded(
    monkeypatch: pytest.MonkeyPatch, reason: str, verdict: Verdict
):
    hook = FakeHook(None)
    hook.events = [{"reason": "SparkApplicationSubmitted"}, {"reason": reason, "message": "the end"}]

    outcome, _ = worker_wait(hook, spark_job("RUNNING"), monkeypatch)

    assert outcome.verdict is verdict
    assert outcome.status.state == reason
    assert outcome.status.message == f"its operator recorded {reason} before the job was deleted"
    assert hook.event_queries[0]["uid"] == "uid-1"


def test_worker_wait_looks_again_after_a_quiet_watch(monkeypatch: pytest.MonkeyPatch):
    hook = FakeHook(
        spark_job("RUNNING", version="2"),
        [],
        [WatchEvent("DELETED", spark_job("RUNNING", version="3"))],
    )

    outcome, _ = worker_wait(hook, spark_job("RUNNING"), monkeypatch)

    assert outcome.verdict is Verdict.DELETED
    assert hook.gets == 2
    assert [watch["resource_version"] for watch in hook.watches] == ["2", "2"]
    assert all(watch["timeout"] > 0 for watch in hook.watches)  # bounded by timeout=


def test_worker_wait_for_a_job_replaced_by_a_namesake_is_deleted(monkeypatch: pytest.MonkeyPatch):
    hook = FakeHook(spark_job("RUNNING", uid="uid-2"))

    outcome, _ = worker_wait(hook, spark_job("RUNNING"), monkeypatch)

    assert outcome.verdict is Verdict.DELETED
    assert outcome.job["metadata"]["uid"] == "uid-1"


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([{"reason": "SparkDriverRunning"}, {"reason": "SparkDriverCompleted"}], "SUCCEEDED"),
        ([{"reason": "SparkDriverFailed"}], "MISSING"),  # run again, as after any failure
        ([], "MISSING"),
    ],
)
def test_a_retry_finding_its_job_gone_takes_a_recorded_success_and_runs_anything_else_again(
    events: list[dict[str, Any]], status: str
):
    task = spark(timeout=3600)
    hook = FakeHook(None)
    hook.events = events
    task._hook = hook  # type: ignore[assignment]

    assert task.get_job_status("moka/pi-1a2b3c4d", {}) == status
    assert hook.event_queries == [{"name": "pi-1a2b3c4d", "namespace": "moka", "kind": "SparkApplication"}]
    if status == "SUCCEEDED":
        assert task._current_job["metadata"] == {"name": "pi-1a2b3c4d", "namespace": "moka"}
