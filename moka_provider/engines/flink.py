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
``jobStatus.state RUNNING``, ``RESTARTING``,           RUNNING
``FAILING``, ``CANCELLING``
``CREATED``, ``INITIALIZING``, ``RECONCILING``,        PENDING
``SUSPENDED``, none yet, anything new
=====================================================  =========================================

A job *in trouble* may still recover (a crash loop that ends, a transient deploy error), so the
task waits for it, but only for its ``error_grace``; then it fails with the operator's error.

**Log pods.** The operator runs a FlinkDeployment's JobManager as a Deployment named after the
resource, so its pod's name ends in generated ReplicaSet and pod suffixes that the status does not
report, and the provider's Role may not list pods to find it (labels ``app=<name>,
component=jobmanager``). The adapters therefore name the pods the local control plane runs
(``<name>-jobmanager``; ``<name>-session-job`` for a session job, which locally runs in a pod of its
own, where on a cluster it runs inside the session's JobManager). On a real cluster reading that
name finds no pod, and the job's log comes from the log archive instead.

**Links.** The Flink dashboard (``flink_dashboard`` template, e.g. the operator's ingress or a
History Server keyed by ``{job_id}``) is the one engine link, the same template while the job runs
and after: Flink has no separate history UI that Moka tells apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, Phase
from moka_provider.engines.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB

_RUNNING_STATES = frozenset({"RUNNING", "RESTARTING", "FAILING", "CANCELLING"})
_FAILED_STATES = frozenset({"FAILED", "CANCELED"})
#: The exception the operator records for a spec it refuses (``exception/ValidationException``).
_VALIDATION_ERROR = "ValidationException"
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
    return JobStatus(phase, state or lifecycle, message)


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
    #: The suffix of the pod the local control plane runs the job in.
    local_pod_suffix: str

    def status(self, job: Mapping[str, Any]) -> JobStatus:
        return flink_job_status(job)

    def log_pod(self, job: Mapping[str, Any]) -> str | None:
        """The local control plane's pod of the job (see the module docstring for clusters)."""
        return f"{job['metadata']['name']}{self.local_pod_suffix}"

    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        return {"job_id": _job_status(job).get("jobId") or None, "pod": self.log_pod(job)}

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
    # Locally "<name>-jobmanager"; the operator's own objects ("<name>-rest", "<name>-taskmanager-1-1")
    # are shorter than its 45-character limit on the name allows for anyway.
    name_suffixes = ("-jobmanager",)
    local_pod_suffix = "-jobmanager"

    @property
    def max_name_length(self) -> int:
        return min(super().max_name_length, MAX_DEPLOYMENT_NAME_LENGTH)

    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        jobmanager = (job.get("status") or {}).get("jobManagerDeploymentStatus")
        return {**super().result(job), "jobmanager_status": jobmanager}


class FlinkSessionJobAdapter(_FlinkJobAdapter):
    """A batch job submitted to a running session cluster (``FlinkSessionJob``)."""

    engine = "flink_session"
    resource = FLINK_SESSION_JOB
    name_suffixes = ("-session-job",)
    local_pod_suffix = "-session-job"


def _job_status(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return (job.get("status") or {}).get("jobStatus") or {}
