"""The one exception type Moka raises for Kubernetes API failures."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow.sdk.exceptions import AirflowException


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field reported by the API server (a ``Status.details.causes`` entry)."""

    field: str
    message: str


@dataclass(eq=False)
class MokaApiError(AirflowException):
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


class MokaJobSpecError(AirflowException, ValueError):
    """An operator argument (or the resource built from it) cannot make a valid job.

    Raised before anything is submitted. ``argument`` names what the DAG author wrote (``driver``,
    ``spark_conf['spark.x']``, ``spec_overrides``, ...) so the message points at the line to fix.
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"argument {argument!r}: {problem}")

    def __reduce__(self):
        return (self.__class__, (self.argument, self.problem))
