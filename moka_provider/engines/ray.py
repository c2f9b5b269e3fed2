"""Ray on Moka: how a KubeRay ``RayJob``'s status reads.

KubeRay reports the RayJob's own progress in ``status.jobDeploymentStatus`` and the Ray job's, as
the cluster's dashboard tells it, in ``status.jobStatus``; a failure has a ``reason``
(``SubmissionFailed``, ``DeadlineExceeded``, ``AppFailed``, ``ValidationFailed``...) and a
``message``. Phases (DESIGN.md section 3):

======================================================  ==========================================
``jobDeploymentStatus``                                 phase
======================================================  ==========================================
``Complete`` with ``jobStatus: SUCCEEDED``              SUCCEEDED
``Complete`` with any other ``jobStatus`` (``STOPPED``)  FAILED
``Failed``, ``ValidationFailed``                        FAILED, message ``<reason>: <message>``
``Running`` with ``jobStatus: RUNNING`` (or a later,     RUNNING
not yet concluded state)
``Running`` with ``jobStatus`` ``PENDING`` or none yet    PENDING: KubeRay sets ``Running`` as soon as
                                                        it created the submitter
                                                        (``rayjob_controller.go`` ``Reconcile``,
                                                        case ``Initializing``); the Ray job may
                                                        still wait for resources, which
                                                        ``start_timeout`` must cover
``""``, ``Initializing``, ``Waiting``, ``Retrying``     PENDING: no Ray job executing (a retry
(a failed attempt with ``backoffLimit`` left),          starts a fresh cluster), or one the
``Suspending``, ``Suspended``, anything new             operator may still run
======================================================  ==========================================

**Log pod.** In the default ``K8sJobMode`` a submitter Kubernetes Job named after the RayJob runs
``ray job submit`` and follows the job's log, so its pod's log is the job's log. A Job's pod has
a generated suffix that the status does not report (and the provider's Role may not list pods,
which carry the label ``job-name=<name>``), so the adapter names the pod the local control plane
runs: ``<name>-<first 5 hex digits of sha1(status.jobId)>``, known as soon as the status has the
job id. On a real cluster reading that name finds no pod, and the log comes from the log archive.
``HTTPMode`` and ``SidecarMode`` have no submitter pod: no log pod.

**Links.** ``ray_dashboard`` (placeholders ``{ray_cluster}``, ``{job_id}``) while the cluster
lives and after: KubeRay removes a finished job's cluster (``shutdownAfterJobFinishes``), after
which a dashboard link can only work through a Ray history service the template points at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, Phase
from moka_provider.engines.resources import RAY_JOB

#: KubeRay's limit on a RayJob's name (the names of its cluster and pods derive from it).
MAX_RAY_JOB_NAME_LENGTH = 47
_FAILED = frozenset({"Failed", "ValidationFailed"})
#: Ray job states (``status.jobStatus``) of a job that has not started executing.
_NOT_STARTED = frozenset({"", "PENDING"})


class RayAdapter(EngineAdapter):
    engine = "ray"
    resource = RAY_JOB
    link_buttons = ("ray_dashboard",)

    @property
    def max_name_length(self) -> int:
        return min(super().max_name_length, MAX_RAY_JOB_NAME_LENGTH)

    def status(self, job: Mapping[str, Any]) -> JobStatus:
        status = job.get("status") or {}
        state = status.get("jobDeploymentStatus") or ""
        ray_state = status.get("jobStatus") or ""
        reason, message = status.get("reason") or "", status.get("message") or ""
        if state == "Complete" and ray_state == "SUCCEEDED":
            return JobStatus(Phase.SUCCEEDED, state, message or None)
        if state == "Complete":
            ended = f"the Ray job ended {ray_state or 'without a status'}"
            return JobStatus(Phase.FAILED, state, f"{ended}: {message}" if message else ended)
        if state in _FAILED:
            shown = ": ".join(part for part in (reason, message) if part)
            return JobStatus(Phase.FAILED, state, shown or None)
        if state == "Running" and ray_state not in _NOT_STARTED:
            return JobStatus(Phase.RUNNING, state, message or None)
        if state == "Running":
            return JobStatus(
                Phase.PENDING, f"Running ({ray_state or 'no Ray job status yet'})", message or None
            )
        return JobStatus(Phase.PENDING, state, message or None)

    def log_pod(self, job: Mapping[str, Any]) -> str | None:
        """The submitter pod as the local control plane names it (see the module docstring)."""
        job_id = (job.get("status") or {}).get("jobId")
        mode = (job.get("spec") or {}).get("submissionMode") or "K8sJobMode"
        if not job_id or mode != "K8sJobMode":
            return None
        return f"{job['metadata']['name']}-{hashlib.sha1(str(job_id).encode()).hexdigest()[:5]}"

    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        status = job.get("status") or {}
        return {
            "job_id": status.get("jobId") or None,
            "ray_cluster": status.get("rayClusterName") or None,
            "pod": self.log_pod(job),
        }

    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        status = job.get("status") or {}
        return {
            "job_id": status.get("jobId"),
            "ray_cluster": status.get("rayClusterName"),
            "job_status": status.get("jobStatus"),
            "reason": status.get("reason"),
        }
