"""MokaSparkOperator in a real Airflow 3 (``airflow dags test``) against `moka local` with real Spark."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    AIRFLOW,
    SyncOrAsync,
    airflow_with_links,
    clean,
    jobs_of,
    run_dag,
    running_job,
    start_dag,
    xcom_of,
)

LINKS = {
    "moka_ui_url": "https://moka.test/jobs/{namespace}/{name}",
    "spark_ui_url": "https://spark.test/{namespace}/{name}/",
    "spark_history_url": "https://history.test/history/{spark_app_id}/",
}


@pytest.fixture(scope="module")
def airflow_env(
    moka_local: Any, tmp_path_factory: pytest.TempPathFactory, shared_dir: Path
) -> dict[str, str]:
    return airflow_with_links(tmp_path_factory, shared_dir, LINKS)


@pytest.fixture
def hook(moka_local: Any) -> SyncOrAsync:
    return SyncOrAsync("sync")


@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_spark_job_succeeds_with_links_log_and_xcom(
    airflow_env: dict[str, str], hook: SyncOrAsync, mode: str
) -> None:
    dag_id = f"moka_spark_pi_{mode}"
    clean(hook, "spark", dag_id)
    output = run_dag(airflow_env, dag_id)
    assert "Pi is roughly 3.1" in output  # the driver's output, in the task log
    [job] = jobs_of(hook, "spark", dag_id)
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
    log_url = xcom["_link_JobLogLink"]
    assert log_url.startswith("http://127.0.0.1:") and log_url.endswith(f"/{namespace}/{name}-driver.log")
    with urllib.request.urlopen(log_url, timeout=10) as page:  # moka local serves the log archive
        assert page.headers["Content-Type"].startswith("text/plain")
        assert "Pi is roughly 3.1" in page.read().decode()
    if mode == "deferred":
        assert "log of SparkApplication" in output  # fetched on completion, not streamed


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
    background: list[Any],
    dag_id: str,
    how: str,
) -> None:
    import airflow

    if how.startswith("Reconnecting") and tuple(int(p) for p in airflow.__version__.split(".")[:2]) < (3, 3):
        how = "adopting SparkApplication"  # no state store before 3.3: the labels find the job
    clean(hook, "spark", dag_id)
    first = start_dag(airflow_env, dag_id, background)
    running = running_job(hook, "spark", dag_id)
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
    [job] = jobs_of(hook, "spark", dag_id)  # exactly one job ran
    assert job["metadata"]["uid"] == running["metadata"]["uid"]
    assert job["status"]["applicationState"]["state"] == "COMPLETED"


def test_mapped_tasks_run_one_job_each(airflow_env: dict[str, str], hook: SyncOrAsync) -> None:
    dag_id = "moka_spark_mapped"
    clean(hook, "spark", dag_id)
    output = run_dag(airflow_env, dag_id)
    jobs = jobs_of(hook, "spark", dag_id)
    assert sorted(job["metadata"]["labels"]["moka.dev/map-index"] for job in jobs) == ["0", "1"]
    assert len({job["metadata"]["name"] for job in jobs}) == 2
    assert "script says: first" in output and "script says: second" in output
