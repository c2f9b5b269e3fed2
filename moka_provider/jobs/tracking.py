"""Following one job to its end: phases, deadlines, and the outcome the task reports.

The worker (sync watch) and the trigger (async watch) both feed a :class:`JobTracker` with the
objects a watch yields and ask it when to give up; it is pure, so both ways of waiting decide
the same way. Deadlines are absolute (epoch seconds) and measured from the job's creation, so they
survive a deferral, a retry that adopts the job, and a triggerer restart.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, Phase
from moka_provider.exceptions import MokaJobSpecError

#: How long a job may report an error its operator keeps retrying before the task gives up on it.
DEFAULT_ERROR_GRACE_SECONDS = 300.0


def positive_seconds(value: float | datetime.timedelta | None, argument: str) -> float | None:
    """A task argument given in seconds or as a timedelta, in seconds; it must be positive."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    if seconds <= 0:
        raise MokaJobSpecError(argument, f"must be positive, got {value!r}")
    return seconds


def trouble_began(status: JobStatus, since: float | None, now: float) -> float | None:
    """When the job's current trouble began (None: it is not in trouble), given when the one seen
    before began (``since``) and the time of this status (``now``).

    A trouble counts whatever the phase (a running job whose JobManager is in a crash loop); only
    progress without an error ends it: an operator retrying a failed deployment clears its error
    between attempts (flink-kubernetes-operator), which must not restart the grace.
    """
    if status.trouble:
        return since or now
    return since if status.phase is Phase.PENDING else None


def grace_over(
    status: JobStatus, troubled_since: float | None, error_grace: float | None, now: float
) -> bool:
    """Whether a job in trouble since ``troubled_since`` has outlasted ``error_grace`` (None: no
    grace, the trouble never ends the wait)."""
    return (
        status.trouble
        and troubled_since is not None
        and error_grace is not None
        and now >= troubled_since + error_grace
    )


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    START_TIMEOUT = "start_timeout"
    TIMEOUT = "timeout"
    DELETED = "deleted"
    #: the job reported an error for longer than the task's ``error_grace``
    UNHEALTHY = "unhealthy"

    @classmethod
    def of_end(cls, phase: Phase) -> Verdict:
        """The verdict on a job that ended in ``phase`` (``SUCCEEDED`` or ``FAILED``)."""
        return cls.SUCCEEDED if phase is Phase.SUCCEEDED else cls.FAILED


@dataclass(frozen=True)
class Deadlines:
    """When the job must have started running, and when it must have ended (epoch seconds)."""

    start_by: float | None = None
    finish_by: float | None = None

    @classmethod
    def for_job(cls, job: Mapping[str, Any], start_timeout: float | None, timeout: float | None) -> Deadlines:
        created = created_at(job)
        return cls(
            start_by=None if start_timeout is None else created + start_timeout,
            finish_by=None if timeout is None else created + timeout,
        )


@dataclass(frozen=True)
class Outcome:
    """How waiting ended, with the last version of the job seen."""

    verdict: Verdict
    job: dict[str, Any]
    status: JobStatus
    started_at: float | None = None
    finished_at: float = field(default_factory=time.time)
    #: The pod whose log is the job's, if the waiter saw it (operators generate most pod names,
    #: and the pod may be gone by the time the task reads the log).
    log_pod: str | None = None

    def to_event(self) -> dict[str, Any]:
        """A JSON-serializable form, for a trigger event."""
        status = self.status
        return {
            "verdict": self.verdict.value,
            "job": self.job,
            "status": {"phase": status.phase.value, "state": status.state, "message": status.message},
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "log_pod": self.log_pod,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any], adapter: EngineAdapter) -> Outcome:
        job = dict(event["job"])
        said = event.get("status")  # as judged (also from Events, for a job gone), else as it reads
        status = (
            JobStatus(Phase(said["phase"]), said["state"], said["message"]) if said else adapter.status(job)
        )
        return cls(
            Verdict(event["verdict"]),
            job,
            status,
            event.get("started_at"),
            event.get("finished_at") or time.time(),
            event.get("log_pod"),
        )


