"""The example DAGs in Airflow as it runs in production (``tests/deployment``), driven by REST.

PostgreSQL, the API server, a LocalExecutor scheduler, the dag-processor and the triggerer run as
separate processes on `moka local`. Runs are triggered and followed through the REST API. All runs
are triggered at once when the module starts, so they run concurrently; the tests that act on a
running job (a worker crash, marking a deferred task failed) come first.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime
from typing import Any

import psutil
import pytest

from moka_provider.hooks.moka import MokaHook
from moka_provider.resources import SPARK_APPLICATION
from tests.deployment.conftest import jobs_of_run, phase_of, record
from tests.deployment.rest import AirflowRest
from tests.deployment.stack import Deployment

pytestmark = pytest.mark.integration

# dag_id, task_id, engine, deferred, what the task log must show (the job's own output included)
EXAMPLES = [
    (
        "moka_spark_pi",
        "spark_pi",
        "spark",
        True,
        ("created SparkApplication moka/spark-pi-", "Pi is roughly 3.1"),
    ),
    (
        "moka_flink_wordcount",
        "word_count",
        "flink",
        True,
        ("created FlinkDeployment moka/word-count-", "word count: runtime mode BATCH", "word count done: 20"),
    ),
    (
        "moka_ray_job",
        "sum_squares",
        "ray",
        False,
        ("created RayJob moka/sum-squares-", "sum of squares below 8 is 140 (computed by 8 Ray tasks)"),
    ),
]
CRASH = ("moka_deploy_spark_retry", "spark_retry")
KILL = ("moka_deploy_spark_slow", "spark_slow")


@pytest.fixture(scope="module")
def runs(rest: AirflowRest) -> dict[str, str]:
    """dag_id -> run id of the runs this module follows, all triggered now."""
    triggered = {dag_id: rest.trigger(dag_id) for dag_id, *_ in EXAMPLES}
    triggered["moka_hook_roundtrip"] = rest.trigger("moka_hook_roundtrip")
    triggered[CRASH[0]] = rest.trigger(CRASH[0], {"seconds": 60})
    triggered[KILL[0]] = rest.trigger(KILL[0], {"seconds": 600, "seconds_later": 1})
    return triggered


def run_seconds(run: dict[str, Any]) -> float:
    """From the run's queueing to its end, as Airflow recorded them."""
    queued, ended = (datetime.fromisoformat(run[key]) for key in ("queued_at", "end_date"))
    return round((ended - queued).total_seconds(), 1)


def running_job(engine: str, dag_id: str, task_id: str, run_id: str) -> dict[str, Any]:
    """The task instance's job, once it is RUNNING."""

    def find() -> dict[str, Any] | None:
        jobs = jobs_of_run(engine, dag_id, task_id, run_id)
        return next((job for job in jobs if phase_of(engine, job) == "RUNNING"), None)

    return dict(AirflowRest.wait(f"a RUNNING job of {dag_id}", find, timeout=400))


