"""What every engine adapter answers, so that operators, the sensor and the trigger stay generic.

An adapter is the only place that knows an operator's status fields. It reads a job's status into
one engine-neutral :class:`JobStatus`, says which pods hold the job's log (by the labels its
operator gives them), and fills the engine's link parameters. Building resources from operator
arguments is each engine's own business (``engines/spark_spec.py``, ...): the operators call that
directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from moka_provider.engines.cost import JobCost
from moka_provider.resources import CustomResource

#: The metadata :meth:`EngineAdapter.slim` keeps: identity, version, labels and age.
SLIM_METADATA = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "labels",
)


class Phase(StrEnum):
    """Where a job is, whatever its engine."""

    PENDING = "PENDING"  # accepted, not running yet (queued, submitting, retrying a submission)
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED)


@dataclass(frozen=True)
class JobStatus:
    """A job's phase, the operator's own state name, and its message (an error, for a failure).

    ``trouble`` marks a job that is not over but reports an error its operator keeps retrying (a
    JobManager in a crash loop, a deployment that failed before it ever ran): the operator may
    still recover, so the task waits, but only for its ``error_grace``.
    """

    phase: Phase
    state: str
    message: str | None = None
    trouble: bool = False


@dataclass(frozen=True)
class LogPods:
    """Where a job's log is: the pods its operator labels so, and the container to read.

    The newest pod that matches is the current attempt's (a rerun's pod may even reuse the old
    name, so pods are told apart by uid). ``name`` is the pod's name where the job's status says
    it, for link templates (``{pod}``) once the pod is gone; operators generate most pod names.
    """

    selector: str
    container: str | None = None
    name: str | None = None


class EngineAdapter(ABC):
    """The engine-specific answers the shared job lifecycle needs."""

    engine: ClassVar[str]
    resource: ClassVar[CustomResource]
    #: Suffixes the engine's operator appends to the job's name for objects it creates (pods,
    #: services); the name plus the longest must stay a 63-character DNS label.
    name_suffixes: ClassVar[tuple[str, ...]] = ()
    #: Extra-link buttons of this engine beyond the shared ones (``moka_ui``, ``job_log``).
    link_buttons: ClassVar[tuple[str, ...]] = ()

    @property
    def max_name_length(self) -> int:
        return 63 - max((len(suffix) for suffix in self.name_suffixes), default=0)

    @abstractmethod
    def status(self, job: Mapping[str, Any]) -> JobStatus:
        """The phase of ``job`` (a whole object as the API returns it) from its status."""

    @abstractmethod
    def log_pods(self, job: Mapping[str, Any]) -> LogPods | None:
        """The pods whose log is the job's log (driver, JobManager, submitter); ``None`` if none."""

    @abstractmethod
    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        """Engine values for link placeholders (``spark_app_id``, ``job_id``, ``ray_cluster``...)."""

    def engine_links(
        self, link: Callable[..., str | None], phase: Phase, params: Mapping[str, str | None]
    ) -> dict[str, str | None]:
        """URLs of :attr:`link_buttons` for a job in ``phase``; ``link(kind, **params)`` fills a template.

        By default each button has a template of its own name, whatever the phase.
        """
        return {button: link(button, **params) for button in self.link_buttons}

    @abstractmethod
    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """Engine-specific facts for the task's XCom (application id, executor count, ...)."""

    def cost(self, job: Mapping[str, Any]) -> JobCost | None:
        """What the ended ``job`` reserved: its pods' requests over its run (``engines/cost.py``).

        ``None`` when the job has none of its own (it runs on a shared cluster) or never ran. May
        raise ValueError for a size its operator would not read either. By default ``None``.
        """
        return None

    #: The ``spec`` fields :meth:`status`, :meth:`log_pods`, :meth:`link_params`, :meth:`result` and
    #: :meth:`cost` read; :meth:`slim` keeps only these.
    spec_fields: ClassVar[tuple[str, ...]] = ()

    def slim(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """What waiting for ``job`` and concluding its task need of it, and nothing more.

        A waiter holds the last version of its job for hours, and a trigger event carries it back
        to the task through the metadata database; neither needs ``managedFields``, annotations,
        the whole spec or status fields that grow with the job (Spark's ``executorState``). Every
        adapter method reads the slim form as it reads the whole object.
        """
        metadata = job.get("metadata") or {}
        spec = job.get("spec") or {}
        slim: dict[str, Any] = {
            "apiVersion": job.get("apiVersion"),
            "kind": job.get("kind"),
            "metadata": {key: metadata[key] for key in SLIM_METADATA if key in metadata},
            "spec": {key: spec[key] for key in self.spec_fields if key in spec},
        }
        if "status" in job:
            slim["status"] = self.slim_status(job["status"] or {})
        return slim

    def slim_status(self, status: Mapping[str, Any]) -> dict[str, Any]:
        """The status as :meth:`slim` keeps it; by default whole."""
        return dict(status)

    #: Event reasons with which the operator records a job's progress, and the phase each means.
    event_phases: ClassVar[Mapping[str, Phase]] = {}

    def status_from_events(self, events: Sequence[Mapping[str, Any]]) -> JobStatus | None:
        """Where the job was by the last of its operator's Events about it that tells (``events``
        oldest first), if any does.

        Used when a job is found deleted: an operator that removes finished jobs (a TTL) leaves its
        Events behind, which the API server keeps for an hour by default.
        """
        for event in reversed(events):
            reason = event.get("reason") or ""
            phase = self.event_phases.get(reason)
            if phase is not None:
                return JobStatus(phase, reason, f"its operator recorded {reason} before the job was deleted")
        return None
