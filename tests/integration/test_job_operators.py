"""The job lifecycle in a real Airflow 3 (``airflow dags test`` / ``airflow tasks test``) against
`moka local`, running real jobs.

The DAGs are ``tests/integration/dags/moka_engine_cases.py``; each engine runs the same driver
program (say a message, wait, exit with a code), so one test states what every engine must do.
Success and failure, in the worker and deferred, run for every engine (their adapters read
different statuses and logs); what is one code path whatever the engine (adoption after a worker
died, kill, deadlines, the log archive, the sensor, mapped tasks) runs once, for Spark.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines.base import EngineAdapter, Phase
from moka_provider.engines.registry import adapter_for
from moka_provider.exceptions import MokaApiError
from moka_provider.jobs.identity import label_value
from tests.conftest import REPO
from tests.integration.conftest import (
    AIRFLOW,
    AirflowHomes,
    SyncOrAsync,
    airflow_with_links,
    clean,
    jobs_of,
    phase,
    run_dag,
    running_job,
    spark_app,
    start_dag,
    wait_for,
    xcom_of,
)

ENGINES = ("spark", "flink", "ray")
LINKS = {
    "moka_ui_url": "https://moka.test/{engine}/{namespace}/{name}",
    "spark_ui_url": "https://spark.test/{namespace}/{pod}/",
    "spark_history_url": "https://history.test/history/{spark_app_id}/",
    "flink_dashboard_url": "https://flink.test/{namespace}/{name}/#/job/{job_id}",
    "ray_dashboard_url": "https://ray.test/{namespace}/{ray_cluster}/#/jobs/{job_id}",
}


@pytest.fixture(scope="module")
def lineage_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's Airflow writes its OpenLineage events (one JSON document a line)."""
    return tmp_path_factory.mktemp("openlineage") / "events.jsonl"


@pytest.fixture(scope="module")
def airflow_env(moka_local: Any, airflow_homes: AirflowHomes, lineage_file: Path) -> dict[str, str]:
    """Airflow with the link templates, and OpenLineage on: events to a file, and both kinds of
    information asked for in Spark jobs (the file transport has no Spark form: only the parent)."""
    transport = {"type": "file", "log_file_path": str(lineage_file), "append": True}
    return {
        **airflow_with_links(airflow_homes, LINKS),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "moka-tests",
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO": "True",
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_TRANSPORT_INFO": "True",
    }


@pytest.fixture
def hook(moka_local: Any) -> SyncOrAsync:
    return SyncOrAsync("sync")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def own_job(engine: str, message: str, seconds: str, code: str) -> tuple[EngineAdapter, dict[str, Any]]:
    """A job of ``engine`` made as the operators make it, but submitted by the test (by "someone else")."""
    from moka_provider.hooks.moka import MokaHook
    from tests.integration.dags.moka_engine_cases import ENGINES as CASES

    _, job = CASES[engine]
    adapter = adapter_for(engine)
    settings = MokaHook().settings
    build = {
        "spark": "moka_provider.engines.spark_spec:build_spark_application",
        "flink": "moka_provider.engines.flink_spec:build_flink_deployment",
        "ray": "moka_provider.engines.ray_spec:build_ray_job",
    }[engine]
    module, function = build.split(":")
    import importlib

    manifest = getattr(importlib.import_module(module), function)(
        settings=settings, **job(message, seconds, code)
    )
    manifest["metadata"]["name"] = f"ext-{uuid.uuid4().hex[:8]}"
    manifest["metadata"].setdefault("labels", {})["team"] = f"t{uuid.uuid4().hex[:6]}"
    return adapter, manifest


# -- the matrix -------------------------------------------------------------------------------------


def jobs_of_task(hook: SyncOrAsync, engine: str, task_id: str) -> list[dict[str, Any]]:
    jobs = jobs_of(hook, engine, f"moka_{engine}_outcomes")
    return [job for job in jobs if job["metadata"]["labels"]["moka.dev/task-id"] == label_value(task_id)]


