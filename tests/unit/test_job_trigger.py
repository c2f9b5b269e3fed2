"""MokaJobTrigger with an in-memory async hook: serialization, the event it fires, on_kill."""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from airflow.triggers.base import TriggerEvent

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.hooks.shared_watch import running_watches
from moka_provider.hooks.watching import WatchEvent, WatchSession
from moka_provider.resources import SPARK_APPLICATION, CustomResource
from moka_provider.triggers.job import MokaJobTrigger

NAME, NAMESPACE, UID = "pi-1a2b3c4d", "moka", "uid-1"


def spark_job(
    state: str | None, *, uid: str = UID, message: str | None = None, version: str = "1"
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "uid": uid,
            "resourceVersion": version,
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "labels": {"moka.dev/job-key": "k1"},
        }
    }
    if state is not None:
        job["status"] = {
            "applicationState": {"state": state, **({"errorMessage": message} if message else {})}
        }
    return job


GONE = object()  # in a batch: the job is deleted without the watch seeing it (a dropped connection)


class FakeAsyncHook:
    """What MokaJobTrigger and its shared watch call of MokaAsyncHook, over jobs held in memory.

    ``relist`` lists the jobs (``current`` and ``others``); each ``follow`` of the shared watch
    yields the next batch of events, the job changing with each, then ends as a watch request that
    timed out. ``get`` returns the job as it is now (``None``: not found, HTTP 404).
    """

    moka_conn_id = "moka_default"

    def __init__(self, current: dict[str, Any] | None, *batches: list[Any]) -> None:
        self.current = current
        self.others: list[dict[str, Any]] = []  # other jobs of the namespace
        self.batches = list(batches)
        self.gets: list[tuple[CustomResource, str, str | None]] = []
        self.lists: list[str | None] = []  # the label selector of each list
        self.follows = 0
        self.deleted: list[tuple[CustomResource, str, str | None]] = []
        self.get_error: MokaApiError | None = None
        self.outage = 0  # the next gets and lists that fail as an unreachable API server
        self.retry_policy = RetryPolicy(initial_wait=0.001, max_wait=0.01)
        self.events: list[dict[str, Any]] = []  # what the operator recorded about the job
        self.event_queries: list[dict[str, Any]] = []
        self.pods: list[dict[str, Any]] = []  # the job's log pods
        self.pod_selectors: list[str] = []

    def _fail(self, operation: str) -> None:
        if self.get_error is not None:
            raise self.get_error
        if self.outage:
            self.outage -= 1
            raise MokaApiError(operation, None, "Unreachable", "refused")

    async def list_pods(self, selector: str, namespace: str | None = None) -> list[dict]:
        self.pod_selectors.append(selector)
        return list(self.pods)

    async def list_events(self, name: str, namespace: str | None = None, **selector: Any) -> list[dict]:
        self.event_queries.append({"name": name, "namespace": namespace, **selector})
        return list(self.events)

    async def get(self, resource: CustomResource, name: str, namespace: str | None = None) -> dict:
        self.gets.append((resource, name, namespace))
        await asyncio.sleep(0)
        self._fail(f"get {resource.describe(namespace, name)}")
        if self.current is None or self.current["metadata"]["name"] != name:
            raise MokaApiError(f"get {resource.describe(namespace, name)}", 404, "NotFound", "not found")
        return copy.deepcopy(self.current)

    async def relist(self, session: WatchSession) -> list[WatchEvent]:
        self.lists.append(session.label_selector)
        await asyncio.sleep(0)
        self._fail(f"list {session.resource.kind}")
        items = [job for job in [self.current, *self.others] if job is not None]
        listed = session.take_page({"metadata": {"resourceVersion": "100"}, "items": copy.deepcopy(items)})
        assert listed is not None
        return listed

    async def follow(self, session: WatchSession) -> AsyncIterator[WatchEvent]:
        self.follows += 1
        batch = self.batches.pop(0) if self.batches else []
        for event in batch:
            await asyncio.sleep(0)
            if event is GONE:  # the resumed watch answers 410 Gone: the session re-lists
                self.current = None
                for relisted in await self.relist(session):
                    yield relisted
                continue
            if event.object["metadata"]["name"] == NAME:
                self.current = None if event.type == "DELETED" else event.object
            line = json.dumps({"type": event.type, "object": event.object})
            if seen := session.on_line(line):
                yield seen
        await asyncio.sleep(0.3)  # the watch request's timeout passes

    async def delete(
        self, resource: CustomResource, name: str, namespace: str | None = None, *, missing_ok: bool = False
    ) -> bool:
        self.deleted.append((resource, name, namespace))
        return True


