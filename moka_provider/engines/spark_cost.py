"""What a SparkApplication reserved: its driver's and executors' pod requests over its run.

The pods' requests are what Spark on Kubernetes gives them and what kubeflow/spark-operator
reserves for them in YuniKorn (``internal/scheduler/yunikorn/resourceusage``, 38082f3), with the
defaults its webhook fills in (``api/v1beta2/defaults.go`` ``setDriverSpecDefaults`` /
``setExecutorSpecDefaults``). The spec's fields become Spark properties after ``spec.sparkConf``
(``internal/controller/sparkapplication/submission.go`` ``buildSparkSubmitArgs``: ``sparkConfOption``
before ``driverConfOption`` / ``executorConfOption``), so a field wins over the same property.

==========================  ===================================================================
value                       from (first found)
==========================  ===================================================================
CPUs of a pod               ``coreRequest``, ``spark.kubernetes.<role>.request.cores``, ``cores``,
                            ``spark.<role>.cores``, 1 (``resource_usage.go`` ``cpuRequest``)
memory                      ``memory``, ``spark.<role>.memory``, ``1g`` (a bare number is MiB)
memory overhead             ``memoryOverhead``, ``spark.<role>.memoryOverhead``, else
                            max(factor x memory, 384 MiB) (``memory.go`` ``memoryRequestBytes``)
overhead factor             ``spark.<role>.memoryOverheadFactor``, ``spec.memoryOverheadFactor``
                            (as ``spark.kubernetes.memoryOverheadFactor``), else 0.1 for Java/Scala and
                            0.4 for Python/R (``getMemoryOverheadFactor``; ``spec.type`` defaults
                            to Scala)
executor extras             ``spark.executor.pyspark.memory`` (Python only) and
                            ``spark.memory.offHeap.size`` when ``spark.memory.offHeap.enabled``
                            (``executorPysparkMemoryBytes``, ``sparkOffHeapMemoryBytes``)
executors                   ``executor.instances``, ``spark.executor.instances``, 1; with dynamic
                            allocation the executors ``status.executorState`` lists (see below)
run                         ``status.lastSubmissionAttemptTime`` to ``status.terminationTime``
                            (``controller.go`` sets them at submission and at the end)
queue                       ``spec.batchSchedulerOptions.queue`` (the YuniKorn queue)
==========================  ===================================================================

With dynamic allocation the status keeps no executor's start or end, only which executors there
were: each is counted for the whole run, and no more of them than ``maxExecutors`` (they cannot
all have run at once): an upper bound, method ``executors_seen``. Only the last submission's run
counts; earlier attempts of an ``OnFailure`` restart policy are not in the status.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from moka_provider.engines.cost import SPEC, JobCost, PodGroup, cpu_cores, run_seconds

#: Spark's smallest memory overhead (MiB) and its overhead factors (pkg/common/spark.go).
MIN_MEMORY_OVERHEAD_MIB = 384
JVM_OVERHEAD_FACTOR = 0.1
NON_JVM_OVERHEAD_FACTOR = 0.4
#: ``method`` when dynamic allocation's executors are counted from the status.
EXECUTORS_SEEN = "executors_seen"
_JVM_TYPES = frozenset({"Java", "Scala"})
_BYTE_STRING = re.compile(r"^([0-9]+)\s*([a-z]*)$")
_UNITS = {"b": 0, "k": 1, "kb": 1, "m": 2, "mb": 2, "g": 3, "gb": 3, "t": 4, "tb": 4, "p": 5, "pb": 5}
_MIB = 2**20


def spark_cost(job: Mapping[str, Any], executors_seen: int) -> JobCost | None:
    """What the application reserved (see the module docstring); ``None`` if it never ran.
    ``executors_seen``: how many executors its status lists (``SparkAdapter`` counts them).

    Raises ValueError for a size or CPU count Spark would not read either.
    """
    spec, status = job.get("spec") or {}, job.get("status") or {}
    seconds = run_seconds(status.get("lastSubmissionAttemptTime"), status.get("terminationTime"))
    if seconds is None:
        return None
    conf = spec.get("sparkConf") or {}
    extras = _executor_extras(conf, python=spec.get("type") == "Python")
    executors, method = _executors(spec, conf, executors_seen)
    groups = (
        PodGroup("driver", 1, _cores(spec, conf, "driver"), _memory_mib(spec, conf, "driver") / 1024),
        PodGroup(
            "executors",
            executors,
            _cores(spec, conf, "executor"),
            (_memory_mib(spec, conf, "executor") + extras) / 1024,
        ),
    )
    queue = (spec.get("batchSchedulerOptions") or {}).get("queue") or None
    return JobCost(groups, seconds, method, queue)


def _cores(spec: Mapping[str, Any], conf: Mapping[str, Any], name: str) -> float:
    role = spec.get(name) or {}
    request = role.get("coreRequest") or conf.get(f"spark.kubernetes.{name}.request.cores")
    if request:
        return cpu_cores(request)
    return float(role.get("cores") or conf.get(f"spark.{name}.cores") or 1)


def _overhead_factor(spec: Mapping[str, Any], conf: Mapping[str, Any], name: str) -> float:
    """A role's memory overhead factor: its own property before the shared one (Spark 3.3+)."""
    default = JVM_OVERHEAD_FACTOR if (spec.get("type") or "Scala") in _JVM_TYPES else NON_JVM_OVERHEAD_FACTOR
    return float(
        conf.get(f"spark.{name}.memoryOverheadFactor")
        or spec.get("memoryOverheadFactor")
        or conf.get("spark.kubernetes.memoryOverheadFactor")
        or default
    )