def test_jobs_succeed_and_fail_in_the_worker_and_deferred(
    airflow_env: dict[str, str], hook: SyncOrAsync, engine: str, lineage_file: Path
) -> None:
    """One run of ``moka_<engine>_outcomes``: a job that succeeds and one that fails, each waited
    for in the worker and deferred (four independent tasks); every case is checked and reported."""
    dag_id = f"moka_{engine}_outcomes"
    clean(hook, engine, dag_id)
    output = run_dag(airflow_env, dag_id, succeed=False, timeout=600)
    problems = []
    written = lineage_file.read_text() if lineage_file.exists() else ""
    events = [json.loads(line) for line in written.splitlines()]
    for mode in ("sync", "deferred"):
        for check in (assert_succeeded, assert_failed):
            try:
                check(output, hook, engine, mode)
            except AssertionError as error:
                problems.append(f"{check.__name__}, {mode}: {error}")
        try:
            assert_lineage(events, output, hook, engine, mode)
        except AssertionError as error:
            problems.append(f"assert_lineage, {mode}: {error}")
    assert not problems, "\n".join(problems)


def assert_succeeded(output: str, hook: SyncOrAsync, engine: str, mode: str) -> None:
    """The job succeeded: its output in the task log, its result and links in XCom, its log served."""
    from tests.integration.dags.moka_engine_cases import ENGINES as CASES

    task_id = f"ok_{mode}"
    assert f"script says: hello-{mode}" in output  # the job's own output ("{{ params.message }}" rendered)
    xcom = xcom_of(output, task_id)
    result = xcom["result"]
    assert result["engine"] == engine and result["attempt"] == 1 and result["duration_seconds"] > 0
    assert xcom["_link_MokaUILink"] == f"https://moka.test/{engine}/{result['namespace']}/{result['name']}"
    assert f"script says: hello-{mode}" in served_log(xcom["_link_JobLogLink"])  # the engine's log pod
    jobs = jobs_of_task(hook, engine, task_id)
    if CASES[engine][0].DELETE_AFTER_SUCCESS:
        assert jobs == []  # a finished Flink job holds no JobManager
        assert f"deleted {adapter_for(engine).resource.kind} {result['namespace']}/{result['name']}" in output
    else:
        [job] = jobs
        assert job["metadata"]["uid"] == result["uid"] and phase(engine, job) is Phase.SUCCEEDED
    if engine == "flink":
        assert result["job_id"] and xcom["_link_FlinkDashboardLink"].endswith(result["job_id"])
    if engine == "ray":
        assert xcom["_link_RayDashboardLink"].endswith(f"/#/jobs/{result['job_id']}")
    if engine == "spark":
        assert_spark_result(job, xcom, mode, output)
    assert_cost(output, result)


#: What each case's job reserves per second of its run (CPUs, GiB), from the sizes in
#: moka_engine_cases: Spark (Python) a driver and one executor of 1 core and 512m, each with 384 MiB
#: of overhead (40% of 512m is less); Flink the spec builder's JobManager and one TaskManager
#: (parallelism 1) of 1 CPU and 2048m; Ray the head only, 1 CPU and 1Gi.
RESERVED_PER_SECOND = {"spark": (2, 2 * 896 / 1024), "flink": (2, 4), "ray": (1, 1)}


def assert_cost(output: str, result: dict[str, Any]) -> None:
    """The XCom's cost: the case's pods over a run within the task's wait, and its task-log line."""
    cost, (cores, gib) = result["cost"], RESERVED_PER_SECOND[result["engine"]]
    assert cost["method"] == "spec" and 0 < cost["seconds"] <= result["duration_seconds"] + 1, cost
    assert cost["core_seconds"] == pytest.approx(cores * cost["seconds"], abs=0.01), cost
    assert cost["memory_gib_seconds"] == pytest.approx(gib * cost["seconds"], abs=0.01), cost
    assert f"{result['kind']} {result['namespace']}/{result['name']} reserved " in output


