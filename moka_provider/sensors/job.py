"""MokaJobSensor: wait for a Moka job that something else submitted (another DAG, a CI system).

The job is found by name or by labels (the newest match), and judged by the same engine adapters
and outcome rules as the operators' own jobs; its links and log reach the task the same way. The
sensor never deletes the job: it is not the sensor's. Deferrable: it waits in the triggerer with
:class:`~moka_provider.triggers.job.MokaJobTrigger` (through the triggerer's shared watch of the
job's kind in its namespace), and while no job matches
yet, it looks again every ``poke_interval`` without holding a worker slot.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowSensorTimeout
from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf

from moka_provider.engines.base import EngineAdapter
from moka_provider.engines.registry import ADAPTERS, adapter_for
from moka_provider.exceptions import MokaApiError, MokaJobSpecError
from moka_provider.jobs.tracking import (
    DEFAULT_ERROR_GRACE_SECONDS,
    Outcome,
    Verdict,
    grace_over,
    positive_seconds,
    trouble_began,
)
from moka_provider.links.job_links import ALL_LINKS, persist_urls

if TYPE_CHECKING:
    from airflow.sdk import Context

    # Imported where used, at run time: the hooks, the reporting and the triggers (below) are not
    # needed to parse a DAG, and would add about 15 ms to importing this module.
    from moka_provider.hooks.moka import MokaHook
    from moka_provider.jobs.reporting import JobReporter


class MokaJobSensor(BaseSensorOperator):
    """Succeeds when a Moka job of ``engine`` succeeds; fails when it fails or is deleted.

    :param engine: ``spark``, ``flink``, ``flink_session`` or ``ray``.
    :param job_name: the job's name; or
    :param label_selector: a label selector (e.g. ``moka.dev/dag-id=etl``); the newest match counts.
    :param namespace: the connection's namespace by default.
    :param moka_conn_id: the ``moka`` connection.
    :param deferrable: wait in the triggerer.
    :param error_grace: seconds (or a timedelta) the job may keep reporting an error its operator
        retries (see :class:`~moka_provider.operators.job.MokaJobOperator`) before the sensor fails
        with it; the sensor never deletes the job. In ``mode="reschedule"`` each poke starts
        afresh and cannot know how long an error has lasted: there only the sensor's own
        ``timeout`` ends the wait on a job in trouble.
    """

    template_fields = ("job_name", "label_selector", "namespace")
    operator_extra_links = tuple(link() for link in ALL_LINKS)
    ui_color = "#f5d9c4"

    def __init__(
        self,
        *,
        engine: str,
        job_name: str | None = None,
        label_selector: str | None = None,
        namespace: str | None = None,
        moka_conn_id: str = "moka_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        error_grace: float | datetime.timedelta = DEFAULT_ERROR_GRACE_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if engine not in ADAPTERS:
            raise MokaJobSpecError("engine", f"{engine!r} is not one of {', '.join(sorted(ADAPTERS))}")
        if (job_name is None) == (label_selector is None):
            raise MokaJobSpecError("job_name", "give either job_name or label_selector (not both)")
        self.engine = engine
        self.job_name = job_name
        self.label_selector = label_selector
        self.namespace = namespace
        self.moka_conn_id = moka_conn_id
        self.deferrable = deferrable
        self.error_grace = positive_seconds(error_grace, "error_grace")
        self._troubled_since: float | None = None
        self.moka_urls: dict[str, str | None] | None = None

    @property
    def adapter(self) -> EngineAdapter:
        return adapter_for(self.engine)

    @property
    def hook(self) -> MokaHook:
        from moka_provider.hooks.moka import MokaHook

        if not hasattr(self, "_hook"):
            self._hook = MokaHook(moka_conn_id=self.moka_conn_id)
        return self._hook

    @property
    def reporter(self) -> JobReporter:
        from moka_provider.jobs.reporting import JobReporter

        return JobReporter(self.hook, self.adapter, self.log)

    # -- poke mode -------------------------------------------------------------------------------

    def poke(self, context: Context) -> bool | PokeReturnValue:
        job = self.find_job()
        if job is None:
            if ended := self.ended_and_gone():
                return PokeReturnValue(True, xcom_value=self._conclude(context, ended))
            self.log.info("no %s matches %s yet", self.adapter.resource.kind, self._wanted)
            return False
        persist_urls(context["ti"], self, self.reporter.urls(job))
        status = self.adapter.status(job)
        self.log.info("%s: %s", self.reporter.describe(job), status.state or "(no state yet)")
        now = time.time()
        self._troubled_since = trouble_began(status, self._troubled_since, now)
        if grace_over(status, self._troubled_since, self.error_grace, now):
            self._conclude(context, Outcome(Verdict.UNHEALTHY, job, status))  # raises
        ended = self._ended(job)
        return PokeReturnValue(True, xcom_value=self._conclude(context, ended)) if ended else False

    def _ended(self, job: dict[str, Any]) -> Outcome | None:
        """The outcome of ``job`` if its status says it ended."""
        status = self.adapter.status(job)
        if not status.phase.terminal:
            return None
        return Outcome(Verdict.of_end(status.phase), job, status)

    def ended_and_gone(self) -> Outcome | None:
        """The outcome of a job named ``job_name`` that is gone but whose operator recorded its end
        (removed by a TTL before the sensor looked), from the operator's Events."""
        if not self.job_name:
            return None
        events = self.hook.list_events(self.job_name, self.namespace, kind=self.adapter.resource.kind)
        ended = self.adapter.status_from_events(events)
        if ended is None or not ended.phase.terminal:
            return None
        namespace = self.namespace or self.hook.settings.namespace
        job = {"metadata": {"name": self.job_name, "namespace": namespace}}
        self.log.info("%s is gone; its operator recorded its end: %s", self.job_name, ended.state)
        return Outcome(Verdict.of_end(ended.phase), job, ended)

    # -- deferrable mode -------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        return self.look_and_defer(context, finish_by=time.time() + self.timeout)

    def look_and_defer(self, context: Context, event: Any = None, *, finish_by: float) -> Any:
        """Defer to the job's trigger, or (no job yet) to a timer to look again."""
        from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

        from moka_provider.triggers.job import MokaJobTrigger

        job = self.find_job()
        if job is None and (ended := self.ended_and_gone()):
            return self._conclude(context, ended)
        if job is None:
            if time.time() >= finish_by:
                raise AirflowSensorTimeout(f"no {self.adapter.resource.kind} matched {self._wanted} in time")
            self.log.info("no %s matches %s yet", self.adapter.resource.kind, self._wanted)
            self.defer(
                trigger=TimeDeltaTrigger(datetime.timedelta(seconds=self.poke_interval)),
                method_name="look_and_defer",
                kwargs={"finish_by": finish_by},
            )
        assert job is not None
        persist_urls(context["ti"], self, self.reporter.urls(job))
        if ended := self._ended(job):
            # Nothing to wait for: conclude here rather than defer to a trigger that fires at once
            # (which the scheduler may take for a task state changed behind its back).
            return self._conclude(context, ended)
        metadata = job["metadata"]
        self.defer(
            trigger=MokaJobTrigger(
                engine=self.engine,
                name=metadata["name"],
                namespace=metadata["namespace"],
                uid=metadata["uid"],
                moka_conn_id=self.moka_conn_id,
                finish_by=finish_by,
                error_grace=self.error_grace,
                delete_on_kill=False,  # not the sensor's job
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> Any:
        return self._conclude(context, Outcome.from_event(event, self.adapter))

    # -- both --------------------------------------------------------------------------------------

    @property
    def _wanted(self) -> str:
        return f"name {self.job_name!r}" if self.job_name else f"labels {self.label_selector!r}"

    def find_job(self) -> dict[str, Any] | None:
        """The job by name, or the newest job matching the labels (``None`` if there is none)."""
        resource = self.adapter.resource
        if self.job_name:
            try:
                job: dict[str, Any] = self.hook.get(resource, self.job_name, self.namespace)
            except MokaApiError as error:
                if error.not_found:
                    return None
                raise
            return job
        jobs = [
            job
            for job in self.hook.list(resource, self.namespace, label_selector=self.label_selector)
            if not job["metadata"].get("deletionTimestamp")
        ]
        if not jobs:
            return None
        jobs.sort(key=lambda job: (job["metadata"].get("creationTimestamp") or "", job["metadata"]["name"]))
        if len(jobs) > 1:
            self.log.info("%d jobs match %s; following the newest", len(jobs), self._wanted)
        return jobs[-1]

    def _conclude(self, context: Context, outcome: Outcome) -> dict[str, Any]:
        reporter = self.reporter
        reporter.pod = outcome.log_pod
        what, state = reporter.describe(outcome.job), outcome.status.state or "none"
        if outcome.verdict is Verdict.TIMEOUT:
            persist_urls(context["ti"], self, reporter.urls(outcome.job))
            raise AirflowSensorTimeout(
                f"{what} did not finish within timeout={self.timeout:g}s (state {state})"
            )
        tail = reporter.log_tail(outcome.job)
        persist_urls(context["ti"], self, reporter.urls(outcome.job))  # with the log pod found
        if outcome.verdict is Verdict.UNHEALTHY:
            raise reporter.failed(
                outcome,
                f"{what} kept reporting an error for error_grace={self.error_grace:g}s ({state}): "
                f"{outcome.status.message or 'no message'}{tail}",
                tail,
            )
        if outcome.verdict is Verdict.DELETED:
            raise reporter.failed(
                outcome,
                f"{what} was deleted before it was seen to end, and its operator recorded no end "
                f"(last state {state}){tail}",
                tail,
            )
        cost = reporter.cost(outcome)  # in the task log; the operator that owns the job counts it in Stats
        if outcome.verdict is Verdict.FAILED:
            raise reporter.failed(outcome, reporter.failure(outcome, tail), tail)
        return reporter.result(outcome, cost)
