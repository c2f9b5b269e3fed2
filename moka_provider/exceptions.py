"""The errors Moka raises, all under :class:`MokaError`.

- :class:`MokaJobSpecError`: an argument cannot make a valid job. Found before anything is
  submitted; Airflow fails the task without retrying (a retry would build the same job).
- :class:`MokaApiError`: a Kubernetes API request failed for good (after any retries).
- :class:`MokaJobFailed`: the job ended badly (failed, timed out, kept reporting an error, or was
  deleted); the task's retries apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class MokaError(Exception):
    """Base of every error the provider raises: catch this to handle any of them."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field reported by the API server (a ``Status.details.causes`` entry)."""

    field: str
    message: str


@dataclass(eq=False)
class MokaApiError(MokaError, AirflowException):
    """A Kubernetes API request failed for good (after any retries).

    ``status`` is the HTTP status (``None`` when the server could not be reached), ``reason`` the
    API's machine-readable reason (``NotFound``, ``AlreadyExists``, ``Invalid``, ``Forbidden``, ...)
    and ``message`` its human message. ``operation`` says what Moka was doing, e.g.
    ``create SparkApplication moka/spark-pi``.
    """

    operation: str
    status: int | None
    reason: str
    message: str
    problems: list[FieldProblem] = field(default_factory=list)
    retry_after: float | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def retryable(self) -> bool:
        """Worth trying again: throttling, server-side trouble, or no answer at all."""
        return self.status is None or self.status in RETRYABLE_STATUSES

    def __str__(self) -> str:
        status = f"HTTP {self.status} {self.reason}" if self.status else self.reason
        lines = [f"{self.operation} failed ({status}): {self.message}"]
        lines += [f"  - {problem.field}: {problem.message}" for problem in self.problems]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def __reduce__(self):  # picklable despite the dataclass __init__ signature
        return (
            self.__class__,
            (
                self.operation,
                self.status,
                self.reason,
                self.message,
                self.problems,
                self.retry_after,
                self.hint,
            ),
        )


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class MokaJobSpecError(MokaError, AirflowFailException, ValueError):
    """An operator argument (or the resource built from it) cannot make a valid job.

    Raised before anything is submitted. ``argument`` names what the DAG author wrote (``driver``,
    ``spark_conf['spark.x']``, ``spec_overrides``, ...) so the message points at the line to fix.
    An ``AirflowFailException``: the task fails without its retries, which would fail alike.
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"argument {argument!r}: {problem}")

    def __reduce__(self):
        return (self.__class__, (self.argument, self.problem))


class MokaJobFailed(MokaError, AirflowException):
    """The job ended badly; the task's retries apply.

    ``verdict`` says how (``failed``, ``timeout``, ``start_timeout``, ``unhealthy``, ``deleted``),
    ``state`` is the operator's last state of the job, ``job_message`` its message (the error it
    reported), and ``log_tail`` the end of the job's log as the task log shows it.
    """

    def __init__(
        self, message: str, *, verdict: str, state: str, job_message: str | None = None, log_tail: str = ""
    ) -> None:
        self.verdict = verdict
        self.state = state
        self.job_message = job_message
        self.log_tail = log_tail
        super().__init__(message)

    def __reduce__(self):
        details = {
            "verdict": self.verdict,
            "state": self.state,
            "job_message": self.job_message,
            "log_tail": self.log_tail,
        }
        return (_rebuild_job_failed, (str(self), details))


def _rebuild_job_failed(message: str, details: dict[str, Any]) -> MokaJobFailed:
    return MokaJobFailed(message, **details)
