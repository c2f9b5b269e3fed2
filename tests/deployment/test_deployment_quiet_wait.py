"""A job that stays quiet for longer than every client-side timeout still ends its task in success.

Kubernetes clients give up on a request after a timeout (cncf.kubernetes' default is 60 s per
call; the provider renews each watch after 290 s). Two SparkApplications are held RUNNING, their
status unchanged, for 8 minutes (``tests/deployment/quiet_jobs.py`` writes their statuses), one
waited for in the worker and one deferred in the deployment's triggerer; both tasks must succeed
on their first try, with no request retried. The run starts with the deployment, so the other
deployment tests run meanwhile.
"""

from __future__ import annotations

import datetime

import pytest

from tests.deployment.conftest import (
    QUIET_DAG,
    QUIET_SECONDS,
    QuietRun,
    jobs_of_run,
    phase_of,
    record,
)
from tests.deployment.rest import AirflowRest

pytestmark = pytest.mark.integration


def seconds_between(start: str, end: str) -> float:
    return (datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)).total_seconds()


@pytest.mark.parametrize("task_id", ["in_worker", "deferred"])
def test_a_job_quiet_for_eight_minutes_succeeds_on_the_first_try(
    rest: AirflowRest, quiet_run: QuietRun, task_id: str
) -> None:
    rest.wait_for_success(QUIET_DAG, quiet_run.run_id, timeout=QUIET_SECONDS + 900)
    assert quiet_run.jobs.errors == []
    ti = rest.task_instance(QUIET_DAG, quiet_run.run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("success", 1)
    waited = seconds_between(ti["start_date"], ti["end_date"])
    record(f"quiet_wait_task_seconds.{task_id}", round(waited, 1))
    assert waited >= QUIET_SECONDS

    [job] = jobs_of_run("spark", QUIET_DAG, task_id, quiet_run.run_id)
    assert phase_of("spark", job) == "SUCCEEDED"
    text = rest.log(QUIET_DAG, quiet_run.run_id, task_id, 1)
    assert "retrying in" not in text, text[-3000:]  # no request of the wait failed and was retried
    assert "MokaApiError" not in text, text[-3000:]
    assert ("DEFERRED" in text) == (task_id == "deferred")
