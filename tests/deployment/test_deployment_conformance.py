"""The provider judged against what the real operators write: every conformance trace, three ways.

The trace player (``tests/conformance/player.py``) replays on `moka local` what spark-operator,
flink-kubernetes-operator and KubeRay write for each scenario, while the real Airflow deployment
waits for the job with the engine's operator in a worker, deferred in the triggerer, and with
``MokaJobSensor``. Each case asserts the task's outcome, the message the user sees, the job's log
lines in the task log, how long after the trace's last step the verdict came, and that no job is
left running. The run starts once the other deployment tests are done (its 66 tasks would slow
theirs).
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from moka_provider.engines.registry import adapter_for
from moka_provider.exceptions import MokaApiError
from moka_provider.jobs.identity import JobIdentity
from tests.conformance.player import Played
from tests.conformance.traces import MODES, Trace, all_traces
from tests.deployment import stack
from tests.deployment.conftest import CONFORMANCE_DAG, ConformanceRun, record
from tests.deployment.rest import AirflowRest

pytestmark = pytest.mark.integration

#: What the machine adds to a verdict: a watch event's delivery, a triggerer or worker busy with the
#: other tasks of the run (66 at once, on 2 cores shared with the rest of the suite).
AIRFLOW_SECONDS = 30
CASES = [pytest.param(trace, mode, id=f"{trace.key}-{mode}") for trace in all_traces() for mode in MODES]


def _time(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp).timestamp()


def _played(conformance_run: ConformanceRun, trace: Trace, mode: str, run_id: str) -> Played:
    """The replay of the job this case's task waited for."""
    from moka_provider.hooks.moka import MokaHook

    if mode == "sensor":
        name = trace.sensor_job_name
        matches = [p for p in conformance_run.player.played.values() if p.job["metadata"]["name"] == name]
    else:
        selector = JobIdentity(CONFORMANCE_DAG, trace.task_id(mode), run_id).selector
        resource = adapter_for(trace.engine).resource
        jobs = MokaHook().list(resource, label_selector=selector)
        uids = {job["metadata"]["uid"] for job in jobs}
        matches = [p for uid, p in conformance_run.player.played.items() if uid in uids]
        if not matches:  # the job is gone already: find it by the task's job-key label
            key = selector.split("=", 1)[1]
            matches = [
                p
                for p in conformance_run.player.played.values()
                if (p.job["metadata"].get("labels") or {}).get(selector.split("=", 1)[0]) == key
            ]
    assert len(matches) == 1, f"{len(matches)} played jobs for {trace.key} {mode}"
    return matches[0]


def _verdict_time(entries: list[dict[str, Any]], ti: dict[str, Any]) -> float:
    """When the provider knew: a deferred wait's trigger fired (the task's resumption then waits
    for the scheduler and a worker slot); a wait in the worker ended with its task."""
    fired = [entry["timestamp"] for entry in entries if entry.get("event") == "Trigger fired event"]
    return _time(fired[-1] if fired else ti["end_date"])


def _job_now(trace: Trace, played: Played) -> dict[str, Any] | None:
    from moka_provider.hooks.moka import MokaHook

    metadata = played.job["metadata"]
    try:
        job: dict[str, Any] = MokaHook().get(
            adapter_for(trace.engine).resource, metadata["name"], metadata["namespace"]
        )
    except MokaApiError as error:
        if error.not_found:
            return None
        raise
    return job if job["metadata"]["uid"] == metadata["uid"] else None


@pytest.mark.parametrize(("trace", "mode"), CASES)
def test_the_trace_is_judged_as_its_operator_meant(
    rest: AirflowRest,
    deployment: stack.Deployment,
    conformance_run: ConformanceRun,
    trace: Trace,
    mode: str,
) -> None:
    expect = trace.expect
    run_id = conformance_run.run_id
    task_id = trace.task_id(mode)
    ti = rest.wait_for_state(
        CONFORMANCE_DAG, run_id, task_id, {"success", "failed", "upstream_failed"}, timeout=1200
    )
    try_number = max(1, int(ti.get("try_number") or 1))
    text = rest.log(CONFORMANCE_DAG, run_id, task_id, try_number)
    entries = rest.log_entries(CONFORMANCE_DAG, run_id, task_id, try_number)
    played = _played(conformance_run, trace, mode, run_id)

    assert played.errors == [], played.errors
    assert conformance_run.player.errors == []
    if mode != "worker" and _scheduler_lost_the_resumption(deployment, task_id):
        # apache/airflow#71580: a trigger that fires before the scheduler has taken in the task's
        # deferral makes it fail the task. The provider's verdict is the trigger's event.
        record(f"conformance_airflow_lost_resumption.{trace.key}.{mode}", True)
        fired = [str(entry.get("result")) for entry in entries if entry.get("event") == "Trigger fired event"]
        assert fired, f"{task_id}: no trigger event\n{text[-3000:]}"
        assert ("'verdict': 'succeeded'" in fired[-1]) == (expect["task"] == "success"), fired[-1][:500]
    else:
        _assert_what_the_user_sees(task_id, ti, text, expect)

    assert played.last_step_at is not None
    # From the trace's end, or from the task's start if it began later (a job gone before it looked)
    verdict_after = _verdict_time(entries, ti) - max(played.last_step_at, _time(ti["start_date"]))
    record(f"conformance_verdict_seconds.{trace.key}.{mode}", round(verdict_after, 1))
    assert verdict_after <= expect["verdict_within"] + AIRFLOW_SECONDS, (
        f"{task_id}: the verdict came {verdict_after:.1f} s after the trace's last step"
    )

    if mode == "sensor":
        return  # the sensor's job is the player's, not the task's
    deadline = time.monotonic() + 180
    while not (played.finished or played.stopped_early) and time.monotonic() < deadline:
        time.sleep(1)
    job = _job_now(trace, played)
    if job is not None:  # never left running
        assert adapter_for(trace.engine).status(job).phase.terminal, f"{task_id}: left {job.get('status')}"
    if expect.get("job_left") == "deleted":
        assert job is None, f"{task_id}: the job is still there: {job and job.get('status')}"


def _assert_what_the_user_sees(task_id: str, ti: dict[str, Any], text: str, expect: dict[str, Any]) -> None:
    """The task's state, the message parts and log lines the trace expects, in its log."""
    assert ti["state"] == expect["task"], f"{task_id}: {ti['state']}\n{text[-4000:]}"
    for part in expect.get("message") or []:
        assert part in text, f"{task_id}: the message lacks {part!r}\n{text[-4000:]}"
    for line in expect.get("log") or []:
        assert line in text, f"{task_id}: the task log lacks {line!r}\n{text[-4000:]}"
    failure = text[text.rfind("AirflowException: ") :] if "AirflowException: " in text else ""
    for line in expect.get("not_in_message") or []:
        assert line not in failure, f"{task_id}: the failure message quotes {line!r}\n{failure}"


def _scheduler_lost_the_resumption(deployment: stack.Deployment, task_id: str) -> bool:
    """Whether the scheduler failed the task because its executor reported the deferral's end
    after the trigger had already queued the resumption (apache/airflow#71580)."""
    wanted = f"moka_conformance.{task_id} "
    return any(
        wanted in line and "but the task instance's state attribute is" in line
        for line in deployment.log_of("scheduler").read_text(errors="replace").splitlines()
    )