class JobTracker:
    """Decides, from what a watch yields and the clock, whether waiting is over."""

    def __init__(
        self,
        adapter: EngineAdapter,
        job: Mapping[str, Any],
        deadlines: Deadlines,
        started_at: float | None = None,
        error_grace: float | None = None,
        *,
        seen: bool = True,
    ) -> None:
        """``seen=False``: ``job`` only names the job (a trigger that has not looked at it yet)."""
        self.adapter = adapter
        self.seen = seen
        self.deadlines = deadlines
        self.error_grace = error_grace
        self.job: dict[str, Any] = dict(job)
        self.status = adapter.status(job)
        self.started_at = started_at
        self.troubled_since: float | None = None
        self._note_start()
        self._note_trouble()

    def observe(self, event_type: str, job: Mapping[str, Any]) -> Outcome | None:
        """Take one watch event about the job; the outcome if it ended."""
        if job.get("metadata", {}).get("uid") != self.job.get("metadata", {}).get("uid"):
            return None  # a namesake created after ours was deleted is not our job
        if event_type == "DELETED":
            return Outcome(Verdict.DELETED, self.job, self.status, self.started_at)
        if not _newer(job, self.job):
            return None  # a version older than the one looked up (a shared watch catching up)
        return self._take(job)

    def _take(self, job: Mapping[str, Any]) -> Outcome | None:
        self.seen = True
        self.job = dict(job)
        self.status = self.adapter.status(job)
        self._note_start()
        self._note_trouble()
        if self.status.phase is Phase.SUCCEEDED:
            return Outcome(Verdict.SUCCEEDED, self.job, self.status, self.started_at)
        if self.status.phase is Phase.FAILED:
            return Outcome(Verdict.FAILED, self.job, self.status, self.started_at)
        return self.check()

    def looked_up(self, job: Mapping[str, Any] | None) -> Outcome | None:
        """Take the job as a GET found it (``None``: not found) before watching it again.

        Not found, or found with another uid (deleted and its name reused), means our job is gone:
        :meth:`judge_by_events` then tells from the operator's Events whether it had ended first.
        """
        uid = self.job.get("metadata", {}).get("uid")
        if job is None or job.get("metadata", {}).get("uid") != uid:
            return Outcome(Verdict.DELETED, self.job, self.status, self.started_at)
        return self._take(job)

    def judge_by_events(self, outcome: Outcome, events: Sequence[Mapping[str, Any]]) -> Outcome:
        """``outcome`` (a job found deleted, or in trouble past its grace) unless the operator's
        Events about the job (oldest first) record that it ended first.

        An operator that deletes finished jobs (spark-operator's ``timeToLiveSeconds``) may do so
        before anyone looked, and a JobManager that restarted may no longer know a finished job
        (flink-kubernetes-operator's "Job Not Found"); the Event recording the end survives both.
        """
        ended = self.adapter.status_from_events(events)
        if ended is None or not ended.phase.terminal:
            return outcome
        self.status = ended
        return Outcome(Verdict.of_end(ended.phase), self.job, ended, self.started_at)

    def check(self, now: float | None = None) -> Outcome | None:
        """The timeout outcome if a deadline has passed, or the error grace ran out."""
        now = time.time() if now is None else now
        if self.deadlines.finish_by is not None and now >= self.deadlines.finish_by:
            return Outcome(Verdict.TIMEOUT, self.job, self.status, self.started_at)
        if self._waiting_to_start() and now >= self.deadlines.start_by:  # type: ignore[operator]
            return Outcome(Verdict.START_TIMEOUT, self.job, self.status, self.started_at)
        if grace_over(self.status, self.troubled_since, self.error_grace, now):
            return Outcome(Verdict.UNHEALTHY, self.job, self.status, self.started_at)
        return None

    def next_deadline(self) -> float | None:
        """When a deadline next needs checking (epoch seconds; None: no deadline)."""
        deadlines = [self.deadlines.finish_by, self._grace_ends()]
        if self._waiting_to_start():
            deadlines.append(self.deadlines.start_by)
        pending = [deadline for deadline in deadlines if deadline is not None]
        return min(pending) if pending else None

    def seconds_left(self, now: float | None = None) -> float | None:
        """How long the next watch may last before a deadline needs checking (None: no deadline)."""
        deadline = self.next_deadline()
        if deadline is None:
            return None
        return max(deadline - (time.time() if now is None else now), 0.0)

    def deadline_moved_closer(self, since: float | None) -> bool:
        """Whether a deadline nearer than ``since`` (the one a running watch was given) appeared:
        an error's grace began, so the watch must end sooner than it was told."""
        deadline = self.next_deadline()
        return deadline is not None and (since is None or deadline < since)

    def _grace_ends(self) -> float | None:
        if self.troubled_since is None or self.error_grace is None:
            return None
        return self.troubled_since + self.error_grace

    def _waiting_to_start(self) -> bool:
        # Only a job seen pending can be late to start: one not seen yet (its waiter restarted
        # while the API server was away) may well be running.
        return (
            self.seen
            and self.deadlines.start_by is not None
            and self.started_at is None
            and self.status.phase is Phase.PENDING
        )

    def _note_trouble(self) -> None:
        self.troubled_since = trouble_began(self.status, self.troubled_since, time.time())

    def _note_start(self) -> None:
        if self.started_at is None and self.status.phase is not Phase.PENDING:
            self.started_at = time.time()


def _newer(job: Mapping[str, Any], than: Mapping[str, Any]) -> bool:
    """Whether ``job`` is a later version than ``than``, as far as their resourceVersions tell.

    resourceVersions are opaque to clients, but every kube-apiserver stores them as etcd's
    revision, a number that only grows; where either is not a number, any version counts as later.
    """
    mine = str((job.get("metadata") or {}).get("resourceVersion") or "")
    theirs = str((than.get("metadata") or {}).get("resourceVersion") or "")
    return not (mine.isdigit() and theirs.isdigit()) or int(mine) > int(theirs)


def created_at(job: Mapping[str, Any]) -> float:
    """The job's creation time (epoch seconds); now if the object does not say."""
    stamp = (job.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return time.time()
    if isinstance(stamp, datetime.datetime):
        return stamp.timestamp()
    return datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
