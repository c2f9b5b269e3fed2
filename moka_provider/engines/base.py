"""What every engine adapter answers, so that operators, the sensor and the trigger stay generic.

An adapter is the only place that knows an operator's status fields. It reads a job's status into
one engine-neutral :class:`JobStatus` (DESIGN.md section 3), names the pod whose log is the job's
log, and fills the engine's link parameters. Building resources from operator arguments is each
engine's own business (``engines/spark_spec.py``, ...): the operators call that directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from moka_provider.engines.resources import CustomResource


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
    """A job's phase, the operator's own state name, and its message (an error, for a failure)."""

    phase: Phase
    state: str
    message: str | None = None


class EngineAdapter(ABC):
    """The engine-specific answers the shared job lifecycle needs."""

    engine: ClassVar[str]
    resource: ClassVar[CustomResource]
    #: Suffixes the engine's operator appends to the job's name for objects it creates (pods,
    #: services); the name plus the longest must stay a 63-character DNS label.
    name_suffixes: ClassVar[tuple[str, ...]] = ()
    #: Extra-link buttons of this engine beyond the shared ones (``moka_ui``, ``log_archive``).
    link_buttons: ClassVar[tuple[str, ...]] = ()

    @property
    def max_name_length(self) -> int:
        return 63 - max((len(suffix) for suffix in self.name_suffixes), default=0)

    @abstractmethod
    def status(self, job: Mapping[str, Any]) -> JobStatus:
        """The phase of ``job`` (a whole object as the API returns it) from its status."""

    @abstractmethod
    def log_pod(self, job: Mapping[str, Any]) -> str | None:
        """The pod whose log is the job's log (driver, JobManager, submitter), if known."""

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