def assert_failed(output: str, hook: SyncOrAsync, engine: str, mode: str) -> None:
    """The job failed: the task failed with the operator's reason and the end of the job's log."""
    [job] = jobs_of_task(hook, engine, f"fail_{mode}")  # kept for its logs
    status = adapter_for(engine).status(job)
    assert status.phase is Phase.FAILED and status.message
    name = f"{job['metadata']['namespace']}/{job['metadata']['name']}"
    assert f"{name} failed ({status.state}): {status.message.splitlines()[0]}" in output
    assert "script fails on purpose with exit code 3" in output  # the job's log, in the task log
    assert f"{name} reserved " in output  # a failed job reserved its pods too
    assert " lines of the log (" in output  # and its last lines in the error (Flink's end in a stack trace)


def assert_lineage(
    events: list[dict[str, Any]], output: str, hook: SyncOrAsync, engine: str, mode: str
) -> None:
    """The tasks' OpenLineage events (the provider's listener, a file transport): START and COMPLETE
    with the job's ``moka_job`` facet for the job that succeeded, FAIL with the facet of the job that
    failed; a Spark job's properties name the task's run as its parent."""

    def of(task_id: str) -> dict[str, dict[str, Any]]:
        name = f"moka_{engine}_outcomes.{task_id}"
        return {event["eventType"]: event for event in events if event["job"]["name"] == name}

    ok, failed = of(f"ok_{mode}"), of(f"fail_{mode}")
    assert {"START", "COMPLETE"} <= set(ok) and {"START", "FAIL"} <= set(failed), (set(ok), set(failed))
    complete, result = ok["COMPLETE"], xcom_of(output, f"ok_{mode}")["result"]
    facet = complete["run"]["facets"]["moka_job"]
    assert {key: facet[key] for key in ("engine", "namespace", "name", "uid", "state")} == {
        key: result[key] for key in ("engine", "namespace", "name", "uid", "state")
    }
    assert facet["applicationId"] == result.get("spark_application_id", result.get("job_id"))
    assert facet["applicationId"] and facet["links"]["moka_ui"] == result["links"]["moka_ui"]
    [failed_job] = jobs_of_task(hook, engine, f"fail_{mode}")
    fail_facets, metadata = failed["FAIL"]["run"]["facets"], failed_job["metadata"]
    assert "moka_job" in fail_facets, sorted(fail_facets)
    failed_facet = fail_facets["moka_job"]
    assert (failed_facet["name"], failed_facet["uid"]) == (metadata["name"], metadata["uid"]), failed_facet
    assert failed_facet["links"]["moka_ui"].endswith(f"/{metadata['name']}")
    if engine == "spark":
        assert failed_facet["state"] == adapter_for(engine).status(failed_job).state == "FAILED"
        [job] = jobs_of_task(hook, engine, f"ok_{mode}")
        properties = job["spec"]["sparkConf"]
        assert properties["spark.openlineage.parentRunId"] == complete["run"]["runId"]
        assert properties["spark.openlineage.parentJobName"] == complete["job"]["name"]
        assert (
            properties["spark.openlineage.parentJobNamespace"] == complete["job"]["namespace"] == "moka-tests"
        )
        assert "OpenLineage transport information not injected: the provider has none to give Spark" in output


def served_log(url: str) -> str:
    """The archived log behind the *Job log* button: moka local's log server, on loopback, serves a
    pod's log once its containers ended."""
    assert url.startswith("http://127.0.0.1:"), url

    def fetch() -> str | None:
        try:
            with urllib.request.urlopen(url, timeout=10) as page:
                assert page.headers["Content-Type"].startswith("text/plain")
                return str(page.read().decode())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    return str(wait_for(f"{url} to be served", fetch, timeout=60))


