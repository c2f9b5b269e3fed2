"""What a Moka task tells its user about a job: links, the job's log, its facts, its failure.

Shared by the operators (which own their jobs) and the sensor (which watches someone else's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter
from moka_provider.engines.cost import JobCost
from moka_provider.engines.links import job_urls, link_params
from moka_provider.exceptions import MokaJobFailed
from moka_provider.jobs.identity import attempt_of
from moka_provider.jobs.logs import ERROR_TAIL_LINES, LogFollower, read_job_log
from moka_provider.jobs.tracking import Outcome, created_at


class JobReporter:
    def __init__(
        self,
        hook: Any,
        adapter: EngineAdapter,
        log: Any,
        show_line: Callable[[str, str], None] | None = None,
    ) -> None:
        self.hook = hook
        self.adapter = adapter
        self.log = log
        #: Shows one line of the job's log (``pod``, ``line``) in the task log.
        self.show_line = show_line or (lambda pod, line: log.info("[%s] %s", pod, line))
        #: The pod whose log was read, once :meth:`log_tail` found it: links (``{pod}``) use it
        #: where the job's status does not name the pod.
        self.pod: str | None = None

    def describe(self, job: Mapping[str, Any]) -> str:
        return self.adapter.resource.describe(job["metadata"].get("namespace"), job["metadata"]["name"])

    def urls(self, job: Mapping[str, Any], pod: str | None = None) -> dict[str, str | None]:
        """The job's current link URLs, for :func:`~moka_provider.links.job_links.persist_urls`
        (``pod``: the log pod's name where known)."""
        phase = self.adapter.status(job).phase
        return job_urls(self.hook.settings, self.adapter, job, phase, pod or self.pod)

    def log_tail(self, job: Mapping[str, Any], follower: LogFollower | None = None) -> str:
        """Show the job's log in the task log unless ``follower`` streamed it; its last lines for errors."""
        if follower is not None and follower.count:
            lines, source, self.pod = list(follower.tail), f"pod {follower.pod}", follower.pod
        else:
            pods = self.adapter.log_pods(job)
            namespace = job["metadata"]["namespace"]
            params = link_params(self.adapter, job)
            params["pod"] = params.get("pod") or self.pod
            log = read_job_log(self.hook, self.hook.settings, pods, namespace, params)
            self.pod = log.pod or self.pod
            if log.source is None:
                self.log.warning("the job's log could not be read: %s", log.problem)
                return ""
            self.log.info("log of %s, from %s:", self.describe(job), log.source)
            for line in log.lines:
                self.show_line(log.pod or "-", line)
            lines, source = log.lines[-ERROR_TAIL_LINES:], log.source
        if not lines:
            return ""
        quoted = "\n".join(f"  | {line}" for line in lines)
        return f"\nlast {len(lines)} lines of the log ({source}):\n{quoted}"

    def failed(self, outcome: Outcome, message: str, tail: str) -> MokaJobFailed:
        """The error a task raises for a job that ended badly: ``message`` (ending with the log's
        ``tail``), with the verdict, state and the job's own message as fields."""
        status = outcome.status
        return MokaJobFailed(
            message,
            verdict=outcome.verdict.value,
            state=status.state,
            job_message=status.message,
            log_tail=tail,
        )

    def failure(self, outcome: Outcome, tail: str) -> str:
        status = outcome.status
        return f"{self.describe(outcome.job)} failed ({status.state}): {status.message or 'no message'}{tail}"

    def cost(self, outcome: Outcome) -> JobCost | None:
        """What the ended job reserved (``EngineAdapter.cost``), said in one line of the task log;
        ``None`` if it has no cost of its own, or cannot be told (the log says why)."""
        what = self.describe(outcome.job)
        try:
            cost = self.adapter.cost(outcome.job)
        except ValueError as error:
            self.log.warning("what %s reserved cannot be told: %s", what, error)
            return None
        if cost is not None:
            self.log.info("%s %s", what, cost.summary())
        return cost

    def result(self, outcome: Outcome, cost: JobCost | None = None) -> dict[str, Any]:
        """The task's XCom value for a job that succeeded, with its ``cost`` (:meth:`cost`); of a
        job that did not, the same description for OpenLineage's FAIL event."""
        job = outcome.job
        metadata = job["metadata"]
        return {
            "engine": self.adapter.engine,
            "kind": self.adapter.resource.kind,
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata.get("uid"),
            "attempt": attempt_of(dict(job)),
            "state": outcome.status.state,
            "duration_seconds": round(outcome.finished_at - created_at(job), 3),
            "links": job_urls(self.hook.settings, self.adapter, job, outcome.status.phase, self.pod),
            "cost": cost.as_dict() if cost is not None else None,
            **self.adapter.result(job),
        }
