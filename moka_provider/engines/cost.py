"""What a finished job reserved: its pods' CPU and memory requests times how long it ran.

The engines' readers (``spark_cost``, ``flink_cost``, ``ray_cost``) say which pods a job had and
what each requested, as its operator builds them, and which status timestamps bound its run; the
arithmetic (core-seconds, GiB-seconds) and the forms it is shown in are here, once.

*Reserved* is what the scheduler set aside (the pods' requests), not what the job used. The run
is the interval the engine's status states, the same for every pod of the job; pods that start
later or live longer (an executor asked for mid-run, a JobManager kept after its job) are counted
for that interval. ``method`` names how the pods were counted: ``spec`` when the spec fixes their
number, another name when it had to be estimated (docs/design.md section 6.10).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moka_provider.engines.values import parse_quantity

#: ``method`` when the spec fixes every pod's number.
SPEC = "spec"
_GIB = 2**30


@dataclass(frozen=True)
class PodGroup:
    """``pods`` pods of one role (``driver``, ``executors``, ``head``...), each requesting
    ``cores`` CPUs and ``memory_gib`` GiB of memory."""

    role: str
    pods: int
    cores: float
    memory_gib: float


@dataclass(frozen=True)
class JobCost:
    """The pods a job reserved for ``seconds``; ``queue`` is its scheduler queue, if it has one."""

    groups: tuple[PodGroup, ...]
    seconds: float
    method: str = SPEC
    queue: str | None = None

    @property
    def core_seconds(self) -> float:
        return self.seconds * sum(group.pods * group.cores for group in self.groups)

    @property
    def memory_gib_seconds(self) -> float:
        return self.seconds * sum(group.pods * group.memory_gib for group in self.groups)

    def as_dict(self) -> dict[str, Any]:
        """The form of the task's XCom value (``cost``)."""
        return {
            "core_seconds": round(self.core_seconds, 3),
            "memory_gib_seconds": round(self.memory_gib_seconds, 3),
            "seconds": round(self.seconds, 3),
            "method": self.method,
            "queue": self.queue,
            "pods": [
                {"role": g.role, "pods": g.pods, "cores": g.cores, "memory_gib": round(g.memory_gib, 6)}
                for g in self.groups
            ],
        }

    def summary(self) -> str:
        """One line for the task log."""
        groups = ", ".join(
            f"{g.role} {g.pods} x ({g.cores:g} CPU, {g.memory_gib:.3g} GiB)" for g in self.groups
        )
        return (
            f"reserved {self.core_seconds / 3600:.3g} core-hours ({self.core_seconds:.0f} core-seconds) and "
            f"{self.memory_gib_seconds / 3600:.3g} GiB-hours of memory ({self.memory_gib_seconds:.0f} "
            f"GiB-seconds) over {self.seconds:.0f} s: {groups or 'no pods'}; method {self.method}"
        )


def cpu_cores(quantity: Any) -> float:
    """A Kubernetes CPU quantity (``500m``, ``2``, a number) in cores; ValueError if it is none."""
    return float(parse_quantity(str(quantity).strip()))


def quantity_gib(quantity: Any) -> float:
    """A Kubernetes memory quantity (``512Mi``, ``2G``) in GiB; ValueError if it is none."""
    return float(parse_quantity(str(quantity).strip())) / _GIB


def bytes_gib(amount: float) -> float:
    return amount / _GIB


def run_seconds(start: Any, end: Any) -> float | None:
    """Seconds between two RFC 3339 timestamps of a status; ``None`` unless both are set and in order."""
    if not start or not end:
        return None
    began, ended = (
        datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) for stamp in (start, end)
    )
    seconds = (ended - began).total_seconds()
    return seconds if seconds >= 0 else None


def label(metadata: Mapping[str, Any] | None, key: str) -> str | None:
    """A label of ``metadata`` (a resource's or a pod template's), if set."""
    labels = (metadata or {}).get("labels") if isinstance(metadata, Mapping) else None
    value = labels.get(key) if isinstance(labels, Mapping) else None
    return str(value) if value else None