def assert_spark_result(job: dict[str, Any], xcom: dict[str, Any], mode: str, output: str) -> None:
    """The Spark task's result, History Server link and driver log."""
    result = xcom["result"]
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    assert job["spec"]["arguments"] == [f"hello-{mode}", "0", "0"]  # "{{ params.message }}" rendered
    assert job["metadata"]["annotations"]["moka.dev/run-id"].startswith("manual__")
    assert result["state"] == "COMPLETED"
    assert result["spark_application_id"] == job["status"]["sparkApplicationId"]
    history = f"https://history.test/history/{job['status']['sparkApplicationId']}/"
    assert xcom["_link_SparkUILink"] == history == result["links"]["spark_ui"]
    assert xcom["_link_JobLogLink"].endswith(f"/{namespace}/{name}-driver.log")
    if mode == "deferred":
        assert f"log of SparkApplication {namespace}/{name}" in output  # fetched on completion


# -- one code path whatever the engine: run for Spark --------------------------------------------


@pytest.mark.parametrize(
    ("dag_id", "how"),
    [
        ("moka_spark_slow", "Reconnecting to existing job"),  # Airflow 3.3+: the task's state store
        ("moka_spark_slow_nondurable", "adopting SparkApplication"),  # any Airflow: the job's labels
    ],
)
def test_a_retry_after_the_worker_died_adopts_the_running_job(
    airflow_env: dict[str, str], hook: SyncOrAsync, background: list[Any], dag_id: str, how: str
) -> None:
    import airflow

    if how.startswith("Reconnecting") and tuple(int(p) for p in airflow.__version__.split(".")[:2]) < (3, 3):
        how = "adopting SparkApplication"  # no state store before 3.3: the labels find the job
    engine = "spark"
    clean(hook, engine, dag_id)
    first = start_dag(airflow_env, dag_id, background)
    running = running_job(hook, engine, dag_id)
    os.killpg(first.pid, signal.SIGKILL)  # the worker dies; the job goes on
    first.wait()
    run_id = running["metadata"]["annotations"]["moka.dev/run-id"]
    retry = subprocess.run(
        [AIRFLOW, "tasks", "test", dag_id, "job", run_id],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=400,
    )  # the same task instance, again
    output = retry.stdout + retry.stderr
    assert retry.returncode == 0, output[-3000:]
    assert how in output and running["metadata"]["name"] in output
    assert "created " not in output  # nothing new was submitted
    [job] = jobs_of(hook, engine, dag_id)  # exactly one job ran
    assert job["metadata"]["uid"] == running["metadata"]["uid"] and phase(engine, job) is Phase.SUCCEEDED


def test_a_killed_task_deletes_its_job(
    airflow_env: dict[str, str], hook: SyncOrAsync, background: list[Any]
) -> None:
    engine, dag_id = "spark", "moka_spark_slow"
    clean(hook, engine, dag_id)
    task = start_dag(airflow_env, dag_id, background)
    running_job(hook, engine, dag_id)
    os.killpg(task.pid, signal.SIGTERM)  # what Airflow sends a task it kills
    output, _ = task.communicate(timeout=180)
    assert f"task killed: deleted {adapter_for(engine).resource.kind}" in output
    wait_for("the job to be gone", lambda: jobs_of(hook, engine, dag_id) == [], timeout=60)


def test_a_deferred_task_killed_by_a_user_deletes_its_job(hook: SyncOrAsync) -> None:
    """Airflow 3.3's triggerer calls ``on_kill`` when a deferred task is marked failed or cleared."""
    from moka_provider.triggers.job import MokaJobTrigger

    engine = "spark"
    adapter, manifest = own_job(engine, "slow", "60", "0")
    created = hook.create(adapter.resource, manifest)
    metadata = created["metadata"]
    trigger = MokaJobTrigger(
        engine=engine, name=metadata["name"], namespace=metadata["namespace"], uid=metadata["uid"]
    )
    trigger = MokaJobTrigger(**trigger.serialize()[1])  # as the triggerer rebuilds it

    async def kill_while_waiting() -> None:
        waiting = asyncio.ensure_future(anext(aiter(trigger.run())))
        await asyncio.sleep(2)
        assert not waiting.done()
        waiting.cancel()
        await trigger.on_kill()

    asyncio.run(kill_while_waiting())
    with pytest.raises(MokaApiError) as gone:
        hook.get(adapter.resource, metadata["name"])
    assert gone.value.not_found


