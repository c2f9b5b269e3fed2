"""The lifecycle every Moka job operator shares; engines add only how to build their resource.

1. **Validate** the arguments and the resource they make (against the official CRD) before
   anything reaches the cluster.
2. **Submit once**: adopt the task instance's running job (a retry, a worker that died) or create
   the next attempt (:mod:`moka_provider.jobs.submission`). On Airflow 3.3+ the job is also
   recorded in the task's state store through ``ResumableJobMixin``.
3. **Wait** in the worker, watching the resource and streaming the job's log into the task log,
   or deferred in the triggerer (:class:`~moka_provider.triggers.job.MokaJobTrigger`). Optional
   deadlines: ``start_timeout`` (still pending, e.g. no queue capacity) and ``timeout`` (overall),
   both counted from the job's creation; a job that misses one is deleted.
4. **Conclude** from the resource's status only: links, log, metrics, XCom, or a failure
   carrying the operator's message and the last lines of the log.

Killing the task (``on_kill`` in a worker, the trigger's ``on_kill`` when deferred) deletes the
job unless ``delete_on_kill=False``.
"""

from __future__ import annotations

import datetime
import time
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import ResumableJobMixin, Stats
from airflow.sdk import BaseOperator, conf

from moka_provider.engines.base import EngineAdapter, JobStatus, Phase
from moka_provider.exceptions import MokaApiError, MokaJobFailed
from moka_provider.jobs.tracking import (
    DEFAULT_ERROR_GRACE_SECONDS,
    Deadlines,
    JobTracker,
    Outcome,
    Verdict,
    created_at,
    positive_seconds,
)
from moka_provider.links.job_links import persist_urls

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    # Imported where used, at run time: the hooks, the job machinery and the trigger are not
    # needed to parse a DAG, and would make importing this module about three times as slow.
    from moka_provider.engines.cost import JobCost
    from moka_provider.hooks.moka import MokaHook
    from moka_provider.jobs.logs import LogFollower
    from moka_provider.jobs.reporting import JobReporter
    from moka_provider.settings import MokaSettings

_MISSING = "MISSING"
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json")


