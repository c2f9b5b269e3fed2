"""Waiting for a Moka job in the triggerer, so that a deferred task holds no worker slot.

The trigger watches the job's custom resource (one watch per job, resumed after drops and 410
Gone by the async hook; an API server away for longer than the hook's retries is waited out until
the task's deadline) and fires once with the outcome decided by the same
:class:`~moka_provider.jobs.tracking.JobTracker` the worker uses. What to do with the outcome
(logs, links, errors, deleting a timed-out job) happens back in the worker, in the operator.
When a user marks the deferred task failed or clears it, Airflow 3.3+ calls :meth:`on_kill`,
which deletes the job (unless the task said ``delete_on_kill=False``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.retrying import OutageWait


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
        from moka_provider.hooks.moka_async import MokaAsyncHook

        return MokaAsyncHook(moka_conn_id=self.moka_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from moka_provider.engines.registry import adapter_for
        from moka_provider.jobs.tracking import Deadlines, JobTracker

        adapter = adapter_for(self.engine)
        placeholder = {"metadata": {"name": self.name, "namespace": self.namespace, "uid": self.uid}}
        tracker = JobTracker(
            adapter, placeholder, Deadlines(self.start_by, self.finish_by), self.started_at, self.error_grace
        )
        hook = self._hook()
        outcome = None
        outage = OutageWait(hook.retry_policy)
        while outcome is None:
            try:
                outcome = await self._look_then_watch(hook, adapter, tracker)
                outage.recovered()
            except MokaApiError as error:
                pause = outage.pause_after(error)
                self.log.warning(outage.message(f"{self.namespace}/{self.name}", error, pause))
                await asyncio.sleep(pause)
                outcome = tracker.check()
        log_pod = await _log_pod(hook, adapter, outcome.job) or self._log_pod_seen
        yield TriggerEvent(replace(outcome, log_pod=log_pod).to_event())

    async def _look_then_watch(self, hook: Any, adapter: Any, tracker: Any) -> Any:
        """Get the job, then watch it from there until it ends or the watch's time is up; a job
        found deleted, or in trouble past its grace, is judged by its operator's Events (it may
        have ended first)."""
        from moka_provider.jobs.tracking import Verdict

        outcome = await self._watch_once(hook, adapter, tracker)
        if outcome is not None and outcome.verdict in (Verdict.DELETED, Verdict.UNHEALTHY):
            events = await hook.list_events(
                self.name, self.namespace, kind=adapter.resource.kind, uid=self.uid
            )
            outcome = tracker.judge_by_events(outcome, events)
        return outcome

    async def _watch_once(self, hook: Any, adapter: Any, tracker: Any) -> Any:
        # Look first: a job deleted (or removed by its TTL) before the trigger started would give
        # a watch nothing to report.
        job = await _get_or_none(hook, adapter.resource, self.name, self.namespace)
        if outcome := tracker.looked_up(job):
            return outcome
        assert job is not None
        await self._note_log_pod(hook, adapter, job)
        watched_until = tracker.next_deadline()
        watch = hook.watch(
            adapter.resource,
            self.namespace,
            name=self.name,
            resource_version=job["metadata"]["resourceVersion"],
            timeout=tracker.seconds_left(),
        )
        async with aclosing(watch):  # close the watch's connection before firing
            async for event in watch:
                last = tracker.status
                if outcome := tracker.observe(event.type, event.object):
                    return outcome
                if tracker.status != last:
                    self.log.info("%s/%s: %s", self.namespace, self.name, tracker.status.state)
                    await self._note_log_pod(hook, adapter, tracker.job)
                if tracker.deadline_moved_closer(watched_until):
                    break  # watch again, until the nearer deadline
        return tracker.check()

    async def _note_log_pod(self, hook: Any, adapter: Any, job: dict[str, Any]) -> None:
        """Remember the log pod's name once seen (a look per status change until then): the pod may
        be gone when the job ends (a JobManager removed after its batch job finished)."""
        if self._log_pod_seen is None:
            self._log_pod_seen = await _log_pod(hook, adapter, job, seen_only=True)

    async def on_kill(self) -> None:
        """The task was marked failed or cleared while deferred: delete its job (Airflow 3.3+)."""
        if not self.delete_on_kill:
            self.log.info("keeping %s/%s: the task said delete_on_kill=False", self.namespace, self.name)
            return
        from moka_provider.engines.registry import adapter_for

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
    from moka_provider.jobs.logs import newest

    return str(newest(found)["metadata"]["name"])


async def _get_or_none(hook: Any, resource: Any, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        job: dict[str, Any] = await hook.get(resource, name, namespace)
    except MokaApiError as error:
        if error.not_found:
            return None
        raise
    return job
