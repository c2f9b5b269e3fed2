"""What a RayJob's own cluster reserved: its head's and workers' pod requests over the job's run.

Read from KubeRay feeaf72 (``ray-operator/controllers/ray/utils/util.go``), whose own accounting
of a cluster's resources this follows:

==========================  ===================================================================
value                       from
==========================  ===================================================================
a pod's CPUs, memory        every container of the group's pod template, its request, else its
                            limit (Kubernetes requests the limit then), summed
                            (``CalculatePodResource``)
workers of a group          ``replicas`` within ``minReplicas`` and ``maxReplicas``, times
                            ``numOfHosts`` (1); none for a suspended group
                            (``GetWorkerGroupDesiredReplicas``); CRD defaults: replicas 0
run                         ``status.startTime`` (the RayJob began initializing, so its cluster)
                            to ``status.endTime`` (it ended), ``rayjob_types.go``
queue                       the RayJob's ``yunikorn.apache.org/queue`` label
==========================  ===================================================================

With ``enableInTreeAutoscaling`` the autoscaler changes the workers' number as the job runs and the
RayJob's status does not record it: worker groups are counted at their starting number, an
estimate, method ``initial_replicas``. Containers KubeRay adds to the pods (the autoscaler's
sidecar) and the submitter's pod are not counted. A job on an existing cluster
(``clusterSelector``) shares it with others: it has no cost of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moka_provider.engines.cost import SPEC, JobCost, PodGroup, cpu_cores, label, quantity_gib, run_seconds
from moka_provider.engines.values import YUNIKORN_QUEUE_LABEL

#: ``method`` when autoscaled worker groups are counted at their starting number.
INITIAL_REPLICAS = "initial_replicas"
_MAX_REPLICAS = 2**31 - 1


def ray_cost(job: Mapping[str, Any]) -> JobCost | None:
    """What the job's cluster reserved (see the module docstring); ``None`` if the job has no
    cluster of its own or never started."""
    spec, status = job.get("spec") or {}, job.get("status") or {}
    cluster = spec.get("rayClusterSpec")
    seconds = run_seconds(status.get("startTime"), status.get("endTime"))
    if spec.get("clusterSelector") or not isinstance(cluster, Mapping) or seconds is None:
        return None
    groups = [PodGroup("head", 1, *pod_requests(cluster.get("headGroupSpec") or {}))]
    for group in cluster.get("workerGroupSpecs") or []:
        groups.append(PodGroup(f"workers {group.get('groupName')}", worker_pods(group), *pod_requests(group)))
    method = INITIAL_REPLICAS if cluster.get("enableInTreeAutoscaling") and len(groups) > 1 else SPEC
    return JobCost(tuple(groups), seconds, method, label(job.get("metadata"), YUNIKORN_QUEUE_LABEL))


def worker_pods(group: Mapping[str, Any]) -> int:
    """A worker group's pods (``GetWorkerGroupDesiredReplicas``)."""
    if group.get("suspend"):
        return 0
    low, high = int(group.get("minReplicas") or 0), int(group.get("maxReplicas") or _MAX_REPLICAS)
    replicas = group.get("replicas")
    wanted = low if replicas is None else min(max(int(replicas), low), high)
    return wanted * int(group.get("numOfHosts") or 1)


def pod_requests(group: Mapping[str, Any]) -> tuple[float, float]:
    """CPUs and memory (GiB) of one pod of a group (``CalculatePodResource``)."""
    cores = memory = 0.0
    for container in ((group.get("template") or {}).get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        amounts = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        cores += cpu_cores(amounts["cpu"]) if "cpu" in amounts else 0.0
        memory += quantity_gib(amounts["memory"]) if "memory" in amounts else 0.0
    return cores, memory