def trigger(**overrides: Any) -> MokaJobTrigger:
    kwargs: dict[str, Any] = {"engine": "spark", "name": NAME, "namespace": NAMESPACE, "uid": UID}
    return MokaJobTrigger(**{**kwargs, **overrides})


async def first_event(
    job_trigger: MokaJobTrigger, hook: FakeAsyncHook, monkeypatch: pytest.MonkeyPatch, within: float = 5
) -> Any:
    monkeypatch.setattr(MokaJobTrigger, "_hook", lambda self: hook)

    async def first() -> TriggerEvent:
        async for event in job_trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    event = await asyncio.wait_for(first(), timeout=within)
    assert isinstance(event, TriggerEvent)
    json.dumps(event.payload)  # what the triggerer stores must be JSON
    return event.payload


# --- serialization ----------------------------------------------------------------------------------


def test_serialize_round_trips_through_the_constructor():
    original = trigger(
        moka_conn_id="moka_prod",
        start_by=1700000000.5,
        finish_by=1700003600.0,
        started_at=1699999999.0,
        error_grace=120.0,
        delete_on_kill=False,
    )

    classpath, kwargs = original.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    rebuilt = cls(**kwargs)

    assert cls is MokaJobTrigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs == {
        "engine": "spark",
        "name": NAME,
        "namespace": NAMESPACE,
        "uid": UID,
        "moka_conn_id": "moka_prod",
        "start_by": 1700000000.5,
        "finish_by": 1700003600.0,
        "started_at": 1699999999.0,
        "error_grace": 120.0,
        "delete_on_kill": False,
    }
    assert json.loads(json.dumps(kwargs)) == kwargs


def test_serialize_defaults():
    _, kwargs = trigger().serialize()

    assert kwargs["moka_conn_id"] == "moka_default"
    assert kwargs["delete_on_kill"] is True
    assert kwargs["start_by"] is kwargs["finish_by"] is kwargs["started_at"] is None


# --- run ----------------------------------------------------------------------------------------------


