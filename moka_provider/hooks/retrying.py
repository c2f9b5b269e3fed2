"""The bounded retry policy both hooks use, built on tenacity.

Retried: 429 (waiting as long as ``Retry-After`` asks, capped), 500/502/503/504 and requests that
never got an answer (refused, reset, timed out). Everything else fails at once. The policy is
bounded by attempts *and* by total time so a flapping API cannot hold a task forever; every retry
is logged with the operation and the server's reason, never with request headers or bodies.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import tenacity

from moka_provider.exceptions import MokaApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` in all, for at most ``max_seconds``, backing off up to ``max_wait``."""

    attempts: int = 6
    max_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 15.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")

    def wait_seconds(self, state: tenacity.RetryCallState) -> float:
        """The server's Retry-After when it sent one, else exponential back-off with jitter."""
        error = state.outcome.exception() if state.outcome else None
        return self.pause_after(error, state.attempt_number)

    def pause_after(self, error: BaseException | None, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row that ended with ``error``."""
        if isinstance(error, MokaApiError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        backoff = min(self.max_wait, self.initial_wait * 2 ** max(0, failures - 1))
        return backoff + random.uniform(0, self.initial_wait)

    def tenacity_kwargs(self) -> dict[str, Any]:
        """Arguments for ``tenacity.Retrying`` / ``tenacity.AsyncRetrying``."""
        return {
            "retry": tenacity.retry_if_exception(_is_retryable),
            "wait": self.wait_seconds,
            "stop": tenacity.stop_after_attempt(self.attempts) | tenacity.stop_after_delay(self.max_seconds),
            "before_sleep": _log_retry,
            "reraise": True,
        }


class OutageWait:
    """While waiting for a job: how long to pause after a look at it failed, past the hook's retries.

    An API server that is away (restarting, overloaded, unreachable) does not end the job, so it
    does not end the wait either: the waiter backs off (the policy's jittered back-off) and looks
    again, until the task's own deadline. What retrying cannot mend (401, 403, a missing CRD) is
    raised, except a 401/403 soon after the API server was unreachable (see
    :data:`SETTLING_SECONDS`).
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0

    def pause_after(self, error: MokaApiError) -> float:
        if not (error.retryable or _refused_while_coming_back(error)):
            raise error
        if error.retryable:
            _note_outage()
        self.failures += 1
        return self.policy.pause_after(error, self.failures)

    def recovered(self) -> None:
        self.failures = 0

    @staticmethod
    def message(what: str, error: MokaApiError, pause: float) -> str:
        return f"{what}: {error}; the job is not affected, looking again in {pause:.0f}s"


#: How long after the API server was last unreachable a 401 or 403 is taken for the server still
#: coming back rather than for missing rights: a restarted kube-apiserver serves requests before its
#: authorizer's caches (the RBAC informers) have synced, and refuses the Role's rights meanwhile
#: (observed on `moka local`: 403 for the provider's Role 0.3-0.8 s after the API server's
#: "Serving securely", while system:masters is let through).
SETTLING_SECONDS = 120.0

_last_outage: float | None = None


def _note_outage() -> None:
    global _last_outage
    _last_outage = time.monotonic()


def _refused_while_coming_back(error: MokaApiError) -> bool:
    """A 401/403 within :data:`SETTLING_SECONDS` of the API server being unreachable (in this process)."""
    return (
        error.status in (401, 403)
        and _last_outage is not None
        and time.monotonic() - _last_outage < SETTLING_SECONDS
    )


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, MokaApiError) and error.retryable


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, MokaApiError):
        status = f"HTTP {error.status} {error.reason}" if error.status else error.reason
        log.warning(
            "%s: %s, retrying in %.1fs (attempt %d)",
            error.operation,
            status,
            state.upcoming_sleep,
            state.attempt_number + 1,
        )
