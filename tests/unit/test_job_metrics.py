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
