"""What a FlinkDeployment reserved: its JobManager and TaskManager pods' requests over its job's run.

Read from flink-kubernetes-operator 6e9caeb (``config/FlinkConfigBuilder.java``) and Flink's
Kubernetes integration, which turns the resulting configuration into pods:

==========================  ===================================================================
value                       from (first found)
==========================  ===================================================================
a role's CPUs, memory       ``resources`` requests, else its limits (``applyResourceConfig``
                            prefers it; ``ResourceConfigUtils.getRequestOrLimit``); else
                            ``resource`` (``setResource``); else ``flinkConfiguration``
                            ``kubernetes.<role>.cpu[.amount]`` and ``<role>.memory.process.size``
memory                      the total process size, which Flink requests for the pod; a Flink size
                            (``2048m``: MiB, a bare number is bytes) or else a Kubernetes quantity
                            (``ResourceConfigUtils.parseResourceMemoryString``)
default CPUs                JobManager 1; TaskManager its task slots (Flink's
                            ``kubernetes.jobmanager.cpu`` / ``kubernetes.taskmanager.cpu`` defaults)
JobManagers                 ``jobManager.replicas``, 1
TaskManagers                ``taskManager.replicas``, else parallelism over
                            ``taskmanager.numberOfTaskSlots`` (1), rounded up: the pods Flink's
                            resource manager asks for (``getParallelism``: ``job.parallelism``,
                            else ``parallelism.default``, else 1)
run                         ``status.jobStatus.startTime`` to ``updateTime`` (epoch ms; the
                            operator sets ``updateTime`` when it sees the state change,
                            ``JobStatusObserver.updateJobStatus``)
queue                       the ``yunikorn.apache.org/queue`` label of ``spec.podTemplate``
==========================  ===================================================================

The JobManager runs before the job starts and until the resource is deleted, and idle
TaskManagers are released a while after the job: both are counted for the job's run only.
A session job runs in a cluster shared with other jobs: it has no cost of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from moka_provider.engines.cost import SPEC, JobCost, PodGroup, bytes_gib, cpu_cores, label, quantity_gib
from moka_provider.engines.flink_spec import flat_configuration
from moka_provider.engines.values import YUNIKORN_QUEUE_LABEL

_FLINK_SIZE = re.compile(r"^([0-9]+)\s*([a-z]*)$")
_FLINK_UNITS = {
    **dict.fromkeys(("", "b", "bytes"), 0),
    **dict.fromkeys(("k", "kb", "kibibytes"), 1),
    **dict.fromkeys(("m", "mb", "mebibytes"), 2),
    **dict.fromkeys(("g", "gb", "gibibytes"), 3),
    **dict.fromkeys(("t", "tb", "tebibytes"), 4),
}


def flink_cost(job: Mapping[str, Any]) -> JobCost | None:
    """What the deployment reserved (see the module docstring); ``None`` if its job never started.

    Raises ValueError for a size Flink would not read, or a role whose memory nothing states.
    """
    spec = job.get("spec") or {}
    job_status = (job.get("status") or {}).get("jobStatus") or {}
    started, updated = (int(job_status.get(key) or 0) for key in ("startTime", "updateTime"))
    if started <= 0 or updated < started:
        return None
    conf = dict(flat_configuration(spec.get("flinkConfiguration")))
    slots = int(conf.get("taskmanager.numberOfTaskSlots") or 1)
    jobmanager, taskmanager = spec.get("jobManager") or {}, spec.get("taskManager") or {}
    groups = (
        PodGroup(
            "jobmanager", int(jobmanager.get("replicas") or 1), *_size(jobmanager, conf, "jobmanager", 1)
        ),
        PodGroup(
            "taskmanagers", _taskmanagers(spec, conf, slots), *_size(taskmanager, conf, "taskmanager", slots)
        ),
    )
    queue = label((spec.get("podTemplate") or {}).get("metadata"), YUNIKORN_QUEUE_LABEL)
    return JobCost(groups, (updated - started) / 1000, SPEC, queue)


def _taskmanagers(spec: Mapping[str, Any], conf: Mapping[str, Any], slots: int) -> int:
    replicas = (spec.get("taskManager") or {}).get("replicas")
    if replicas:
        return int(replicas)
    parallelism = (spec.get("job") or {}).get("parallelism") or conf.get("parallelism.default") or 1
    return math.ceil(int(parallelism) / slots)


def _size(
    role: Mapping[str, Any], conf: Mapping[str, Any], name: str, default_cpu: float
) -> tuple[float, float]:
    """A JobManager's or TaskManager's CPUs and memory (GiB)."""
    requirements = role.get("resources") or {}
    requested = {**(requirements.get("limits") or {}), **(requirements.get("requests") or {})}
    if requested:
        cpu, memory = requested.get("cpu"), requested.get("memory")
    else:
        resource = role.get("resource") or {}
        cpu, memory = resource.get("cpu"), resource.get("memory")
    cpu = (
        cpu or conf.get(f"kubernetes.{name}.cpu.amount") or conf.get(f"kubernetes.{name}.cpu") or default_cpu
    )
    memory = memory or conf.get(f"{name}.memory.process.size")
    if not memory:
        raise ValueError(f"the {name}'s memory is not stated (resource.memory or {name}.memory.process.size)")
    return cpu_cores(cpu), flink_size_gib(memory)


def flink_size_gib(value: Any) -> float:
    """A memory size as the operator reads it: a Flink size (``2048m``, ``2g``; bare: bytes), else a
    Kubernetes quantity (``2Gi``, ``2G``)."""
    match = _FLINK_SIZE.match(str(value).strip().lower())
    if match and match[2] in _FLINK_UNITS:
        return bytes_gib(int(match[1]) * 1024 ** _FLINK_UNITS[match[2]])
    return quantity_gib(value)
