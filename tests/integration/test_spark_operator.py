"""MokaSparkOperator in a real Airflow 3 (``airflow dags test``) against `moka local` with real Spark."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from moka_provider.engines.resources import SPARK_APPLICATION
from tests.conftest import REPO
from tests.integration.conftest import AIRFLOW, SyncOrAsync, airflow_home, run_dag

DAGS = REPO / "tests" / "integration" / "dags"
LINKS = {
    "moka_ui_url": "https://moka.test/jobs/{namespace}/{name}",
    "spark_ui_url": "https://spark.test/{namespace}/{name}/",
    "spark_history_url": "https://history.test/history/{spark_app_id}/",
}


@pytest.fixture(scope="module")
def airflow_env(
    moka_local: Any, tmp_path_factory: pytest.TempPathFactory, shared_dir: Path
) -> dict[str, str]:
    connection = os.environ["AIRFLOW_CONN_MOKA_DEFAULT"] + "&" + urlencode(LINKS)
    return airflow_home(
        tmp_path_factory.mktemp("airflow"), DAGS, shared_dir, AIRFLOW_CONN_MOKA_DEFAULT=connection
    )


@pytest.fixture
def hook(moka_local: Any) -> SyncOrAsync:
    return SyncOrAsync("sync")


def jobs_of(hook: SyncOrAsync, dag_id: str) -> list[dict[str, Any]]:
    return hook.list(SPARK_APPLICATION, label_selector=f"moka.dev/dag-id={dag_id}")


def xcom_of(output: str) -> dict[str, Any]:
    line = next(line for line in output.splitlines() if "MOKA_XCOM=" in line)
    return json.loads(line.split("MOKA_XCOM=", 1)[1])


def clean(hook: SyncOrAsync, dag_id: str) -> None:
    for job in jobs_of(hook, dag_id):
        hook.delete(SPARK_APPLICATION, job["metadata"]["name"], missing_ok=True)


@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_spark_job_succeeds_with_links_log_and_xcom(
    airflow_env: dict[str, str], hook: SyncOrAsync, mode: str
) -> None:
    dag_id = f"moka_spark_pi_{mode}"
    clean(hook, dag_id)
    output = run_dag(airflow_env, dag_id)
    assert "Pi is roughly 3.1" in output  # the driver's output, in the task log
    [job] = jobs_of(hook, dag_id)
    assert job["spec"]["arguments"] == ["3"]  # "{{ params.partitions }}" rendered
    assert job["metadata"]["annotations"]["moka.dev/run-id"].startswith("manual__")
    xcom = xcom_of(output)
    result = xcom["result"]
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    assert result["name"] == name and result["namespace"] == namespace
    assert result["uid"] == job["metadata"]["uid"] and result["state"] == "COMPLETED"
    assert result["spark_application_id"] == job["status"]["sparkApplicationId"]
    assert result["duration_seconds"] > 0 and result["attempt"] == 1
    assert xcom["_link_MokaUILink"] == f"https://moka.test/jobs/{namespace}/{name}"
    history = f"https://history.test/history/{job['status']['sparkApplicationId']}/"
    assert xcom["_link_SparkUILink"] == history == result["links"]["spark_ui"]
    assert xcom["_link_JobLogLink"].startswith("file://") and xcom["_link_JobLogLink"].endswith(
        f"/{namespace}/{name}-driver.log"
    )
    if mode == "deferred":
        assert "log of SparkApplication" in output  # fetched on completion, not streamed


@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_failed_job_fails_the_task_with_the_reason_and_log(
    airflow_env: dict[str, str], hook: SyncOrAsync, mode: str
) -> None:
    dag_id = f"moka_spark_fail_{mode}"
    clean(hook, dag_id)
    output = run_dag(airflow_env, dag_id, succeed=False)
    [job] = jobs_of(hook, dag_id)
    assert job["status"]["applicationState"]["state"] == "FAILED"
    message = job["status"]["applicationState"]["errorMessage"]
    assert f"failed (FAILED): {message}" in output
    assert "  | script fails on purpose with exit code 3" in output  # last lines of the driver log
    assert "script says: hello" in output


def start_dag(airflow_env: dict[str, str], dag_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [AIRFLOW, "dags", "test", dag_id],
        env=airflow_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_state(hook: SyncOrAsync, dag_id: str, state: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for job in jobs_of(hook, dag_id):
            if ((job.get("status") or {}).get("applicationState") or {}).get("state") == state:
                return job
        time.sleep(0.5)
    raise AssertionError(f"no job of {dag_id} reached {state}: {jobs_of(hook, dag_id)}")


@pytest.fixture
def slow_jobs(airflow_env: dict[str, str], hook: SyncOrAsync) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize(
    ("dag_id", "how"),
    [
        ("moka_spark_slow_sync", "Reconnecting to existing job"),  # Airflow 3.3+: the task's state store
        ("moka_spark_slow_nondurable", "adopting SparkApplication"),  # any Airflow: the job's labels
    ],
)
def test_a_retry_after_a_worker_died_adopts_the_running_job(
    airflow_env: dict[str, str],
    hook: SyncOrAsync,
    slow_jobs: list[subprocess.Popen[str]],
    dag_id: str,
    how: str,
) -> None:
    import airflow

    if how.startswith("Reconnecting") and tuple(int(p) for p in airflow.__version__.split(".")[:2]) < (3, 3):
        how = "adopting SparkApplication"  # no state store before 3.3: the labels find the job
    clean(hook, dag_id)
    slow_jobs.append(first := start_dag(airflow_env, dag_id))
    running = wait_for_state(hook, dag_id, "RUNNING")
    os.killpg(first.pid, signal.SIGKILL)  # the worker dies; the job goes on
    first.wait()
    run_id = running["metadata"]["annotations"]["moka.dev/run-id"]
    retry = subprocess.run(
        [AIRFLOW, "tasks", "test", dag_id, "job", run_id],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # the same task instance runs again
    output = retry.stdout + retry.stderr
    assert retry.returncode == 0, output[-3000:]
    assert how in output and running["metadata"]["name"] in output
    [job] = jobs_of(hook, dag_id)  # exactly one job ran
    assert job["metadata"]["uid"] == running["metadata"]["uid"]
    assert job["status"]["applicationState"]["state"] == "COMPLETED"


def test_a_killed_task_deletes_its_job(
    airflow_env: dict[str, str], hook: SyncOrAsync, slow_jobs: list[subprocess.Popen[str]]
) -> None:
    dag_id = "moka_spark_slow_sync"
    clean(hook, dag_id)
    slow_jobs.append(task := start_dag(airflow_env, dag_id))
    wait_for_state(hook, dag_id, "RUNNING")
    os.killpg(task.pid, signal.SIGTERM)  # what Airflow sends a task it kills
    output, _ = task.communicate(timeout=120)
    assert "task killed: deleted SparkApplication" in output
    deadline = time.monotonic() + 30
    while jobs_of(hook, dag_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert jobs_of(hook, dag_id) == []


def test_a_killed_deferred_task_deletes_its_job_from_the_trigger(hook: SyncOrAsync, unique_name: str) -> None:
    """The triggerer calls ``on_kill`` when a deferred task is marked failed or cleared (3.3+)."""
    from moka_provider.triggers.job import MokaJobTrigger
    from tests.integration.conftest import spark_app

    app = spark_app(unique_name)
    app["spec"]["mainApplicationFile"] = f"local://{REPO / 'tests/integration/workloads/script.py'}"
    app["spec"]["arguments"] = ["slow", "60", "0"]
    created = hook.create(SPARK_APPLICATION, app)
    trigger = MokaJobTrigger(
        engine="spark",
        name=unique_name,
        namespace=created["metadata"]["namespace"],
        uid=created["metadata"]["uid"],
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "moka_provider.triggers.job.MokaJobTrigger"
    trigger = MokaJobTrigger(**kwargs)  # as the triggerer rebuilds it

    async def kill_while_waiting() -> None:
        waiting = asyncio.ensure_future(anext(aiter(trigger.run())))
        await asyncio.sleep(2)
        assert not waiting.done()
        waiting.cancel()
        await trigger.on_kill()

    asyncio.run(kill_while_waiting())
    from moka_provider.exceptions import MokaApiError

    with pytest.raises(MokaApiError) as gone:
        hook.get(SPARK_APPLICATION, unique_name)
    assert gone.value.not_found


def test_a_job_stuck_pending_times_out_and_is_deleted(
    airflow_env: dict[str, str], hook: SyncOrAsync, unique_name: str
) -> None:
    from tests.integration.conftest import spark_app

    dag_id = "moka_spark_start_timeout"
    clean(hook, dag_id)
    blocker = spark_app(unique_name)  # takes every core of the local node meanwhile
    blocker["spec"]["mainApplicationFile"] = f"local://{REPO / 'tests/integration/workloads/script.py'}"
    blocker["spec"]["arguments"] = ["blocking", "90", "0"]
    blocker["spec"]["executor"].update(instances=os.cpu_count() or 1, cores=1)
    hook.create(SPARK_APPLICATION, blocker)
    try:
        deadline = time.monotonic() + 120
        while (
            hook.get(SPARK_APPLICATION, unique_name)
            .get("status", {})
            .get("applicationState", {})
            .get("state")
            != "RUNNING"
        ):
            assert time.monotonic() < deadline, "the blocking job did not start"
            time.sleep(0.5)
        output = run_dag(airflow_env, dag_id, succeed=False)
    finally:
        hook.delete(SPARK_APPLICATION, unique_name, missing_ok=True)
    assert "did not start within start_timeout=6s (state SUBMITTED); deleted it" in output
    assert jobs_of(hook, dag_id) == []


def test_logs_come_from_the_archive_once_the_pod_is_gone(
    airflow_env: dict[str, str], hook: SyncOrAsync
) -> None:
    dag_id = "moka_spark_archived_log"
    output = run_dag(airflow_env, dag_id)
    assert jobs_of(hook, dag_id) == []  # removed by its TTL before the task concluded
    assert "from file://" in output
    assert "script says: from the archive" in output


def test_mapped_tasks_run_one_job_each(airflow_env: dict[str, str], hook: SyncOrAsync) -> None:
    dag_id = "moka_spark_mapped"
    clean(hook, dag_id)
    output = run_dag(airflow_env, dag_id)
    jobs = jobs_of(hook, dag_id)
    assert sorted(job["metadata"]["labels"]["moka.dev/map-index"] for job in jobs) == ["0", "1"]
    assert len({job["metadata"]["name"] for job in jobs}) == 2
    assert "script says: first" in output and "script says: second" in output
