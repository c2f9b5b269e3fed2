"""Ray on Moka: how a KubeRay ``RayJob``'s status reads.

KubeRay reports the RayJob's own progress in ``status.jobDeploymentStatus`` and the Ray job's, as
the cluster's dashboard tells it, in ``status.jobStatus``; a failure has a ``reason``
(``SubmissionFailed``, ``DeadlineExceeded``, ``AppFailed``, ``ValidationFailed``...) and a
``message``. Phases (docs/design.md section 3):

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

**Log pods.** In the default ``K8sJobMode`` KubeRay runs ``ray job submit`` in a submitter
Kubernetes Job named after the RayJob (``rayjob_controller.go`` ``createNewK8sJob``), which follows
the Ray job's log: its pod's log is the job's log. The Job controller names that pod with a random
suffix and labels it ``job-name=<job>``; a submission it retries, or a new attempt after
``Retrying`` (a new Job), is a newer pod with the same label. In ``SidecarMode`` the submitter is
the ``ray-job-submitter`` container of the cluster's head pod (``ray.io/cluster=<cluster>,
ray.io/node-type=head``). ``HTTPMode`` and ``InteractiveMode`` have no submitter: no log pod.

**Links.** ``ray_dashboard`` (placeholders ``{ray_cluster}``, ``{job_id}``) while the cluster
lives and after: KubeRay removes a finished job's cluster (``shutdownAfterJobFinishes``), after
which a dashboard link can only work through a Ray history service the template points at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, LogPods, Phase
from moka_provider.engines.cost import JobCost
from moka_provider.engines.ray_cost import ray_cost
from moka_provider.resources import RAY_JOB

#: KubeRay's submitter container, in the submitter Job's pod or the head pod
#: (``utils/constant.go`` ``SubmitterContainerName``).
SUBMITTER_CONTAINER = "ray-job-submitter"
#: KubeRay's limit on a RayJob's name (the names of its cluster and pods derive from it).
MAX_RAY_JOB_NAME_LENGTH = 47
_FAILED = frozenset({"Failed", "ValidationFailed"})
#: Ray job states (``status.jobStatus``) of a job that has not started executing.
_NOT_STARTED = frozenset({"", "PENDING"})


class RayAdapter(EngineAdapter):
    engine = "ray"
    resource = RAY_JOB
    link_buttons = ("ray_dashboard",)
    # submissionMode for log_pods; the rest for cost() (engines/ray_cost.py).
    spec_fields = ("submissionMode", "rayClusterSpec", "clusterSelector")

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

    def log_pods(self, job: Mapping[str, Any]) -> LogPods | None:
        """The submitter's pod (see the module docstring)."""
        mode = (job.get("spec") or {}).get("submissionMode") or "K8sJobMode"
        if mode == "K8sJobMode":
            return LogPods(f"job-name={job['metadata']['name']}", SUBMITTER_CONTAINER)
        cluster = (job.get("status") or {}).get("rayClusterName")
        if mode == "SidecarMode" and cluster:
            return LogPods(f"ray.io/cluster={cluster},ray.io/node-type=head", SUBMITTER_CONTAINER)
        return None

    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        status = job.get("status") or {}
        return {
            "job_id": status.get("jobId") or None,
            "ray_cluster": status.get("rayClusterName") or None,
            "pod": None,
        }

    def slim_status(self, status: Mapping[str, Any]) -> dict[str, Any]:
        # rayClusterStatus is the whole status of the job's RayCluster; nothing here reads it.
        return {key: value for key, value in status.items() if key != "rayClusterStatus"}

    def cost(self, job: Mapping[str, Any]) -> JobCost | None:
        return ray_cost(job)

    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        status = job.get("status") or {}
        return {
            "job_id": status.get("jobId"),
            "ray_cluster": status.get("rayClusterName"),
            "job_status": status.get("jobStatus"),
            "reason": status.get("reason"),
        }