class MokaJobOperator(ResumableJobMixin, BaseOperator):
    """Base of the Moka job operators. Subclasses set :attr:`adapter` and build the resource.

    :param moka_conn_id: the ``moka`` connection (cluster access, defaults, link templates).
    :param namespace: namespace of the job; the connection's by default.
    :param name: prefix of the job's name (a DNS label); the task id by default. Moka appends a hash
        of the task instance (and an attempt number) so each task instance has its own job.
    :param application_file: the job's resource as YAML or JSON (inline, or a ``.yaml`` / ``.yml`` /
        ``.json`` file next to the DAG or on its ``template_searchpath``), rendered with Jinja; the
        other arguments are merged into it.
    :param spec_overrides: merged into ``spec`` last (mappings merge, lists replace, ``None`` removes).
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    :param start_timeout: seconds (or a timedelta) the job may stay pending before it is deleted and
        the task fails.
    :param timeout: seconds (or a timedelta) the job may take in all, from its creation.
    :param error_grace: seconds (or a timedelta) the job may keep reporting an error that its
        operator retries (a JobManager in a crash loop or unable to pull its image, a deployment
        that failed before it ever ran) before the task deletes it and fails with that error;
        5 minutes by default.
    :param delete_on_kill: delete the job when the task is killed, cleared or marked failed.
    :param delete_after_success: delete the job once it succeeded (after its log was read); the
        engine's default (:attr:`DELETE_AFTER_SUCCESS`) when not given.
    """

    #: Whether a succeeded job is deleted unless the task says otherwise (Flink: yes, so finished
    #: batch jobs do not hold JobManagers).
    DELETE_AFTER_SUCCESS: ClassVar[bool] = False

    adapter: EngineAdapter
    external_id_key = "moka_job"
    template_fields: Sequence[str] = ("namespace", "name", "application_file", "spec_overrides")
    template_fields_renderers = {"application_file": "yaml", "spec_overrides": "json"}
    ui_color = "#f5d9c4"

    def __init__(
        self,
        *,
        moka_conn_id: str = "moka_default",
        namespace: str | None = None,
        name: str | None = None,
        application_file: str | Mapping[str, Any] | None = None,
        spec_overrides: Mapping[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        start_timeout: float | datetime.timedelta | None = None,
        timeout: float | datetime.timedelta | None = None,
        error_grace: float | datetime.timedelta = DEFAULT_ERROR_GRACE_SECONDS,
        delete_on_kill: bool = True,
        delete_after_success: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.moka_conn_id = moka_conn_id
        self.namespace = namespace
        self.name = name
        self.application_file = application_file
        self.spec_overrides = spec_overrides
        self.deferrable = deferrable
        self.start_timeout = positive_seconds(start_timeout, "start_timeout")
        self.timeout = positive_seconds(timeout, "timeout")
        self.error_grace = positive_seconds(error_grace, "error_grace")
        self.delete_on_kill = delete_on_kill
        self.delete_after_success = (
            self.DELETE_AFTER_SUCCESS if delete_after_success is None else delete_after_success
        )
        self._job: dict[str, Any] | None = None
        self._gone_status: JobStatus | None = None  # how a job found gone ended, by its Events
        self._first_phase: Phase | None = None
        self._result: dict[str, Any] | None = None
        #: the job as last seen when its wait ended badly, described as the XCom describes a job
        #: that succeeded: for the OpenLineage FAIL event
        self._failed_result: dict[str, Any] | None = None
        self._follower: LogFollower | None = None
        self.moka_urls: dict[str, str | None] | None = None  # as last stored for the extra links

    @abstractmethod
    def build_manifest(self, settings: MokaSettings, context: Context) -> dict[str, Any]:
        """The job's resource from the (rendered) arguments, validated; without name/namespace."""

    def application_template(self, context: Context) -> str | Mapping[str, Any] | None:
        """``application_file`` as given inline, or the named file's content rendered with Jinja."""
        value = self.application_file
        if isinstance(value, str) and "\n" not in value and value.strip().endswith(_TEMPLATE_SUFFIXES):
            environment = self.get_template_env(dag=context["dag"])
            return environment.get_template(value.strip()).render(**context)
        return value

    # -- Airflow entry points ------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return self.execute_resumable(context)
        self.submit_job(context)
        job = self._current_job
        from moka_provider.triggers.job import MokaJobTrigger

        status = self.adapter.status(job)
        if status.phase.terminal:  # adopted a job that already ended: nothing to wait for
            return self._conclude(context, Outcome(Verdict.of_end(status.phase), job, status))

        deadlines = Deadlines.for_job(job, self.start_timeout, self.timeout)
        self.defer(
            trigger=MokaJobTrigger(
                engine=self.adapter.engine,
                name=job["metadata"]["name"],
                namespace=job["metadata"]["namespace"],
                uid=job["metadata"]["uid"],
                moka_conn_id=self.moka_conn_id,
                start_by=deadlines.start_by,
                finish_by=deadlines.finish_by,
                started_at=None if self._first_phase is Phase.PENDING else time.time(),
                error_grace=self.error_grace,
                delete_on_kill=self.delete_on_kill,
            ),
            method_name="execute_complete",
            kwargs={"first_phase": self._first_phase.value if self._first_phase else None},
        )

    def execute_complete(
        self, context: Context, event: Mapping[str, Any], first_phase: str | None = None
    ) -> Any:
        """Back from the triggerer with the job's outcome; ``first_phase``: the job's phase when
        the task first saw it (a job adopted running has no submit -> running time to report)."""
        outcome = Outcome.from_event(event, self.adapter)
        self._job = outcome.job
        self._first_phase = Phase(first_phase) if first_phase else None
        return self._conclude(context, outcome)

    def on_kill(self) -> None:
        if self._job is None:
            return
        if not self.delete_on_kill:
            self.log.info("task killed; keeping %s (delete_on_kill=False)", self._describe(self._job))
            return
        metadata = self._job["metadata"]
        if self.hook.delete(self.adapter.resource, metadata["name"], metadata["namespace"], missing_ok=True):
            self.log.info("task killed: deleted %s", self._describe(self._job))

    # -- ResumableJobMixin ---------------------------------------------------------------------

    def submit_job(self, context: Context) -> str:
        """Validate, then adopt the task instance's running job or create one; ``namespace/name``."""
        from moka_provider.jobs.identity import JobIdentity
        from moka_provider.jobs.submission import submit_or_adopt

        settings = self.hook.settings
        manifest = self.build_manifest(settings, context)
        submission = submit_or_adopt(
            self.hook,
            self.adapter,
            manifest,
            JobIdentity.from_context(context),
            self.namespace or settings.namespace,
            self.name,
            self.log.info,
        )
        self._job = submission.job
        self._first_phase = self.adapter.status(submission.job).phase
        self._persist_links(context, submission.job)
        return f"{submission.namespace}/{submission.name}"

    def get_job_status(self, external_id: Any, context: Context) -> str:
        namespace, name = str(external_id).split("/", 1)
        try:
            self._job = self.hook.get(self.adapter.resource, name, namespace)
        except MokaApiError as error:
            if not error.not_found:
                raise
            # Gone: removed by its operator's TTL after it succeeded (a retry after the worker
            # died), if the operator's Events say so; otherwise run it again.
            events = self.hook.list_events(name, namespace, kind=self.adapter.resource.kind)
            ended = self.adapter.status_from_events(events)
            if ended is None or ended.phase is not Phase.SUCCEEDED:
                return _MISSING
            self.log.info("%s is gone; its operator recorded its success (%s)", name, ended.state)
            self._job, self._gone_status = {"metadata": {"name": name, "namespace": namespace}}, ended
        self._first_phase = (
            self.adapter.status(self._job).phase if self._gone_status is None else Phase.SUCCEEDED
        )
        return self._first_phase.value

    def is_job_active(self, status: str) -> bool:
        return status in (Phase.PENDING.value, Phase.RUNNING.value)

    def is_job_succeeded(self, status: str) -> bool:
        return status == Phase.SUCCEEDED.value

    def poll_until_complete(self, external_id: Any, context: Context) -> None:
        """Watch the job to its end in this worker, its log streaming into the task log."""
        from moka_provider.jobs.logs import LogFollower

        job = self._current_job
        self._persist_links(context, job)
        tracker = JobTracker(
            self.adapter,
            job,
            Deadlines.for_job(job, self.start_timeout, self.timeout),
            None if self._first_phase is Phase.PENDING else time.time(),
            self.error_grace,
        )
        self._follower = None
        if self.adapter.log_pods(job):
            self._follower = LogFollower(
                self.hook,
                job["metadata"]["namespace"],
                lambda: self.adapter.log_pods(tracker.job),  # the job as last seen: the current attempt
                self.show_log_line,
            ).start()
        try:
            outcome = self._watch(context, tracker)
        finally:
            if self._follower:
                self._follower.stop()
        self._conclude(context, outcome)

    def get_job_result(self, external_id: Any, context: Context) -> Any:
        if self._result is None:  # the mixin found this job already succeeded: conclude from it
            job = self._current_job
            status = self._gone_status or self.adapter.status(job)
            self._result = self._conclude(context, Outcome(Verdict.SUCCEEDED, job, status))
        store = context.get("task_state_store")
        if store is not None:
            store.delete(self.external_id_key)  # a later clear of this task runs the job again
        return self._result

    # -- OpenLineage ------------------------------------------------------------------------------

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        """What the OpenLineage provider's listener sends with the task's COMPLETE event: the job's
        ``moka_job`` run facet (engine, namespace, name, uid, the engine's id of the run, links).
        ``None`` when the job did not succeed or the provider is not installed."""
        from moka_provider.operators.openlineage import job_lineage

        return job_lineage(self._result)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage | None:
        """What the listener sends with the task's FAIL event: the same ``moka_job`` facet, of the job
        as last seen when it failed, timed out, kept reporting an error or was deleted. ``None`` when
        no job ended (none was submitted; the task failed while waiting for it).

        The provider's listener calls it with the task instance of the task that ran (``on_failure``
        in ``_on_task_instance_failed``, plugins/listener.py, through ``ExtractorManager.extract_metadata``
        and ``DefaultExtractor.extract_on_failure``, extractors/base.py): this operator, in the
        process that concluded, so after a deferral the one that ran ``execute_complete``."""
        from moka_provider.operators.openlineage import job_lineage

        return job_lineage(self._failed_result)

    # -- the lifecycle ----------------------------------------------------------------------------

    @property
    def hook(self) -> MokaHook:
        from moka_provider.hooks.moka import MokaHook

        if not hasattr(self, "_hook"):
            self._hook = MokaHook(moka_conn_id=self.moka_conn_id)
        return self._hook

    @property
    def _current_job(self) -> dict[str, Any]:
        assert self._job is not None, "no job submitted or adopted yet"
        return self._job

    def _describe(self, job: Mapping[str, Any]) -> str:
        return self._reporter.describe(job)

    def _watch(self, context: Context, tracker: JobTracker) -> Outcome:
        from moka_provider.hooks.retrying import OutageWait

        job = tracker.job
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        shown = tracker.status
        self.log.info("%s: %s", self._describe(job), shown.state or "(no state yet)")

        def took(outcome: Outcome | None) -> Outcome | None:
            nonlocal shown
            if tracker.status != shown:
                shown = tracker.status
                self.log.info("%s: %s", self._describe(job), shown.state)
                self._persist_links(context, tracker.job)
            return outcome

        def look_then_watch() -> Outcome | None:
            outcome = watch_once()
            if outcome is not None and outcome.verdict in (Verdict.DELETED, Verdict.UNHEALTHY):
                events = self.hook.list_events(
                    name, namespace, kind=self.adapter.resource.kind, uid=job["metadata"]["uid"]
                )
                outcome = tracker.judge_by_events(outcome, events)
            return outcome

        def watch_once() -> Outcome | None:
            # Look first, then watch from there (a job already gone gives a watch nothing to say).
            try:
                current = self.hook.get(self.adapter.resource, name, namespace)
            except MokaApiError as error:
                if not error.not_found:
                    raise
                current = None
            if outcome := took(tracker.looked_up(current)):
                return outcome
            assert current is not None
            watched_until = tracker.next_deadline()
            for event in self.hook.watch(
                self.adapter.resource,
                namespace,
                name=name,
                resource_version=current["metadata"]["resourceVersion"],
                timeout=tracker.seconds_left(),
            ):
                if outcome := took(tracker.observe(event.type, event.object)):
                    return outcome
                if tracker.deadline_moved_closer(watched_until):
                    break  # watch again, until the nearer deadline
            return tracker.check()

        outage = OutageWait(self.hook.retry_policy)
        while True:
            try:
                outcome = look_then_watch()
                outage.recovered()
            except MokaApiError as error:
                pause = outage.pause_after(error)
                self.log.warning(outage.message(self._describe(job), error, pause))
                time.sleep(pause)
                outcome = tracker.check()
            if outcome:
                return outcome

    def show_log_line(self, pod: str, line: str) -> None:
        """Copy one line of the job's log into the task log: from the live stream, or from the log
        read when the job ended. Subclasses may read the lines too (``@task.moka_pyspark`` finds
        its function's result there)."""
        self.log.info("[%s] %s", pod, line)

    @property
    def _reporter(self) -> JobReporter:
        from moka_provider.jobs.reporting import JobReporter

        return JobReporter(self.hook, self.adapter, self.log, show_line=self.show_log_line)

    def _persist_links(self, context: Context, job: Mapping[str, Any]) -> None:
        pod = self._follower.pod if self._follower else None
        persist_urls(context["ti"], self, self._reporter.urls(job, pod))

    def _conclude(self, context: Context, outcome: Outcome) -> dict[str, Any]:
        """Links, log, metrics and the XCom result of an ended wait; raises unless it succeeded."""
        reporter = self._reporter
        reporter.pod = outcome.log_pod
        job, status = outcome.job, outcome.status
        what = reporter.describe(job)
        metadata = job["metadata"]
        # The log first: the job (and so its pods) may be deleted below; the links then know
        # the log pod's name.
        tail = reporter.log_tail(job, self._follower)
        persist_urls(context["ti"], self, reporter.urls(job))
        if outcome.verdict in (Verdict.START_TIMEOUT, Verdict.TIMEOUT, Verdict.UNHEALTHY):
            self.hook.delete(self.adapter.resource, metadata["name"], metadata["namespace"], missing_ok=True)
            if outcome.verdict is Verdict.START_TIMEOUT:
                problem = f"did not start within start_timeout={self.start_timeout:g}s"
            elif outcome.verdict is Verdict.TIMEOUT:
                problem = f"did not finish within timeout={self.timeout:g}s"
            else:
                problem = f"kept reporting an error for error_grace={self.error_grace:g}s"
            detail = f": {status.message}" if outcome.verdict is Verdict.UNHEALTHY and status.message else ""
            raise self._failed(
                reporter,
                outcome,
                f"{what} {problem} (state {status.state or 'none'}){detail}; deleted it{tail}",
                tail,
            )
        if outcome.verdict is Verdict.DELETED:
            raise self._failed(
                reporter,
                outcome,
                f"{what} was deleted before it was seen to end, and its operator recorded no end "
                f"(last state {status.state or 'none'}){tail}",
                tail,
            )
        self._emit_timings(outcome)
        cost = reporter.cost(outcome)
        self._emit_cost(outcome, cost)
        if outcome.verdict is Verdict.FAILED:
            raise self._failed(reporter, outcome, reporter.failure(outcome, tail), tail, cost)
        self.log.info("%s %s", what, status.state)
        if self.delete_after_success:
            self.hook.delete(self.adapter.resource, metadata["name"], metadata["namespace"], missing_ok=True)
            self.log.info("deleted %s (delete_after_success)", what)
        self._result = reporter.result(outcome, cost)
        return self._result

    def _failed(
        self, reporter: JobReporter, outcome: Outcome, message: str, tail: str, cost: JobCost | None = None
    ) -> MokaJobFailed:
        """The error to raise for a job that ended badly, its description kept for the FAIL event."""
        self._failed_result = reporter.result(outcome, cost)
        return reporter.failed(outcome, message, tail)

    def _emit_timings(self, outcome: Outcome) -> None:
        tags = {"engine": self.adapter.engine}
        if outcome.started_at is None:
            return
        if self._first_phase is Phase.PENDING:
            waited = outcome.started_at - created_at(outcome.job)
            Stats.timing("moka.job.submit_to_running", datetime.timedelta(seconds=waited), tags=tags)
        ran = outcome.finished_at - outcome.started_at
        Stats.timing("moka.job.running_to_done", datetime.timedelta(seconds=ran), tags=tags)

    def _emit_cost(self, outcome: Outcome, cost: JobCost | None) -> None:
        """Counters of what the job reserved, summed over jobs by engine, namespace and queue
        (``none`` for a job without one). Only the operator that owns a job counts it: a sensor
        on the same job would count it twice."""
        if cost is None:
            return
        namespace = outcome.job["metadata"]["namespace"]
        tags = {"engine": self.adapter.engine, "namespace": namespace, "queue": cost.queue or "none"}
        Stats.incr("moka.job.core_seconds", round(cost.core_seconds), tags=tags)
        Stats.incr("moka.job.memory_gib_seconds", round(cost.memory_gib_seconds), tags=tags)