def test_a_job_stuck_pending_times_out_and_is_deleted(
    airflow_env: dict[str, str], hook: SyncOrAsync, unique_name: str
) -> None:
    from moka_provider.resources import SPARK_APPLICATION

    engine, dag_id = "spark", "moka_spark_start_timeout"
    clean(hook, engine, dag_id)
    blocker = spark_app(unique_name)  # takes every core of the local node meanwhile
    blocker["spec"]["mainApplicationFile"] = f"local://{REPO / 'tests/integration/workloads/script.py'}"
    blocker["spec"]["arguments"] = ["blocking", "120", "0"]
    blocker["spec"]["executor"].update(instances=os.cpu_count() or 1, cores=1)
    hook.create(SPARK_APPLICATION, blocker)
    try:
        wait_for(
            "the blocking job to run",
            lambda: phase("spark", hook.get(SPARK_APPLICATION, unique_name)) is Phase.RUNNING,
        )
        output = run_dag(airflow_env, dag_id, succeed=False)
    finally:
        hook.delete(SPARK_APPLICATION, unique_name, missing_ok=True)
    assert "did not start within start_timeout=6s" in output and "; deleted it" in output
    assert jobs_of(hook, engine, dag_id) == []


def test_the_log_comes_from_the_archive_once_the_pod_is_gone(airflow_env: dict[str, str]) -> None:
    output = run_dag(airflow_env, "moka_spark_archived_log")
    assert "from file://" in output  # the log archive, not the pod
    assert "script says: archived" in output


@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_the_sensor_follows_a_job_submitted_elsewhere(
    airflow_env: dict[str, str], hook: SyncOrAsync, mode: str
) -> None:
    engine = "spark"
    adapter, manifest = own_job(engine, "outside", "3", "0")
    hook.create(adapter.resource, manifest)
    name = manifest["metadata"]["name"]
    output = run_dag(airflow_env, f"moka_{engine}_sensor_{mode}", "-c", json.dumps({"job": name}))
    result = xcom_of(output)["result"]
    assert result["name"] == name and result["engine"] == engine
    assert "script says: outside" in output
    assert hook.get(adapter.resource, name)["metadata"]["name"] == name  # the sensor deletes nothing


def test_the_sensor_fails_with_the_jobs_reason_and_finds_jobs_by_label(
    airflow_env: dict[str, str], hook: SyncOrAsync
) -> None:
    engine = "spark"
    adapter, manifest = own_job(engine, "outside", "0", "3")
    hook.create(adapter.resource, manifest)
    labels = f"team={manifest['metadata']['labels']['team']}"
    output = run_dag(
        airflow_env, f"moka_{engine}_sensor_labels", "-c", json.dumps({"labels": labels}), succeed=False
    )
    assert "failed (" in output and "script fails on purpose with exit code 3" in output


def test_mapped_tasks_run_one_job_each(airflow_env: dict[str, str], hook: SyncOrAsync) -> None:
    dag_id = "moka_spark_mapped"
    clean(hook, "spark", dag_id)
    output = run_dag(airflow_env, dag_id)
    jobs = jobs_of(hook, "spark", dag_id)
    assert sorted(job["metadata"]["labels"]["moka.dev/map-index"] for job in jobs) == ["0", "1"]
    assert len({job["metadata"]["name"] for job in jobs}) == 2
    assert "script says: first" in output and "script says: second" in output
