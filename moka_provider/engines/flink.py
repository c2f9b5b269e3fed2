"""Flink Batch on Moka: how a FlinkDeployment's or FlinkSessionJob's status reads.

The flink-kubernetes-operator reports a job in ``status.jobStatus.state`` (Flink's own job states)
and the resource in ``status.lifecycleState``; ``status.error`` holds the last error, usually as
JSON (a serialized ``FlinkResourceException``: ``type``, ``message``, ``throwableList``...).
Phases, decided in this order (read from flink-kubernetes-operator 6e9caeb):

=====================================================  =========================================
status                                                 phase
=====================================================  =========================================
``jobStatus.state FINISHED``                           SUCCEEDED, whatever else the status says
                                                       (a finished batch job's JobManager may be
                                                       removed, turning ``jobManagerDeployment
                                                       Status`` ``MISSING``: not a failure)
``jobStatus.state FAILED``, ``CANCELED``               FAILED, the message from ``status.error``
``lifecycleState FAILED`` before the first deployment  PENDING *in trouble*: the operator retries
(``reconciliationStatus.lastReconciledSpec`` unset),   (``CommonStatus.getLifecycleState`` says
not a ``ValidationException``                          FAILED whenever ``error`` is set before
                                                       the first deployment)
``lifecycleState FAILED`` otherwise                    FAILED (the job failed, or its JobManager
                                                       cannot be restored without a person)
``jobManagerDeploymentStatus ERROR``; ``MISSING`` with  PENDING (RUNNING if the job runs) *in
an error after the first deployment                    trouble*: ``AbstractFlinkDeploymentObserver
                                                       .observeJmDeployment`` turns a pod's
                                                       CrashLoopBackOff, ImagePullBackOff,
                                                       ErrImagePull, OOMKilled... into ERROR,
                                                       ``jobStatus RECONCILING`` and ``error``,
                                                       and retries without end; ``lifecycleState``
                                                       stays DEPLOYED
``jobStatus.state RECONCILING`` with an error after     PENDING *in trouble* ("Job Not Found": a
the first deployment                                   JobManager that lost the job; its Events
                                                       may say it had finished)
``jobStatus.state RUNNING``, ``RESTARTING``,           RUNNING
``FAILING``, ``CANCELLING``
``CREATED``, ``INITIALIZING``, ``RECONCILING``,        PENDING
``SUSPENDED``, none yet, anything new
=====================================================  =========================================

A job *in trouble* may still recover (a crash loop that ends, a transient deploy error), so the
task waits for it, but only for its ``error_grace``; then it fails with the operator's error.

**Log pods.** The JobManager's log is the job's log. The operator runs a FlinkDeployment's
JobManager as a Deployment named after the resource, so its pod's name ends in generated ReplicaSet
and pod suffixes; it is found by the labels the operator itself selects it by, ``app=<cluster id>,
component=jobmanager`` (``NativeFlinkService.getJmPodList`` / ``StandaloneFlinkService.getJmPodList``
with Flink's JobManager selectors; the cluster id is the resource's name). A session job runs in
its session cluster's JobManager (``spec.deploymentName``), whose log also holds the session's
other jobs.

**Links.** The Flink dashboard (``flink_dashboard`` template, e.g. the operator's ingress or a
History Server keyed by ``{job_id}``) is the one engine link, the same template while the job runs
and after: Flink has no separate history UI that Moka tells apart.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, LogPods, Phase
from moka_provider.engines.cost import JobCost
from moka_provider.engines.flink_cost import flink_cost
from moka_provider.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB

_RUNNING_STATES = frozenset({"RUNNING", "RESTARTING", "FAILING", "CANCELLING"})
_FAILED_STATES = frozenset({"FAILED", "CANCELED"})
#: The exception the operator records for a spec it refuses (``exception/ValidationException``).
_VALIDATION_ERROR = "ValidationException"
#: The container of Flink's JobManager and TaskManager pods (Flink's ``kubernetes.pod-template``
#: main container name).
JOBMANAGER_CONTAINER = "flink-main-container"
#: What :meth:`_FlinkJobAdapter.slim_status` leaves of a spec copy in ``reconciliationStatus``.
SPEC_COPY_OMITTED = "(omitted)"
_SPEC_COPIES = frozenset({"lastReconciledSpec", "lastStableSpec"})
#: The flink-kubernetes-operator's limit on a FlinkDeployment's name (its cluster id).
MAX_DEPLOYMENT_NAME_LENGTH = 45


def flink_job_status(job: Mapping[str, Any]) -> JobStatus:
    """The phase of a FlinkDeployment or FlinkSessionJob from its status (see the module's table)."""
    status = job.get("status") or {}
    state = (status.get("jobStatus") or {}).get("state") or ""
    lifecycle = status.get("lifecycleState") or ""
    message = error_message(status.get("error"))
    if state == "FINISHED":
        return JobStatus(Phase.SUCCEEDED, state, message)
    if state in _FAILED_STATES:
        return JobStatus(Phase.FAILED, state, message)
    before_first_deployment = not (status.get("reconciliationStatus") or {}).get("lastReconciledSpec")
    if lifecycle == "FAILED":
        # A spec the operator refused stays refused (ReconciliationUtils
        # .applyValidationErrorAndResetSpec); any other error before the first deployment is retried.
        transient = before_first_deployment and error_type(status.get("error")) != _VALIDATION_ERROR
        return JobStatus(Phase.PENDING if transient else Phase.FAILED, lifecycle, message, trouble=transient)
    phase = Phase.RUNNING if state in _RUNNING_STATES else Phase.PENDING
    jobmanager = status.get("jobManagerDeploymentStatus") or ""
    if jobmanager == "ERROR" or (jobmanager == "MISSING" and message and not before_first_deployment):
        return JobStatus(phase, f"JobManager {jobmanager}", message, trouble=True)
    if state == "RECONCILING" and message and not before_first_deployment:
        # e.g. "Job Not Found" (JobStatusObserver.onTargetJobNotFound): a JobManager that no
        # longer knows the job, which may have finished before (its Events say).
        return JobStatus(phase, state, message, trouble=True)
    return JobStatus(phase, state or lifecycle, message)


def status_from_job_events(events: Sequence[Mapping[str, Any]]) -> JobStatus | None:
    """The job's last state change as the operator recorded it: ``JobStatusChanged`` Events say
    "Job status changed from <old> to <new>" (``JobStatusObserver.updateJobStatus``)."""
    for event in reversed(events):
        if event.get("reason") != "JobStatusChanged":
            continue
        new_state = str(event.get("message") or "").rsplit(" to ", 1)[-1].strip()
        found = flink_job_status({"status": {"jobStatus": {"state": new_state}}})
        message = f"its operator recorded the job's change to {new_state}"
        return JobStatus(found.phase, new_state, message)
    return None


def error_type(error: Any) -> str | None:
    """The exception class named in a JSON ``status.error`` (without its package), if any."""
    parsed = _parsed_error(error)
    kind = parsed.get("type") if parsed else None
    return str(kind).rsplit(".", 1)[-1] if kind else None


def _parsed_error(error: Any) -> Mapping[str, Any] | None:
    if not isinstance(error, str) or not error.strip():
        return None
    try:
        parsed = json.loads(error)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


def error_message(error: Any) -> str | None:
    """A readable ``status.error``: the operator's exception message and its root cause.

    The operator serializes a ``FlinkResourceException`` as JSON; older operators, and failures
    it does not wrap, write plain text, which is kept as it is.
    """
    if not isinstance(error, str) or not error.strip():
        return None
    parsed = _parsed_error(error)
    if not parsed or not parsed.get("message"):
        return error.strip()
    message = str(parsed["message"]).strip()
    causes = [
        cause
        for cause in parsed.get("throwableList") or []
        if isinstance(cause, Mapping)
        and cause.get("message")
        and str(cause["message"]).strip() not in message
    ]
    if causes:
        root = causes[-1]
        kind = str(root.get("type") or "").rsplit(".", 1)[-1]
        message += f" (caused by {kind + ': ' if kind else ''}{str(root['message']).strip()})"
    return message


class _FlinkJobAdapter(EngineAdapter):
    """What FlinkDeployment and FlinkSessionJob share: job states, job id, dashboard link."""

    link_buttons = ("flink_dashboard",)

    def status(self, job: Mapping[str, Any]) -> JobStatus:
        return flink_job_status(job)

    def status_from_events(self, events: Sequence[Mapping[str, Any]]) -> JobStatus | None:
        return status_from_job_events(events)

    def slim_status(self, status: Mapping[str, Any]) -> dict[str, Any]:
        # reconciliationStatus holds copies of the whole spec as JSON strings; the status reading
        # above only asks whether the operator has reconciled one yet.
        slim = dict(status)
        reconciliation = status.get("reconciliationStatus")
        if reconciliation:
            slim["reconciliationStatus"] = {
                key: SPEC_COPY_OMITTED if key in _SPEC_COPIES and value else value
                for key, value in reconciliation.items()
            }
        return slim

    @abstractmethod
    def cluster_id(self, job: Mapping[str, Any]) -> str | None:
        """The Flink cluster (FlinkDeployment) whose JobManager runs the job."""

    def log_pods(self, job: Mapping[str, Any]) -> LogPods | None:
        """The JobManager of the job's cluster (see the module docstring)."""
        cluster = self.cluster_id(job)
        if not cluster:
            return None
        return LogPods(f"app={cluster},component=jobmanager", JOBMANAGER_CONTAINER)

    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        return {"job_id": _job_status(job).get("jobId") or None, "pod": None}

    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        status = job.get("status") or {}
        return {
            "job_id": _job_status(job).get("jobId"),
            "job_name": _job_status(job).get("jobName"),
            "lifecycle_state": status.get("lifecycleState"),
        }


class FlinkAdapter(_FlinkJobAdapter):
    """A Flink application cluster running one batch job (``FlinkDeployment`` with ``spec.job``)."""

    engine = "flink"
    resource = FLINK_DEPLOYMENT
    # What cost() reads (engines/flink_cost.py).
    spec_fields = ("job", "jobManager", "taskManager", "flinkConfiguration", "podTemplate")
    # The operator's own objects ("<name>-rest", "<name>-taskmanager-1-1", the JobManager pod's
    # generated suffixes) fit within its 45-character limit on the name.

    @property
    def max_name_length(self) -> int:
        return min(super().max_name_length, MAX_DEPLOYMENT_NAME_LENGTH)

    def cluster_id(self, job: Mapping[str, Any]) -> str | None:
        return str(job["metadata"]["name"])

    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        jobmanager = (job.get("status") or {}).get("jobManagerDeploymentStatus")
        return {**super().result(job), "jobmanager_status": jobmanager}

    def cost(self, job: Mapping[str, Any]) -> JobCost | None:
        return flink_cost(job)


class FlinkSessionJobAdapter(_FlinkJobAdapter):
    """A batch job submitted to a running session cluster (``FlinkSessionJob``)."""

    engine = "flink_session"
    resource = FLINK_SESSION_JOB
    spec_fields = ("deploymentName",)

    def cluster_id(self, job: Mapping[str, Any]) -> str | None:
        return (job.get("spec") or {}).get("deploymentName") or None


def _job_status(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return (job.get("status") or {}).get("jobStatus") or {}
