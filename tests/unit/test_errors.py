"""The provider's errors: one base, bad arguments not retried, a job that ended badly with details."""

from __future__ import annotations

import pickle

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from moka_provider.engines.base import JobStatus, Phase
from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaApiError, MokaError, MokaJobFailed, MokaJobSpecError
from moka_provider.jobs.reporting import JobReporter
from moka_provider.jobs.tracking import Outcome, Verdict
from moka_provider.resources import UnknownResourceError
from moka_provider.settings import ConnectionSettingsError


def test_every_error_shares_one_base():
    for error in (
        MokaApiError("get SparkApplication moka/x", 403, "Forbidden", "no"),
        MokaJobSpecError("driver", "bad"),
        MokaJobFailed("failed", verdict="failed", state="FAILED"),
        ConnectionSettingsError("namespace", "bad"),
        UnknownResourceError("kind X"),
    ):
        assert isinstance(error, MokaError), error


def test_a_bad_argument_fails_the_task_without_its_retries():
    assert isinstance(MokaJobSpecError("driver", "bad"), AirflowFailException)
    assert isinstance(MokaJobSpecError("driver", "bad"), ValueError)


def test_a_job_that_ended_badly_carries_its_verdict_state_message_and_log_tail():
    outcome = Outcome(
        Verdict.FAILED,
        {"metadata": {"name": "pi", "namespace": "moka"}},
        JobStatus(Phase.FAILED, "FAILED", "driver exited with code 1"),
    )
    reporter = JobReporter(hook=None, adapter=SparkAdapter(), log=None)
    tail = "\nlast lines of the log:\nTraceback ..."

    error = reporter.failed(outcome, reporter.failure(outcome, tail), tail)

    assert isinstance(error, AirflowException) and not isinstance(error, AirflowFailException)  # retried
    assert (error.verdict, error.state, error.job_message, error.log_tail) == (
        "failed",
        "FAILED",
        "driver exited with code 1",
        tail,
    )
    assert str(error).startswith("SparkApplication moka/pi failed (FAILED): driver exited with code 1")
    copied = pickle.loads(pickle.dumps(error))  # how it crosses process boundaries
    assert (type(copied), str(copied), copied.verdict, copied.log_tail) == (
        MokaJobFailed,
        str(error),
        "failed",
        tail,
    )
