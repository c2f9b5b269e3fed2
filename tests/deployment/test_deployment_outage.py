"""Deferred tasks outlive what happens around them: an outage of the API server, a killed triggerer.

The run of ``moka_deploy_outage`` is triggered with the deployment (``conftest.py``): its 23 Spark
tasks defer in the deployment's triggerer while the other tests run, each waiting on its own
SparkApplication whose statuses :class:`~tests.deployment.quiet_jobs.HeldSparkJobs` writes
(SUBMITTED, RUNNING, then held until a test releases the job). These tests run last in the package:

1. the `moka local` kube-apiserver is stopped for :data:`OUTAGE_SECONDS`; meanwhile the triggerer
   (and its trigger runner subprocess) is killed with SIGKILL and another one started, which takes
   the triggers over while the API server is still away. The API server is started again (same
   etcd, certificates and port), then the 20 ``outage_*`` jobs end, some COMPLETED and some FAILED:
   each task ends as its job did, on its first try, having logged that it kept waiting;
2. the 3 ``triggerer_kill_*`` jobs then complete: their tasks, whose triggers ran in the killed
   triggerer and then in its successor, succeed on their first try.

Each task has exactly one job: nothing was submitted twice.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from moka_provider.local import control_plane
from tests.deployment import stack
from tests.deployment.conftest import (
    ENDED_STATES,
    OUTAGE_DAG,
    OUTAGE_FAILURE,
    OutageRun,
    jobs_of_run,
    phase_of,
    record,
)
from tests.deployment.dags.moka_deployment_outage import KILL_TASKS, OUTAGE_TASKS
from tests.deployment.rest import AirflowRest

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 180
#: What the trigger logs while it cannot look at its job (``OutageWait.message``).
KEPT_WAITING = "the job is not affected"


def _wait_until_ended(rest: AirflowRest, run_id: str, task_ids: list[str]) -> dict[str, dict[str, Any]]:
    def ended() -> dict[str, dict[str, Any]] | None:
        tis = rest.task_instances(OUTAGE_DAG, run_id)
        if all(tis[t]["state"] in ENDED_STATES for t in task_ids):
            return tis
        time.sleep(2)
        return None

    return dict(rest.wait(f"{len(task_ids)} tasks to end", ended, timeout=600))


def _one_job_problems(task_id: str, run_id: str, phase: str) -> list[str]:
    jobs = jobs_of_run("spark", OUTAGE_DAG, task_id, run_id)
    phases = [phase_of("spark", job) for job in jobs]
    return [] if phases == [phase] else [f"{task_id}: jobs {phases}, expected exactly one {phase}"]


def test_passing_api_trouble_never_fails_a_deferred_task(
    moka_local: Any, deployment: stack.Deployment, rest: AirflowRest, outage_run: OutageRun
) -> None:
    paths, state = moka_local
    run_id = outage_run.run_id
    control_plane.stop_apiserver(paths)
    stopped = time.monotonic()
    _replace_the_triggerer(deployment, rest, outage_run)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    # A restarted API server serves requests (about a second, more under load) before its RBAC
    # caches are in, denying them with 403 meanwhile: part of the outage for the connection's
    # least-privilege identity (``retrying.SETTLING_SECONDS``).
    control_plane.start_apiserver(paths, state)
    back = time.monotonic()
    tis = rest.task_instances(OUTAGE_DAG, run_id)
    assert {tis[t]["state"] for t in OUTAGE_TASKS + KILL_TASKS} == {"deferred"}  # none gave up
    outage_run.jobs.release(OUTAGE_TASKS)

    def resumed() -> bool:
        tis = rest.task_instances(OUTAGE_DAG, run_id)
        if any(tis[t]["state"] == "deferred" for t in OUTAGE_TASKS):
            time.sleep(1)
            return False
        return True

    rest.wait("every trigger to fire", resumed, timeout=600)
    record("outage_triggers_fired_after_api_back_seconds", round(time.monotonic() - back, 1))
    tis = _wait_until_ended(rest, run_id, OUTAGE_TASKS)
    assert outage_run.jobs.errors == []
    assert outage_run.jobs.outages > 0  # the writer, too, found the API server away
    problems: list[str] = []
    for task_id in OUTAGE_TASKS:
        ti = tis[task_id]
        expected = "failed" if task_id.endswith("_failed") else "success"
        if (ti["state"], ti["try_number"]) != (expected, 1):
            problems.append(f"{task_id}: {ti['state']} on try {ti['try_number']}, expected {expected} on 1")
        text = rest.log(OUTAGE_DAG, run_id, task_id, 1)
        if KEPT_WAITING not in text:
            problems.append(f"{task_id}: the trigger did not log that it kept waiting\n{text[-2000:]}")
        if expected == "failed" and OUTAGE_FAILURE not in text:
            problems.append(f"{task_id}: the failure does not quote the job's\n{text[-2000:]}")
        problems += _one_job_problems(task_id, run_id, "FAILED" if expected == "failed" else "SUCCEEDED")
    assert problems == [], "\n".join(problems)
    states = {t: ti["state"] for t, ti in tis.items() if t in KILL_TASKS}
    assert set(states.values()) == {"deferred"}, states  # still waiting through it all


def _replace_the_triggerer(deployment: stack.Deployment, rest: AirflowRest, outage_run: OutageRun) -> None:
    """Kill the triggerer mid-wait (SIGKILL) and start another, which takes the triggers over."""
    run_id = outage_run.run_id
    tis = rest.task_instances(OUTAGE_DAG, run_id)
    [killed] = {tis[t]["triggerer_job"]["id"] for t in KILL_TASKS}
    deployment.kill("triggerer")
    killed_at = time.monotonic()
    deployment.start_component("triggerer")

    def taken_over() -> set[Any] | None:
        found = rest.task_instances(OUTAGE_DAG, run_id)
        assert {found[t]["state"] for t in KILL_TASKS} == {"deferred"}
        ids = {(found[t].get("triggerer_job") or {}).get("id") for t in KILL_TASKS}
        if killed in ids or None in ids:
            time.sleep(1)
            return None
        return ids

    [successor] = rest.wait("another triggerer to take the triggers over", taken_over, timeout=150)
    record("outage_triggerer_takeover_seconds", round(time.monotonic() - killed_at, 1))
    assert rest.triggerer_job_ids() == {successor}
    outage_run.triggerers.update(killed=killed, successor=successor)


def test_a_killed_triggerer_s_tasks_resume_in_the_next_one_with_no_second_job(
    rest: AirflowRest, outage_run: OutageRun
) -> None:
    run_id = outage_run.run_id
    assert outage_run.triggerers, "the outage test did not get to replace the triggerer"
    killed, successor = outage_run.triggerers["killed"], outage_run.triggerers["successor"]
    outage_run.jobs.release(KILL_TASKS)

    tis = _wait_until_ended(rest, run_id, KILL_TASKS)
    assert outage_run.jobs.errors == []
    problems: list[str] = []
    for task_id in KILL_TASKS:
        ti = tis[task_id]
        if (ti["state"], ti["try_number"]) != ("success", 1):
            problems.append(f"{task_id}: {ti['state']} on try {ti['try_number']}")
        entries = rest.log_entries(OUTAGE_DAG, run_id, task_id, 1)
        sources = "\n".join(str(entry.get("event")) for entry in entries)
        # The trigger's log from both triggerers: it ran in the killed one, then in its successor.
        for job_id in (killed, successor):
            if f".log.trigger.{job_id}.log" not in sources:
                problems.append(f"{task_id}: no log of triggerer {job_id}\n{sources[-3000:]}")
        problems += _one_job_problems(task_id, run_id, "SUCCEEDED")
    assert problems == [], "\n".join(problems)
