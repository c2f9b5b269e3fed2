"""JobTracker, Deadlines and Outcome with the Spark adapter: when waiting for a job is over."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest

from moka_provider.engines.base import Phase
from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.jobs.tracking import Deadlines, JobTracker, Outcome, Verdict, created_at, positive_seconds

ADAPTER = SparkAdapter()
CREATED = "2024-03-01T12:00:00Z"
CREATED_EPOCH = datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC).timestamp()

# docs/design.md section 3: SparkApplication states that are NOT terminal.
NOT_TERMINAL = [
    "",
    "SUBMITTED",
    "RUNNING",
    "SUBMISSION_FAILED",
    "FAILING",
    "PENDING_RERUN",
    "INVALIDATING",
    "SUCCEEDING",
    "UNKNOWN",
    "SUSPENDING",
    "SUSPENDED",
    "RESUMING",
]


def spark_job(state: str | None = None, *, uid: str = "uid-1", message: str | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "pi-1a2b3c4d", "namespace": "moka", "uid": uid, "creationTimestamp": CREATED},
        "spec": {"type": "Python"},
    }
    if state is not None:
        job["status"] = {"applicationState": {"state": state}}
        if message is not None:
            job["status"]["applicationState"]["errorMessage"] = message
    return job


def tracker(
    job: dict[str, Any] | None = None,
    deadlines: Deadlines | None = None,
    started_at: float | None = None,
) -> JobTracker:
    return JobTracker(ADAPTER, job or spark_job(), deadlines or Deadlines(), started_at)


# --- states -----------------------------------------------------------------------------------------


def test_completed_is_success():
    outcome = tracker().observe("MODIFIED", spark_job("COMPLETED"))

    assert outcome is not None
    assert outcome.verdict is Verdict.SUCCEEDED
    assert outcome.status.phase is Phase.SUCCEEDED
    assert outcome.status.state == "COMPLETED"
    assert outcome.job["status"]["applicationState"]["state"] == "COMPLETED"


def test_failed_is_failure_with_the_operators_message():
    outcome = tracker().observe(
        "MODIFIED", spark_job("FAILED", message="driver container failed with exit 1")
    )

    assert outcome is not None
    assert outcome.verdict is Verdict.FAILED
    assert outcome.status.phase is Phase.FAILED
    assert outcome.status.message == "driver container failed with exit 1"


@pytest.mark.parametrize("state", NOT_TERMINAL)
def test_non_terminal_states_keep_waiting(state: str):
    job_tracker = tracker()

    assert job_tracker.observe("MODIFIED", spark_job(state)) is None
    assert not job_tracker.status.phase.terminal
    assert job_tracker.status.state == state


@pytest.mark.parametrize("state", ["", "SUBMITTED", "SUBMISSION_FAILED", "PENDING_RERUN"])
def test_states_before_the_driver_runs_are_pending(state: str):
    assert ADAPTER.status(spark_job(state)).phase is Phase.PENDING


@pytest.mark.parametrize("state", ["RUNNING", "SUCCEEDING", "FAILING"])
def test_states_with_a_live_driver_are_running(state: str):
    assert ADAPTER.status(spark_job(state)).phase is Phase.RUNNING


def test_a_job_without_status_is_pending():
    status = ADAPTER.status(spark_job())

    assert status.phase is Phase.PENDING
    assert status.state == ""
    assert status.message is None


def test_submission_failed_then_completed_succeeds():
    """A failed submission is retried by the operator: it is not the end of the job."""
    job_tracker = tracker()

    assert job_tracker.observe("MODIFIED", spark_job("SUBMISSION_FAILED", message="no quota")) is None
    assert job_tracker.observe("MODIFIED", spark_job("PENDING_RERUN")) is None
    assert job_tracker.observe("MODIFIED", spark_job("RUNNING")) is None
    outcome = job_tracker.observe("MODIFIED", spark_job("COMPLETED"))

    assert outcome is not None and outcome.verdict is Verdict.SUCCEEDED


# --- the start deadline -----------------------------------------------------------------------------


def test_start_deadline_ends_a_job_still_pending():
    now = time.time()
    job_tracker = tracker(deadlines=Deadlines(start_by=now + 60))

    assert job_tracker.check(now + 59) is None
    outcome = job_tracker.check(now + 60)

    assert outcome is not None
    assert outcome.verdict is Verdict.START_TIMEOUT
    assert outcome.started_at is None


def test_start_deadline_is_judged_when_a_pending_event_arrives_late():
    job_tracker = tracker(deadlines=Deadlines(start_by=time.time() - 1))

    outcome = job_tracker.observe("MODIFIED", spark_job("SUBMITTED"))

    assert outcome is not None and outcome.verdict is Verdict.START_TIMEOUT
    assert outcome.status.state == "SUBMITTED"


def test_start_deadline_never_applies_once_the_job_was_seen_running():
    now = time.time()
    job_tracker = tracker(deadlines=Deadlines(start_by=now + 60))

    assert job_tracker.observe("MODIFIED", spark_job("RUNNING")) is None
    assert job_tracker.started_at is not None
    # The operator reruns the application: pending again, long after the start deadline.
    assert job_tracker.observe("MODIFIED", spark_job("PENDING_RERUN")) is None
    assert job_tracker.status.phase is Phase.PENDING

    assert job_tracker.check(now + 3600) is None
    assert job_tracker.seconds_left(now + 3600) is None


def test_start_deadline_does_not_apply_when_started_before():
    """A trigger resumed for a job the worker already saw running (started_at given)."""
    now = time.time()
    job_tracker = tracker(spark_job("PENDING_RERUN"), Deadlines(start_by=now - 10), started_at=now - 100)

    assert job_tracker.check(now) is None
    assert job_tracker.observe("MODIFIED", spark_job("SUBMITTED")) is None
    assert job_tracker.started_at == now - 100


def test_a_job_first_seen_running_is_started():
    before = time.time()
    job_tracker = tracker(spark_job("RUNNING"), Deadlines(start_by=before - 10))

    assert job_tracker.started_at is not None and job_tracker.started_at >= before
    assert job_tracker.check() is None


# --- the overall deadline ---------------------------------------------------------------------------


def test_overall_deadline_ends_a_running_job():
    now = time.time()
    job_tracker = tracker(spark_job("RUNNING"), Deadlines(finish_by=now + 300))

    assert job_tracker.check(now + 299) is None
    outcome = job_tracker.check(now + 300)

    assert outcome is not None
    assert outcome.verdict is Verdict.TIMEOUT
    assert outcome.status.state == "RUNNING"
    assert outcome.started_at is not None


def test_overall_deadline_wins_over_the_start_deadline():
    now = time.time()
    outcome = tracker(deadlines=Deadlines(start_by=now - 5, finish_by=now - 1)).check(now)

    assert outcome is not None and outcome.verdict is Verdict.TIMEOUT


def test_no_deadlines_never_time_out():
    job_tracker = tracker()

    assert job_tracker.check(time.time() + 10**9) is None
    assert job_tracker.seconds_left() is None


# --- seconds_left -----------------------------------------------------------------------------------


def test_seconds_left_is_the_nearest_deadline_while_pending():
    now = 1_000_000.0
    job_tracker = tracker(deadlines=Deadlines(start_by=now + 30, finish_by=now + 600))

    assert job_tracker.seconds_left(now) == 30
    assert job_tracker.seconds_left(now + 40) == 0.0  # never negative


def test_seconds_left_ignores_the_start_deadline_once_running():
    now = 1_000_000.0
    job_tracker = tracker(deadlines=Deadlines(start_by=now + 30, finish_by=now + 600))
    job_tracker.observe("MODIFIED", spark_job("RUNNING"))

    assert job_tracker.seconds_left(now) == 600


def test_seconds_left_with_only_a_start_deadline():
    now = 1_000_000.0
    job_tracker = tracker(deadlines=Deadlines(start_by=now + 30))

    assert job_tracker.seconds_left(now) == 30
    job_tracker.observe("MODIFIED", spark_job("RUNNING"))
    assert job_tracker.seconds_left(now) is None


# --- deletion and namesakes -------------------------------------------------------------------------


def test_deleted_event_of_our_job_ends_with_deleted_and_the_last_state():
    job_tracker = tracker()
    job_tracker.observe("MODIFIED", spark_job("RUNNING"))

    outcome = job_tracker.observe("DELETED", spark_job("RUNNING"))

    assert outcome is not None
    assert outcome.verdict is Verdict.DELETED
    assert outcome.status.state == "RUNNING"
    assert outcome.job["metadata"]["uid"] == "uid-1"


def test_not_found_ends_with_deleted_and_the_last_state_seen():
    """The job was not found when looked up (deleted, or removed by its TTL, before we looked)."""
    job_tracker = tracker(started_at=1700000000.0)
    job_tracker.observe("MODIFIED", spark_job("RUNNING"))

    outcome = job_tracker.looked_up(None)

    assert outcome is not None and outcome.verdict is Verdict.DELETED
    assert outcome.status.state == "RUNNING"
    assert outcome.job["metadata"]["uid"] == "uid-1"
    assert outcome.started_at == 1700000000.0


def test_not_found_before_any_status_keeps_the_placeholder():
    placeholder = {"metadata": {"name": "pi-1a2b3c4d", "namespace": "moka", "uid": "uid-1"}}

    outcome = JobTracker(ADAPTER, placeholder, Deadlines()).looked_up(None)

    assert outcome is not None and outcome.verdict is Verdict.DELETED
    assert outcome.job == placeholder
    assert outcome.status.phase is Phase.PENDING
    assert outcome.started_at is None


def test_events_of_a_namesake_are_ignored():
    """A job of the same name but another uid (created after ours was deleted) is not ours."""
    job_tracker = tracker()
    job_tracker.observe("MODIFIED", spark_job("RUNNING"))

    assert job_tracker.observe("ADDED", spark_job("SUBMITTED", uid="uid-2")) is None
    assert job_tracker.observe("MODIFIED", spark_job("COMPLETED", uid="uid-2")) is None
    assert job_tracker.observe("DELETED", spark_job("FAILED", uid="uid-2")) is None

    assert job_tracker.status.state == "RUNNING"
    assert job_tracker.job["metadata"]["uid"] == "uid-1"
    outcome = job_tracker.observe("MODIFIED", spark_job("FAILED", message="boom"))
    assert outcome is not None and outcome.verdict is Verdict.FAILED


# --- Outcome as a trigger event ---------------------------------------------------------------------


@pytest.mark.parametrize("verdict", list(Verdict))
def test_outcome_event_is_json_and_round_trips(verdict: Verdict):
    job = spark_job("FAILED", message="exit 1")
    job["status"]["executorState"] = {"pi-exec-1": "FAILED"}
    outcome = Outcome(verdict, job, ADAPTER.status(job), started_at=1700000000.5, finished_at=1700000100.25)

    event = json.loads(json.dumps(outcome.to_event()))
    back = Outcome.from_event(event, ADAPTER)

    assert back == outcome
    assert back.verdict is verdict
    assert back.status.message == "exit 1"


def test_outcome_event_without_start():
    job = spark_job("SUBMITTED")
    outcome = Outcome(Verdict.START_TIMEOUT, job, ADAPTER.status(job))

    back = Outcome.from_event(json.loads(json.dumps(outcome.to_event())), ADAPTER)

    assert back.started_at is None
    assert back.finished_at == outcome.finished_at
    assert back.status.phase is Phase.PENDING


# --- Deadlines from the job's creation --------------------------------------------------------------


def test_deadlines_count_from_the_creation_timestamp():
    deadlines = Deadlines.for_job(spark_job(), start_timeout=60, timeout=3600.5)

    assert deadlines.start_by == CREATED_EPOCH + 60
    assert deadlines.finish_by == CREATED_EPOCH + 3600.5


def test_deadlines_not_asked_for_are_none():
    assert Deadlines.for_job(spark_job(), None, None) == Deadlines(None, None)
    assert Deadlines.for_job(spark_job(), None, 10).start_by is None
    assert Deadlines.for_job(spark_job(), 10, None).finish_by is None


def test_creation_time_from_a_datetime_or_missing():
    job = spark_job()
    job["metadata"]["creationTimestamp"] = datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC)
    assert created_at(job) == CREATED_EPOCH

    before = time.time()
    job["metadata"].pop("creationTimestamp")
    assert before <= created_at(job) <= time.time()


def test_a_namesake_found_when_looking_means_ours_is_gone():
    job_tracker = tracker()
    namesake = spark_job("RUNNING")
    namesake["metadata"]["uid"] = "uid-2"
    outcome = job_tracker.looked_up(namesake)
    assert outcome is not None and outcome.verdict is Verdict.DELETED
    assert outcome.job["metadata"]["uid"] == "uid-1"


def test_our_job_found_when_looking_is_observed():
    job_tracker = tracker()
    assert job_tracker.looked_up(spark_job("RUNNING")) is None
    assert job_tracker.status.phase is Phase.RUNNING
    outcome = job_tracker.looked_up(spark_job("COMPLETED"))
    assert outcome is not None and outcome.verdict is Verdict.SUCCEEDED


# --- a job in trouble: an error its operator keeps retrying ----------------------------------------


def flink_in_error(error: str = "[flink-main-container] Back-off pulling image") -> dict[str, Any]:
    return {
        "metadata": {"name": "wc", "namespace": "moka", "uid": "uid-1", "creationTimestamp": CREATED},
        "status": {
            "jobManagerDeploymentStatus": "ERROR",
            "lifecycleState": "DEPLOYED",
            "jobStatus": {"state": "RECONCILING"},
            "error": error,
        },
    }


def flink_running() -> dict[str, Any]:
    job = flink_in_error()
    job["status"] = {"jobManagerDeploymentStatus": "READY", "jobStatus": {"state": "RUNNING"}}
    return job


def test_trouble_that_outlasts_the_error_grace_ends_the_wait_as_unhealthy():
    from moka_provider.engines.flink import FlinkAdapter

    tracker = JobTracker(FlinkAdapter(), flink_running(), Deadlines(), time.time(), error_grace=60)
    assert tracker.observe("MODIFIED", flink_in_error()) is None
    since = tracker.troubled_since
    assert since is not None
    assert tracker.observe("MODIFIED", flink_in_error("[flink-main-container] still pulling")) is None

    assert tracker.troubled_since == since  # the same trouble, whatever its message says now
    assert tracker.seconds_left(now=since + 10) == pytest.approx(50)
    assert tracker.check(now=since + 59) is None
    outcome = tracker.check(now=since + 60)
    assert outcome is not None and outcome.verdict is Verdict.UNHEALTHY
    assert outcome.status.message == "[flink-main-container] still pulling"


def test_an_error_cleared_between_retries_does_not_start_the_grace_anew():
    from moka_provider.engines.flink import FlinkAdapter

    tracker = JobTracker(FlinkAdapter(), flink_in_error(), Deadlines(), None, error_grace=60)
    first = tracker.troubled_since
    assert first is not None
    retrying = flink_in_error()
    retrying["status"] = {"lifecycleState": "CREATED", "jobStatus": {"state": "RECONCILING"}}

    assert tracker.observe("MODIFIED", retrying) is None
    assert tracker.check(now=first + 61) is None  # no error right now: no verdict on it
    tracker.observe("MODIFIED", flink_in_error())

    assert tracker.troubled_since == first
    outcome = tracker.check(now=first + 61)
    assert outcome is not None and outcome.verdict is Verdict.UNHEALTHY


def test_trouble_that_clears_within_the_grace_starts_the_grace_anew_next_time():
    from moka_provider.engines.flink import FlinkAdapter

    tracker = JobTracker(FlinkAdapter(), flink_in_error(), Deadlines(), None, error_grace=60)
    first = tracker.troubled_since
    assert first is not None

    tracker.observe("MODIFIED", flink_running())

    assert tracker.troubled_since is None
    assert tracker.check(now=first + 3600) is None
    assert tracker.seconds_left() is None


def test_a_running_job_whose_jobmanager_is_in_error_is_judged_after_the_grace():
    from moka_provider.engines.flink import FlinkAdapter

    crashing = flink_in_error("[flink-main-container] CrashLoopBackOff")
    crashing["status"]["jobStatus"] = {"state": "RUNNING"}
    tracker = JobTracker(FlinkAdapter(), flink_running(), Deadlines(), time.time(), error_grace=60)

    assert tracker.observe("MODIFIED", crashing) is None
    assert tracker.status.phase is Phase.RUNNING and tracker.status.trouble
    since = tracker.troubled_since
    assert since is not None
    outcome = tracker.check(now=since + 60)
    assert outcome is not None and outcome.verdict is Verdict.UNHEALTHY


def test_without_an_error_grace_trouble_never_ends_the_wait():
    from moka_provider.engines.flink import FlinkAdapter

    tracker = JobTracker(FlinkAdapter(), flink_in_error(), Deadlines(), None)

    assert tracker.check(now=time.time() + 86400) is None


# --- a job found deleted: judged by its operator's Events ------------------------------------------


@pytest.mark.parametrize(
    ("events", "verdict"),
    [
        ([], Verdict.DELETED),
        ([{"reason": "SparkApplicationSubmitted"}, {"reason": "SparkDriverRunning"}], Verdict.DELETED),
        # 38082f3 records no SparkApplicationCompleted: the driver's end is the success
        ([{"reason": "SparkDriverRunning"}, {"reason": "SparkDriverCompleted"}], Verdict.SUCCEEDED),
        ([{"reason": "SparkDriverRunning"}, {"reason": "SparkDriverFailed"}], Verdict.FAILED),
        ([{"reason": "SparkApplicationFailed"}], Verdict.FAILED),
        # a driver failure that an OnFailure rerun followed is not the end
        ([{"reason": "SparkDriverFailed"}, {"reason": "SparkApplicationPendingRerun"}], Verdict.DELETED),
        (
            [
                {"reason": "SparkDriverFailed"},
                {"reason": "SparkApplicationPendingRerun"},
                {"reason": "SparkDriverCompleted"},
            ],
            Verdict.SUCCEEDED,
        ),
        # Events the operator does not record about its progress change nothing
        ([{"reason": "SparkDriverCompleted"}, {"reason": "SparkExecutorCompleted"}], Verdict.SUCCEEDED),
    ],
)
def test_a_job_gone_is_judged_by_the_last_end_its_operator_recorded(events: list, verdict: Verdict):
    tracker = JobTracker(ADAPTER, spark_job("RUNNING"), Deadlines())
    gone = tracker.looked_up(None)
    assert gone is not None

    outcome = tracker.judge_by_events(gone, events)

    assert outcome.verdict is verdict
    assert outcome.job["metadata"]["uid"] == "uid-1"


def test_a_grace_beginning_mid_watch_is_a_nearer_deadline():
    from moka_provider.engines.flink import FlinkAdapter

    tracker = JobTracker(
        FlinkAdapter(), flink_running(), Deadlines(finish_by=time.time() + 3600), None, error_grace=60
    )
    watched_until = tracker.next_deadline()
    assert not tracker.deadline_moved_closer(watched_until)

    tracker.observe("MODIFIED", flink_in_error())

    assert tracker.deadline_moved_closer(watched_until)
    assert tracker.troubled_since is not None
    assert tracker.next_deadline() == pytest.approx(tracker.troubled_since + 60)
    assert JobTracker(ADAPTER, spark_job("RUNNING"), Deadlines()).deadline_moved_closer(None) is False


# --- the task arguments the waiting is given -------------------------------------------------------


@pytest.mark.parametrize("argument", ["error_grace", "timeout"])
@pytest.mark.parametrize("value", [0, -5, datetime.timedelta(0)])
def test_durations_must_be_positive_and_the_error_names_the_argument(argument, value):
    with pytest.raises(MokaJobSpecError) as error:
        positive_seconds(value, argument)
    assert error.value.argument == argument and "must be positive" in str(error.value)


def test_durations_are_seconds_or_timedeltas():
    assert positive_seconds(datetime.timedelta(minutes=2), "timeout") == 120
    assert positive_seconds(1.5, "timeout") == 1.5
    assert positive_seconds(None, "timeout") is None


def test_the_sensor_validates_its_error_grace_as_the_operators_do():
    from moka_provider.sensors.job import MokaJobSensor

    with pytest.raises(MokaJobSpecError) as error:
        MokaJobSensor(task_id="wait", engine="spark", job_name="pi", error_grace=0)
    assert error.value.argument == "error_grace"
    sensor = MokaJobSensor(
        task_id="wait", engine="spark", job_name="pi", error_grace=datetime.timedelta(minutes=1)
    )
    assert sensor.error_grace == 60
