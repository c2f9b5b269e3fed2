"""The operators' Stats timers: submit -> running only for a job seen pending, running -> done."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from moka_provider.engines.base import Phase
from moka_provider.jobs.tracking import Outcome, Verdict
from moka_provider.operators.spark import MokaSparkOperator

CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def outcome() -> Outcome:
    job = {"metadata": {"name": "j", "namespace": "m", "creationTimestamp": CREATED.isoformat()}}
    status = MokaSparkOperator.adapter.status({"status": {"applicationState": {"state": "COMPLETED"}}})
    started = CREATED.timestamp() + 30
    return Outcome(Verdict.SUCCEEDED, job, status, started_at=started, finished_at=started + 90)


@pytest.mark.parametrize(("first_phase", "expected"), [(Phase.PENDING, 2), (Phase.RUNNING, 1)])
def test_timers(monkeypatch: pytest.MonkeyPatch, first_phase: Phase, expected: int) -> None:
    from airflow.providers.common.compat.sdk import Stats

    timings: list[tuple[str, Any, Any]] = []
    monkeypatch.setattr(Stats, "timing", lambda name, value, tags=None: timings.append((name, value, tags)))
    operator = MokaSparkOperator(task_id="t", application="local:///app.py")
    operator._first_phase = first_phase
    operator._emit_timings(outcome())
    assert len(timings) == expected
    assert timings[-1] == ("moka.job.running_to_done", datetime.timedelta(seconds=90), {"engine": "spark"})
    if first_phase is Phase.PENDING:
        assert timings[0] == (
            "moka.job.submit_to_running",
            datetime.timedelta(seconds=30),
            {"engine": "spark"},
        )


@pytest.mark.parametrize(("first_phase", "timers"), [(Phase.PENDING, 2), (Phase.RUNNING, 1)])
def test_the_phase_first_seen_survives_the_deferral(
    monkeypatch: pytest.MonkeyPatch, first_phase: Phase, timers: int
) -> None:
    """A deferred task that adopted a running job reports no submit -> running time."""
    from airflow.providers.common.compat.sdk import Stats
    from airflow.sdk.exceptions import TaskDeferred

    timings: list[str] = []
    monkeypatch.setattr(Stats, "timing", lambda name, value, tags=None: timings.append(name))
    running = {
        "metadata": {"name": "j", "namespace": "m", "uid": "u", "creationTimestamp": CREATED.isoformat()},
        "status": {"applicationState": {"state": "RUNNING" if first_phase is Phase.RUNNING else "SUBMITTED"}},
    }

    def submit_job(self: MokaSparkOperator, context: Any) -> str:
        self._job, self._first_phase = running, first_phase  # as submit_or_adopt leaves them
        return "m/j"

    monkeypatch.setattr(MokaSparkOperator, "submit_job", submit_job)
    monkeypatch.setattr(MokaSparkOperator, "_conclude", lambda self, context, done: self._emit_timings(done))
    operator = MokaSparkOperator(task_id="t", application="local:///app.py", deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})

    resumed = MokaSparkOperator(task_id="t", application="local:///app.py", deferrable=True)
    resumed.execute_complete({}, outcome().to_event(), **(deferred.value.kwargs or {}))

    assert len(timings) == timers
    assert timings[-1] == "moka.job.running_to_done"


def test_what_a_job_reserved_is_counted_by_engine_namespace_and_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.providers.common.compat.sdk import Stats

    from moka_provider.engines.cost import JobCost, PodGroup

    counted: list[tuple[str, Any, Any]] = []
    monkeypatch.setattr(
        Stats, "incr", lambda name, count=None, tags=None: counted.append((name, count, tags))
    )
    operator = MokaSparkOperator(task_id="t", application="local:///app.py")
    groups = (PodGroup("driver", 1, 1, 1.375), PodGroup("executors", 2, 0.5, 3.5))

    operator._emit_cost(outcome(), JobCost(groups, 90))
    operator._emit_cost(outcome(), JobCost(groups, 10, queue="root.etl"))
    operator._emit_cost(outcome(), None)  # a job without a cost of its own counts nothing

    tags = {"engine": "spark", "namespace": "m", "queue": "none"}
    assert counted == [
        ("moka.job.core_seconds", 180, tags),  # 90 s x (1 + 2 x 0.5) cores
        ("moka.job.memory_gib_seconds", 754, tags),  # 90 s x (1.375 + 2 x 3.5) GiB = 753.75
        ("moka.job.core_seconds", 20, {**tags, "queue": "root.etl"}),
        ("moka.job.memory_gib_seconds", 84, {**tags, "queue": "root.etl"}),  # 83.75
    ]
