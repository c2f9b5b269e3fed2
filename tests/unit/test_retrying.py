"""RetryPolicy driving tenacity.Retrying the way the hooks use it."""

from __future__ import annotations

import logging
import time

import pytest
import tenacity

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks import retrying
from moka_provider.hooks.retrying import OutageWait, RetryPolicy

FAST = {"initial_wait": 0.001, "max_wait": 0.005}


class Flaky:
    """Fails ``failures`` times with ``error``, then returns ``"done"``; counts its calls."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def api_error(status: int | None, retry_after: float | None = None) -> MokaApiError:
    return MokaApiError("get RayJob moka/r", status, "Reason", "message", retry_after=retry_after)


def run(policy: RetryPolicy, function: Flaky, sleeps: list[float] | None = None) -> str:
    kwargs = policy.tenacity_kwargs()
    if sleeps is not None:
        log_retry = kwargs["before_sleep"]

        def before_sleep(state: tenacity.RetryCallState) -> None:
            sleeps.append(state.upcoming_sleep)
            log_retry(state)

        kwargs["before_sleep"] = before_sleep
    return tenacity.Retrying(**kwargs)(function)


def state_after(error: BaseException, attempt: int = 1) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


@pytest.mark.parametrize("status", [None, 429, 500, 502, 503, 504])
def test_retryable_error_then_success(status):
    flaky = Flaky(2, api_error(status))

    assert run(RetryPolicy(attempts=3, **FAST), flaky) == "done"
    assert flaky.calls == 3


def test_retryable_error_gives_up_after_attempts_with_the_last_error():
    errors = [api_error(503), api_error(500), api_error(502)]

    calls = 0

    def always_failing() -> str:
        nonlocal calls
        calls += 1
        raise errors[calls - 1]

    with pytest.raises(MokaApiError) as caught:
        tenacity.Retrying(**RetryPolicy(attempts=3, **FAST).tenacity_kwargs())(always_failing)

    assert calls == 3
    assert caught.value is errors[-1]


def test_single_attempt_policy_does_not_retry():
    flaky = Flaky(1, api_error(503))

    with pytest.raises(MokaApiError):
        run(RetryPolicy(attempts=1, **FAST), flaky)

    assert flaky.calls == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_non_retryable_error_fails_at_once(status):
    flaky = Flaky(1, api_error(status))

    with pytest.raises(MokaApiError) as caught:
        run(RetryPolicy(attempts=5, **FAST), flaky)

    assert flaky.calls == 1
    assert caught.value.status == status


def test_other_exceptions_are_not_retried():
    flaky = Flaky(1, KeyError("status"))

    with pytest.raises(KeyError):
        run(RetryPolicy(attempts=5, **FAST), flaky)

    assert flaky.calls == 1


def test_retry_after_is_honoured():
    flaky = Flaky(2, api_error(429, retry_after=0.05))
    sleeps: list[float] = []
    started = time.monotonic()

    assert run(RetryPolicy(attempts=5, max_retry_after=1.0, **FAST), flaky, sleeps) == "done"

    assert sleeps == [0.05, 0.05]
    assert time.monotonic() - started >= 0.1


def test_retry_after_is_capped():
    flaky = Flaky(1, api_error(429, retry_after=30.0))
    sleeps: list[float] = []

    assert run(RetryPolicy(attempts=2, max_retry_after=0.02, **FAST), flaky, sleeps) == "done"

    assert sleeps == [0.02]


def test_wait_seconds_returns_retry_after():
    policy = RetryPolicy(max_retry_after=10.0)

    assert policy.wait_seconds(state_after(api_error(429, retry_after=0.05))) == 0.05
    assert policy.wait_seconds(state_after(api_error(429, retry_after=0.0))) == 0.0
    assert policy.wait_seconds(state_after(api_error(429, retry_after=99.0))) == 10.0


def test_wait_seconds_backs_off_within_max_wait_without_retry_after():
    policy = RetryPolicy(initial_wait=0.5, max_wait=4.0)

    waits = [policy.wait_seconds(state_after(api_error(503), attempt)) for attempt in range(1, 13)]

    # Exponential from initial_wait, capped at max_wait; jitter adds at most one initial_wait.
    for attempt, wait in enumerate(waits, start=1):
        assert min(4.0, 0.5 * 2 ** (attempt - 1)) <= wait <= 4.0 + 0.5
    assert waits[-1] >= 4.0


def test_stops_after_max_seconds():
    flaky = Flaky(10_000, api_error(503, retry_after=0.02))
    started = time.monotonic()

    with pytest.raises(MokaApiError):
        run(RetryPolicy(attempts=10_000, max_seconds=0.1, **FAST), flaky)

    assert 2 <= flaky.calls < 20
    assert time.monotonic() - started < 1.0


def test_retries_are_logged_with_operation_and_reason(caplog):
    flaky = Flaky(1, MokaApiError("get RayJob moka/r", 503, "ServiceUnavailable", "etcd", retry_after=0.0))

    with caplog.at_level(logging.WARNING, logger="moka_provider.hooks.retrying"):
        run(RetryPolicy(attempts=2, **FAST), flaky)

    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "get RayJob moka/r" in message
    assert "HTTP 503 ServiceUnavailable" in message
    assert "attempt 2" in message


@pytest.mark.parametrize("attempts", [0, -1])
def test_attempts_must_be_positive(attempts):
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=attempts)


# --- OutageWait: an API server coming back ----------------------------------------------------------


def error(status: int | None) -> MokaApiError:
    return MokaApiError(
        "watch SparkApplication in moka", status, "Forbidden" if status else "Unreachable", "x"
    )


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_soon_after_the_api_server_was_unreachable_is_waited_out(status):
    """A restarted API server refuses the Role's rights until its authorizer's caches have synced."""
    outage = OutageWait(RetryPolicy(initial_wait=0.001, max_wait=0.01))

    outage.pause_after(error(None))  # unreachable
    assert outage.pause_after(error(status)) >= 0
    assert outage.failures == 2


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refusal_without_a_recent_outage_is_raised(monkeypatch, status):
    outage = OutageWait(RetryPolicy())

    with pytest.raises(MokaApiError):
        outage.pause_after(error(status))
    monkeypatch.setattr(retrying, "_last_outage", time.monotonic() - retrying.SETTLING_SECONDS - 1)
    with pytest.raises(MokaApiError):
        outage.pause_after(error(status))