async def test_success(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(
        spark_job("SUBMITTED", version="5"),
        [
            WatchEvent("MODIFIED", spark_job("RUNNING", version="6")),
            WatchEvent("MODIFIED", spark_job("COMPLETED", version="7")),
            WatchEvent("MODIFIED", spark_job("FAILED", version="8")),  # never reached
        ],
    )

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
    assert payload["job"]["status"]["applicationState"]["state"] == "COMPLETED"
    assert payload["job"]["metadata"]["resourceVersion"] == "7"
    assert payload["started_at"] is not None
    assert hook.gets == []  # the shared watch's list knew the job
    assert hook.lists == ["moka.dev/job-key"]  # the provider's jobs only
    assert running_watches() == {}  # the last waiter stopped the shared watch before firing


async def test_failure_carries_the_operators_message(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(
        spark_job("RUNNING"),
        [WatchEvent("MODIFIED", spark_job("FAILED", message="driver exited with code 1", version="2"))],
    )

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["verdict"] == "failed"
    assert payload["job"]["status"]["applicationState"]["errorMessage"] == "driver exited with code 1"


@pytest.mark.parametrize(("state", "verdict"), [("COMPLETED", "succeeded"), ("FAILED", "failed")])
async def test_a_job_that_ended_before_the_trigger_started_fires_without_watching(
    monkeypatch: pytest.MonkeyPatch, state: str, verdict: str
):
    hook = FakeAsyncHook(spark_job(state, version="9"))

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["verdict"] == verdict
    assert payload["job"]["metadata"]["resourceVersion"] == "9"
    assert hook.gets == []
    assert len(hook.lists) == 1


async def test_start_timeout_when_the_deadline_has_passed(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("SUBMITTED"), [WatchEvent("MODIFIED", spark_job("RUNNING", version="2"))])

    payload = await first_event(trigger(start_by=time.time() - 1), hook, monkeypatch)

    assert payload["verdict"] == "start_timeout"
    assert payload["started_at"] is None
    assert payload["job"]["status"]["applicationState"]["state"] == "SUBMITTED"  # decided at once


async def test_start_timeout_after_a_quiet_watch(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("SUBMITTED"), [])
    start_by = time.time() + 0.2

    payload = await first_event(trigger(start_by=start_by, finish_by=time.time() + 3600), hook, monkeypatch)

    assert payload["verdict"] == "start_timeout"
    assert time.time() >= start_by


async def test_start_deadline_ignored_when_the_worker_saw_the_job_running(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(
        spark_job("PENDING_RERUN"), [WatchEvent("MODIFIED", spark_job("COMPLETED", version="2"))]
    )

    payload = await first_event(trigger(start_by=time.time() - 1, started_at=1.0), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
    assert payload["started_at"] == 1.0


async def test_overall_timeout_after_a_quiet_watch(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("RUNNING"), [])
    finish_by = time.time() + 0.2

    payload = await first_event(trigger(finish_by=finish_by), hook, monkeypatch)

    assert payload["verdict"] == "timeout"
    assert time.time() >= finish_by
    assert payload["job"]["status"]["applicationState"]["state"] == "RUNNING"


async def test_follows_the_shared_watch_across_its_requests_until_the_job_ends(
    monkeypatch: pytest.MonkeyPatch,
):
    hook = FakeAsyncHook(
        spark_job("SUBMITTED", version="1"),
        [WatchEvent("MODIFIED", spark_job("RUNNING", version="2"))],
        [],
        [WatchEvent("MODIFIED", spark_job("COMPLETED", version="3"))],
    )

    payload = await first_event(trigger(finish_by=time.time() + 3600), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
    assert payload["job"]["metadata"]["resourceVersion"] == "3"
    assert hook.gets == []
    assert len(hook.lists) == 1  # a request that ended is resumed from its resourceVersion
    assert hook.follows == 3


async def test_deletion_of_our_job_ends_but_a_namesake_is_ignored(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(
        spark_job("RUNNING"),
        [
            WatchEvent("ADDED", spark_job("COMPLETED", uid="uid-2", version="2")),
            WatchEvent("DELETED", spark_job("RUNNING", uid="uid-2", version="3")),
            WatchEvent("DELETED", spark_job("RUNNING", version="4")),
        ],
    )

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["verdict"] == "deleted"
    assert payload["job"]["metadata"]["uid"] == UID
    assert payload["job"]["status"]["applicationState"]["state"] == "RUNNING"


async def test_a_job_gone_before_the_trigger_started_ends_the_wait(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(None)  # deleted, or removed by its timeToLiveSeconds while the triggerer was down

    payload = await first_event(trigger(), hook, monkeypatch, within=1)

    assert payload["verdict"] == "deleted"
    assert payload["job"]["metadata"] == {"name": NAME, "namespace": NAMESPACE, "uid": UID}
    assert len(hook.gets) == 1  # not in the watch's list: looked up, in case it was created since


async def test_a_job_gone_after_its_operator_recorded_the_end_ends_as_the_operator_said(
    monkeypatch: pytest.MonkeyPatch,
):
    hook = FakeAsyncHook(None)  # removed by its timeToLiveSeconds before the trigger first looked
    hook.events = [
        {"reason": "SparkApplicationSubmitted", "message": NAME},
        {"reason": "SparkDriverCompleted", "message": f"{NAME}-driver"},
    ]

    payload = await first_event(trigger(), hook, monkeypatch, within=1)

    assert payload["verdict"] == "succeeded"
    assert hook.event_queries == [
        {"name": NAME, "namespace": NAMESPACE, "kind": "SparkApplication", "uid": UID}
    ]


async def test_a_job_deleted_in_a_410_gap_ends_the_wait(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("RUNNING"), [GONE])

    payload = await first_event(trigger(finish_by=time.time() + 3600), hook, monkeypatch)

    assert payload["verdict"] == "deleted"
    assert payload["job"]["status"]["applicationState"]["state"] == "RUNNING"  # the last state seen
    assert len(hook.lists) == 2  # the re-list after 410 Gone found it gone


async def test_a_namesake_found_by_the_first_get_means_our_job_is_gone(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("RUNNING", uid="uid-2"))

    payload = await first_event(trigger(), hook, monkeypatch, within=1)

    assert payload["verdict"] == "deleted"
    assert payload["job"]["metadata"]["uid"] == UID


async def test_api_errors_other_than_not_found_propagate(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("RUNNING"))
    hook.get_error = MokaApiError(
        f"get {SPARK_APPLICATION.describe(NAMESPACE, NAME)}", 403, "Forbidden", "no"
    )

    with pytest.raises(MokaApiError) as raised:
        await first_event(trigger(), hook, monkeypatch)

    assert raised.value.status == 403
    assert running_watches() == {}  # a failed watch is not kept for the next waiter


async def test_an_api_server_away_longer_than_the_hooks_retries_is_waited_out(
    monkeypatch: pytest.MonkeyPatch,
):
    hook = FakeAsyncHook(spark_job("COMPLETED"))
    hook.outage = 12  # each failed get stands for a call the hook already retried and gave up on

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
    assert len(hook.lists) == 13


async def test_an_outage_past_the_deadline_ends_in_the_timeout(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(spark_job("RUNNING"))
    hook.outage = 1_000_000

    payload = await first_event(trigger(finish_by=time.time() + 0.3), hook, monkeypatch)

    assert payload["verdict"] == "timeout"


# --- on_kill --------------------------------------------------------------------------------------------


async def test_on_kill_deletes_the_job(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(None)
    monkeypatch.setattr(MokaJobTrigger, "_hook", lambda self: hook)

    await trigger().on_kill()

    assert hook.deleted == [(SPARK_APPLICATION, NAME, NAMESPACE)]


async def test_on_kill_keeps_the_job_when_asked(monkeypatch: pytest.MonkeyPatch):
    hook = FakeAsyncHook(None)
    monkeypatch.setattr(MokaJobTrigger, "_hook", lambda self: hook)

    await trigger(delete_on_kill=False).on_kill()

    assert hook.deleted == []


async def test_an_error_that_begins_mid_watch_ends_the_wait_after_its_grace(monkeypatch: pytest.MonkeyPatch):
    """The operator writes nothing more while its JobManager stays in error: the watch, opened
    before the error with a long timeout, must end at the grace's end all the same."""
    running: dict[str, Any] = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "uid": UID,
            "resourceVersion": "1",
            "labels": {"moka.dev/job-key": "k1"},
        },
        "status": {"jobStatus": {"state": "CREATED"}, "jobManagerDeploymentStatus": "DEPLOYING"},
    }
    failing = copy.deepcopy(running)
    failing["metadata"]["resourceVersion"] = "2"
    failing["status"] = {
        "jobManagerDeploymentStatus": "ERROR",
        "jobStatus": {"state": "RECONCILING"},
        "error": "[flink-main-container] Back-off pulling image",
    }

    class QuietAfterTheError(FakeAsyncHook):
        async def follow(self, session: WatchSession) -> AsyncIterator[WatchEvent]:
            self.current = failing
            if seen := session.on_line(json.dumps({"type": "MODIFIED", "object": failing})):
                yield seen
            await asyncio.sleep(3600)  # nothing more: only the watch's timeout would end it

    hook = QuietAfterTheError(running)

    payload = await first_event(
        trigger(engine="flink", finish_by=time.time() + 3600, error_grace=0.2), hook, monkeypatch, within=3
    )

    assert payload["verdict"] == "unhealthy"


async def test_the_event_names_the_log_pod_seen_when_the_job_ended(monkeypatch: pytest.MonkeyPatch):
    """The task reads the log after it resumed, maybe once the pod is gone: then from the archive,
    by this name (a JobManager's or a submitter's is generated)."""
    hook = FakeAsyncHook(spark_job("COMPLETED"))
    hook.pods = [
        {"metadata": {"name": "pi-driver-old", "creationTimestamp": "2026-01-01T00:00:00Z"}},
        {"metadata": {"name": f"{NAME}-driver", "creationTimestamp": "2026-01-01T00:05:00Z"}},
    ]

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["log_pod"] == f"{NAME}-driver"
    assert hook.pod_selectors == [f"spark-role=driver,sparkoperator.k8s.io/app-name={NAME}"]
    assert payload["status"] == {"phase": "SUCCEEDED", "state": "COMPLETED", "message": None}


async def test_a_log_pod_seen_while_waiting_is_named_although_gone_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
):
    def flink(state: str, version: str) -> dict[str, Any]:
        return {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {
                "name": NAME,
                "namespace": NAMESPACE,
                "uid": UID,
                "resourceVersion": version,
                "labels": {"moka.dev/job-key": "k1"},
            },
            "status": {"jobStatus": {"state": state}, "jobManagerDeploymentStatus": "READY"},
        }

    class RemovedAfterTheJob(FakeAsyncHook):  # the JobManager goes once the batch job finished
        async def list_pods(self, selector: str, namespace: str | None = None) -> list[dict]:
            self.pod_selectors.append(selector)
            return list(self.pods) if len(self.pod_selectors) == 1 else []

    hook = RemovedAfterTheJob(flink("RUNNING", "1"), [WatchEvent("MODIFIED", flink("FINISHED", "2"))])
    hook.pods = [
        {"metadata": {"name": f"{NAME}-7c9f8d6b5d-x2k4p", "creationTimestamp": "2026-01-01T00:00:00Z"}}
    ]

    payload = await first_event(trigger(engine="flink"), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
    assert payload["log_pod"] == f"{NAME}-7c9f8d6b5d-x2k4p"
    assert (
        hook.pod_selectors == [f"app={NAME},component=jobmanager"] * 2
    )  # once seen, looked for at the end only


async def test_a_job_without_the_providers_label_is_followed_through_an_unfiltered_watch(
    monkeypatch: pytest.MonkeyPatch,
):
    """A sensor may wait on a job made outside Airflow: the shared watch narrowed to the provider's
    jobs never sees it, so the trigger joins the namespace's unfiltered watch of that kind."""
    foreign = spark_job("RUNNING", version="5")
    del foreign["metadata"]["labels"]
    done = copy.deepcopy(foreign)
    done["metadata"]["resourceVersion"] = "6"
    done["status"]["applicationState"]["state"] = "COMPLETED"

    class NarrowedLists(FakeAsyncHook):  # the API server applies the label selector
        async def relist(self, session: WatchSession) -> list[WatchEvent]:
            if session.label_selector is None:
                return await super().relist(session)
            self.lists.append(session.label_selector)
            return session.take_page({"metadata": {"resourceVersion": "100"}, "items": []}) or []

    hook = NarrowedLists(foreign, [], [WatchEvent("MODIFIED", done)])

    payload = await first_event(trigger(), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
    assert hook.lists == ["moka.dev/job-key", None]
    assert len(hook.gets) == 1  # not in the narrowed list: looked up, found without the label


async def test_a_start_deadline_is_not_judged_on_a_job_not_seen_yet(monkeypatch: pytest.MonkeyPatch):
    """A trigger restarted (a new triggerer) while the API server is away cannot tell whether its
    job started: it waits to see it rather than fail it for a start it may well have made."""
    hook = FakeAsyncHook(
        spark_job("RUNNING", version="5"), [WatchEvent("MODIFIED", spark_job("COMPLETED", version="6"))]
    )
    hook.outage = 6  # the first lists and gets fail

    payload = await first_event(trigger(start_by=time.time() - 60), hook, monkeypatch)

    assert payload["verdict"] == "succeeded"
