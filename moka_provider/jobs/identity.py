"""Which Airflow task instance a job belongs to: its deterministic name, labels and annotations.

A job's name is derived from ``dag_id / task_id / run_id / map_index`` (plus an attempt number
after a failed attempt), so a retried task, or one whose worker died, finds the job it started
instead of submitting a second one. Label values may not hold a run id's ``:`` or ``+``, so the
exact values go to annotations and a hash of them (``moka.dev/job-key``) is what lookups select on.
Pure logic.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from moka_provider.exceptions import MokaJobSpecError

LABEL_PREFIX = "moka.dev/"
JOB_KEY_LABEL = LABEL_PREFIX + "job-key"
ATTEMPT_LABEL = LABEL_PREFIX + "attempt"
MANAGED_BY = {"app.kubernetes.io/managed-by": "airflow-moka-provider"}

# A DNS label that starts with a letter: the engines' operators derive Service names from the
# job's name, and those must (RFC 1035).
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_HASH_LENGTH = 8
_MAX_ATTEMPT_SUFFIX = len("-99")


@dataclass(frozen=True)
class JobIdentity:
    """The task instance a job runs for."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1

    @classmethod
    def from_context(cls, context: Any) -> JobIdentity:
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        return cls(ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else map_index)

    @property
    def key(self) -> str:
        text = "\0".join((self.dag_id, self.task_id, self.run_id, str(self.map_index)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def selector(self) -> str:
        return f"{JOB_KEY_LABEL}={self.key}"

    def labels(self, attempt: int) -> dict[str, str]:
        labels = {
            JOB_KEY_LABEL: self.key,
            ATTEMPT_LABEL: str(attempt),
            LABEL_PREFIX + "dag-id": label_value(self.dag_id),
            LABEL_PREFIX + "task-id": label_value(self.task_id),
            **MANAGED_BY,
        }
        if self.map_index >= 0:  # "-1" (not mapped) is not a valid label value
            labels[LABEL_PREFIX + "map-index"] = str(self.map_index)
        return labels

    def annotations(self) -> dict[str, str]:
        return {
            LABEL_PREFIX + "dag-id": self.dag_id,
            LABEL_PREFIX + "task-id": self.task_id,
            LABEL_PREFIX + "run-id": self.run_id,
            LABEL_PREFIX + "map-index": str(self.map_index),
        }

    def job_name(self, max_length: int, base: str | None = None, attempt: int = 1) -> str:
        """``<base>-<hash>[-<attempt>]``, a DNS label of at most ``max_length`` characters.

        ``base`` is the author's ``name`` argument (kept whole, or an error if too long) or, when
        not given, the task id made DNS-safe and shortened as needed.
        """
        suffix = f"-{self.key[:_HASH_LENGTH]}" + (f"-{attempt}" if attempt > 1 else "")
        room = max_length - _HASH_LENGTH - 1 - _MAX_ATTEMPT_SUFFIX
        if base is not None:
            if not _NAME.match(base):
                raise MokaJobSpecError(
                    "name",
                    f"{base!r} is not a DNS label starting with a letter (lowercase letters, digits, '-')",
                )
            if len(base) > room:
                raise MokaJobSpecError(
                    "name",
                    f"{base!r} is {len(base)} characters; with the suffixes Moka adds "
                    f"(-<hash>-<attempt> and the operator's pod suffixes) it may have at most {room}",
                )
            return base + suffix
        base = dns_safe(self.task_id)
        if not base[:1].isalpha():
            base = f"job-{base}"
        return base[:room].rstrip("-") + suffix


def dns_safe(text: str) -> str:
    """``text`` lowercased with runs of anything but ``[a-z0-9]`` turned into one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def label_value(text: str) -> str:
    """``text`` as a valid label value (63 characters of ``[A-Za-z0-9._-]``, alphanumeric ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cleaned)


def attempt_of(job: dict[str, Any]) -> int:
    try:
        return int((job.get("metadata") or {}).get("labels", {}).get(ATTEMPT_LABEL, "1"))
    except ValueError:
        return 1