def _memory_mib(spec: Mapping[str, Any], conf: Mapping[str, Any], name: str) -> int:
    """A pod's memory with its overhead, in MiB as Spark sizes it."""
    role = spec.get(name) or {}
    memory = spark_size_mib(role.get("memory") or conf.get(f"spark.{name}.memory") or "1g")
    overhead = role.get("memoryOverhead") or conf.get(f"spark.{name}.memoryOverhead")
    if overhead:
        return memory + spark_size_mib(overhead)
    return memory + max(int(_overhead_factor(spec, conf, name) * memory), MIN_MEMORY_OVERHEAD_MIB)


def _executor_extras(conf: Mapping[str, Any], python: bool) -> int:
    """An executor's PySpark and off-heap memory (MiB)."""
    extras = 0
    if python and conf.get("spark.executor.pyspark.memory"):
        extras += spark_size_mib(conf["spark.executor.pyspark.memory"])
    if str(conf.get("spark.memory.offHeap.enabled", "false")).lower() == "true":
        extras += spark_size_mib(conf.get("spark.memory.offHeap.size") or "0", bare="b")
    return extras


def _executors(spec: Mapping[str, Any], conf: Mapping[str, Any], seen: int) -> tuple[int, str]:
    # The operator passes spec.dynamicAllocation on only when it is enabled (dynamicAllocationOption).
    allocation = spec.get("dynamicAllocation")
    if not (isinstance(allocation, Mapping) and allocation.get("enabled") is True):
        allocation = {}
    dynamic = bool(allocation) or str(conf.get("spark.dynamicAllocation.enabled", "")).lower() == "true"
    if not dynamic:
        instances = (spec.get("executor") or {}).get("instances")
        if instances is None:
            instances = conf.get("spark.executor.instances") or 1
        return int(instances), SPEC
    maximum = allocation.get("maxExecutors") or conf.get("spark.dynamicAllocation.maxExecutors")
    return (min(seen, int(maximum)) if maximum else seen), EXECUTORS_SEEN


def spark_size_mib(value: Any, bare: str = "m") -> int:
    """A Spark size (``512m``, ``2g``, ``1024``) in MiB, rounded down as Spark does; a bare number is
    in ``bare`` units (MiB for the memory properties, bytes for ``spark.memory.offHeap.size``)."""
    match = _BYTE_STRING.match(str(value).strip().lower())
    if not match or (match[2] or bare) not in _UNITS:
        raise ValueError(f"{value!r} is not a Spark size")
    return math.floor(int(match[1]) * 1024 ** _UNITS[match[2] or bare] / _MIB)
