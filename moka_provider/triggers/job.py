"""Waiting for a Moka job in the triggerer, so that a deferred task holds no worker slot.

The trigger follows its job through the event loop's shared watch of the job's kind in its
namespace (:mod:`~moka_provider.hooks.shared_watch`: one list + watch for every trigger waiting
on such jobs, resumed after drops and 410 Gone; an API server away for minutes is waited out until
the task's deadline) and fires once with the outcome decided by the same
:class:`~moka_provider.jobs.tracking.JobTracker` the worker uses. The event carries the job's
slim form (:meth:`EngineAdapter.slim`), not the whole object. What to do with the outcome
(logs, links, errors, deleting a timed-out job) happens back in the worker, in the operator.
When a user marks the deferred task failed or clears it, Airflow 3.3+ calls :meth:`on_kill`,
which deletes the job (unless the task said ``delete_on_kill=False``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from moka_provider.engines.registry import adapter_for
from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.moka_async import MokaAsyncHook
from moka_provider.hooks.retrying import OutageWait
from moka_provider.hooks.shared_watch import WatchTrouble, subscription
from moka_provider.jobs.identity import JOB_KEY_LABEL
from moka_provider.jobs.logs import newest
from moka_provider.jobs.tracking import Deadlines, JobTracker, Verdict

#: How long a trigger waits for its shared watch's first list before looking the job up itself.
SYNC_WAIT_SECONDS = 30.0


class _NotLabelled(Exception):
    """The job lacks the provider's label that narrows the shared watch (a sensor's, made elsewhere)."""


class MokaJobTrigger(BaseTrigger):
    """Fires when the job ``namespace/name`` (of ``engine``) ends or misses a deadline."""

    def __init__(
        self,
        *,
        engine: str,
        name: str,
        namespace: str,
        uid: str,
        moka_conn_id: str = "moka_default",
        start_by: float | None = None,
        finish_by: float | None = None,
        started_at: float | None = None,
        error_grace: float | None = None,
        delete_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.moka_conn_id = moka_conn_id
        self.start_by = start_by
        self.finish_by = finish_by
        self.started_at = started_at
        self.error_grace = error_grace
        self.delete_on_kill = delete_on_kill
        self._log_pod_seen: str | None = None  # not serialized: found again after a restart

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "engine": self.engine,
                "name": self.name,
                "namespace": self.namespace,
                "uid": self.uid,
                "moka_conn_id": self.moka_conn_id,
                "start_by": self.start_by,
                "finish_by": self.finish_by,
                "started_at": self.started_at,
                "error_grace": self.error_grace,
                "delete_on_kill": self.delete_on_kill,
            },
        )

    def _hook(self) -> Any:
        return MokaAsyncHook(moka_conn_id=self.moka_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        adapter = adapter_for(self.engine)
        placeholder = {"metadata": {"name": self.name, "namespace": self.namespace, "uid": self.uid}}
        tracker = JobTracker(
            adapter,
            placeholder,
            Deadlines(self.start_by, self.finish_by),
            self.started_at,
            self.error_grace,
            seen=False,
        )
        hook = self._hook()
        outcome = None
        outage = OutageWait(hook.retry_policy)
        selector: str | None = JOB_KEY_LABEL
        while outcome is None:
            try:
                outcome = await self._wait(hook, adapter, tracker, selector)
                outage.recovered()
            except _NotLabelled:
                selector = None  # not a job the provider created: watch the namespace's jobs
            except MokaApiError as error:
                pause = outage.pause_after(error)
                self.log.warning(outage.message(f"{self.namespace}/{self.name}", error, pause))
                await asyncio.sleep(pause)
                outcome = tracker.check()
        log_pod = await _log_pod(hook, adapter, outcome.job) or self._log_pod_seen
        yield TriggerEvent(replace(outcome, job=adapter.slim(outcome.job), log_pod=log_pod).to_event())

    async def _wait(self, hook: Any, adapter: Any, tracker: Any, selector: str | None) -> Any:
        """Wait through the loop's shared watch of the job's kind (narrowed by ``selector``) until
        the job ends or a deadline passes; a job found deleted, or in trouble past its grace, is
        judged by its operator's Events (it may have ended first)."""
        async with subscription(
            hook, adapter.resource, self.namespace, selector, adapter.slim, name=self.name, uid=self.uid
        ) as subscribed:
            outcome = await self._follow(hook, adapter, tracker, subscribed, selector)
        if outcome is not None and outcome.verdict in (Verdict.DELETED, Verdict.UNHEALTHY):
            events = await hook.list_events(
                self.name, self.namespace, kind=adapter.resource.kind, uid=self.uid
            )
            outcome = tracker.judge_by_events(outcome, events)
        return outcome

    async def _follow(
        self, hook: Any, adapter: Any, tracker: Any, subscribed: Any, selector: str | None
    ) -> Any:
        # The watch knows the job (from its list, or an event since), unless the job was created
        # (or deleted) after the watch last heard: then it is looked up (a job gone before the
        # trigger started would give no event).
        left = tracker.seconds_left()
        await subscribed.watch.synced(SYNC_WAIT_SECONDS if left is None else min(SYNC_WAIT_SECONDS, left))
        job = subscribed.initial
        if not subscribed.told:
            job = await _get_or_none(hook, adapter.resource, self.name, self.namespace)
        if job is not None and selector is not None and selector not in (job["metadata"].get("labels") or {}):
            raise _NotLabelled
        if (job is not None or not subscribed.told) and (outcome := tracker.looked_up(job)):
            return outcome
        await self._note_log_pod(hook, adapter, tracker.job)
        while True:
            item = await subscribed.next(timeout=tracker.seconds_left())
            if item is None:  # a deadline is due
                if outcome := tracker.check():
                    return outcome
                continue
            if isinstance(item, WatchTrouble):
                what = f"{self.namespace}/{self.name}"
                self.log.warning(OutageWait.message(what, item.error, item.pause))
                continue
            last = tracker.status
            if outcome := tracker.observe(item.type, item.object):
                return outcome
            if tracker.status != last:
                self.log.info("%s/%s: %s", self.namespace, self.name, tracker.status.state)
                await self._note_log_pod(hook, adapter, tracker.job)

    async def _note_log_pod(self, hook: Any, adapter: Any, job: dict[str, Any]) -> None:
        """Remember the log pod's name once seen (a look per status change until then): the pod may
        be gone when the job ends (a JobManager removed after its batch job finished). Not needed
        where the job's status names the pod (Spark's driver)."""
        pods = adapter.log_pods(job)
        if self._log_pod_seen is None and pods is not None and pods.name is None:
            self._log_pod_seen = await _log_pod(hook, adapter, job, seen_only=True)

    async def on_kill(self) -> None:
        """The task was marked failed or cleared while deferred: delete its job (Airflow 3.3+)."""
        if not self.delete_on_kill:
            self.log.info("keeping %s/%s: the task said delete_on_kill=False", self.namespace, self.name)
            return
        resource = adapter_for(self.engine).resource
        if await self._hook().delete(resource, self.name, self.namespace, missing_ok=True):
            self.log.info("deleted %s", resource.describe(self.namespace, self.name))


async def _log_pod(hook: Any, adapter: Any, job: dict[str, Any], *, seen_only: bool = False) -> str | None:
    """The name of the job's current log pod, while it exists: the task reads the log once it has
    resumed, maybe after the operator removed the pod (then from the archive, by this name). Where
    no pod is found, the name the job's status gives, unless ``seen_only``."""
    pods = adapter.log_pods(job)
    if pods is None:
        return None
    try:
        found = await hook.list_pods(pods.selector, job["metadata"]["namespace"])
    except MokaApiError:
        found = []  # the log is read again when the task resumes; only the name may be missing
    if not found:
        return None if seen_only else pods.name
    return str(newest(found)["metadata"]["name"])


async def _get_or_none(hook: Any, resource: Any, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        job: dict[str, Any] = await hook.get(resource, name, namespace)
    except MokaApiError as error:
        if error.not_found:
            return None
        raise
    return job