def test_worker_crash_leads_to_a_retry_that_adopts_the_running_job(
    deployment: Deployment, rest: AirflowRest, runs: dict[str, str]
) -> None:
    dag_id, task_id = CRASH
    run_id = runs[dag_id]
    rest.wait_for_state(dag_id, run_id, task_id, {"running"}, timeout=400)
    job = running_job("spark", dag_id, task_id, run_id)
    ti = rest.task_instance(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("running", 1)

    # The task's process, waiting for the job in the worker: a LocalExecutor worker's child.
    task_process = psutil.Process(ti["pid"])
    scheduler = psutil.Process(deployment.processes["scheduler"].pid)
    assert task_process in scheduler.children(recursive=True), task_process.cmdline()
    os.kill(task_process.pid, signal.SIGKILL)

    rest.wait_for_success(dag_id, run_id, timeout=600)
    ti = rest.task_instance(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("success", 2)
    jobs = jobs_of_run("spark", dag_id, task_id, run_id)
    assert [j["metadata"]["uid"] for j in jobs] == [job["metadata"]["uid"]], "exactly one job ran"
    assert phase_of("spark", jobs[0]) == "SUCCEEDED"
    # The retry reconnected to the job recorded in the task's state store (or adopted it by its
    # labels, where there is no state store), and created none.
    reference = f"{job['metadata']['namespace']}/{job['metadata']['name']}"
    retry = rest.log_entries(dag_id, run_id, task_id, 2)
    retry_text = "\n".join(str(entry.get("event")) for entry in retry)
    assert (
        any(
            (entry.get("event"), entry.get("external_id")) == ("Reconnecting to existing job", reference)
            for entry in retry
        )
        or f"adopting SparkApplication {reference}" in retry_text
    ), retry_text[-3000:]
    assert "created SparkApplication" not in retry_text
    assert "Pi is roughly" in retry_text


def test_marking_a_deferred_task_failed_deletes_its_job_and_clearing_starts_one(
    rest: AirflowRest, runs: dict[str, str]
) -> None:
    dag_id, task_id = KILL
    run_id = runs[dag_id]
    ti = rest.wait_for_state(dag_id, run_id, task_id, {"deferred"}, timeout=400)
    assert ti["trigger"]["classpath"] == "moka_provider.triggers.job.MokaJobTrigger"
    assert ti["triggerer_job"]["job_type"] == "TriggererJob"
    first = running_job("spark", dag_id, task_id, run_id)

    rest.set_state(dag_id, run_id, task_id, "failed")
    assert rest.task_instance(dag_id, run_id, task_id)["state"] == "failed"
    rest.wait(
        "the job of the task marked failed to be deleted",
        lambda: not jobs_of_run("spark", dag_id, task_id, run_id),
        timeout=180,
    )

    rest.clear(dag_id, run_id, [task_id])
    rest.wait_for_success(dag_id, run_id, timeout=600)
    jobs = jobs_of_run("spark", dag_id, task_id, run_id)
    assert len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
    assert jobs[0]["metadata"]["uid"] != first["metadata"]["uid"]
    assert phase_of("spark", jobs[0]) == "SUCCEEDED"
    assert rest.task_instance(dag_id, run_id, task_id)["try_number"] == 2


def triggerer_evidence(entries: list[dict[str, Any]]) -> list[str]:
    """The log lines written by the triggerer process (its trigger runner) for this task."""
    return [
        str(entry.get("event"))
        for entry in entries
        if entry.get("filename") == "triggerer_job_runner.py" or ".log.trigger." in str(entry.get("event"))
    ]


@pytest.mark.parametrize(
    ("dag_id", "task_id", "engine", "deferred", "output"),
    EXAMPLES,
    ids=[example[0] for example in EXAMPLES],
)
def test_example_dag_succeeds_and_its_task_log_has_the_job_output(
    rest: AirflowRest,
    runs: dict[str, str],
    dag_id: str,
    task_id: str,
    engine: str,
    deferred: bool,
    output: tuple[str, ...],
) -> None:
    run_id = runs[dag_id]
    rest.wait_for_success(dag_id, run_id, timeout=900)
    record(f"run_seconds.{dag_id}", run_seconds(rest.run(dag_id, run_id)))
    states = {tid: ti["state"] for tid, ti in rest.task_instances(dag_id, run_id).items()}
    assert set(states.values()) == {"success"}, states

    entries = rest.log_entries(dag_id, run_id, task_id, 1)
    text = "\n".join(str(entry.get("event")) for entry in entries)
    for line in output:
        assert line in text, text[-3000:]
    jobs = jobs_of_run(engine, dag_id, task_id, run_id)
    # One job, that succeeded (a Flink deployment is deleted after success).
    assert [phase_of(engine, job) for job in jobs] == ([] if engine == "flink" else ["SUCCEEDED"])
    from_triggerer = triggerer_evidence(entries)
    if deferred:
        # The trigger ran in the deployment's triggerer: its log file is named after that job.
        assert any(
            line.endswith(f".log.trigger.{i}.log")
            for line in from_triggerer
            for i in rest.triggerer_job_ids()
        ), from_triggerer
        assert any(line.startswith("trigger completed") for line in from_triggerer), from_triggerer
    else:
        assert from_triggerer == [] and "DEFERRED" not in text


def test_hook_roundtrip_example_succeeds(rest: AirflowRest, runs: dict[str, str]) -> None:
    dag_id = "moka_hook_roundtrip"
    rest.wait_for_success(dag_id, runs[dag_id], timeout=600)
    states = {tid: ti["state"] for tid, ti in rest.task_instances(dag_id, runs[dag_id]).items()}
    assert states == {"submit": "success", "show": "success", "clean_up": "success"}
    assert "type=Scala" in rest.log(dag_id, runs[dag_id], "show", 1)  # read back from the API server
    assert "deleted SparkApplication spark-pi-" in rest.log(dag_id, runs[dag_id], "clean_up", 1)
    leftovers = MokaHook().list(SPARK_APPLICATION, label_selector=f"moka.dev/dag-id={dag_id}")
    assert leftovers == []


def test_the_spark_example_prints_its_result_and_links(rest: AirflowRest, runs: dict[str, str]) -> None:
    dag_id = "moka_spark_pi"
    rest.wait_for_success(dag_id, runs[dag_id], timeout=900)
    printed = rest.log(dag_id, runs[dag_id], "show_result", 1)
    assert "SparkApplication moka/spark-pi-" in printed and ": COMPLETED" in printed  # from XCom
    assert "link job_log: http://127.0.0.1:" in printed  # the archived log, served by moka local
