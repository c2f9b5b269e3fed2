"""Fixtures of the deployment tests (the ``test_*.py`` modules of this package).

One deployment serves every module here: PostgreSQL and the four Airflow processes on a ``moka``
connection to the session's `moka local`. It is package-scoped, so it is stopped as soon as this
package's tests are done rather than idling through the rest of the session; under pytest-xdist
they all run in one worker while the other runs the rest of the suite (``tests/conftest.py``). The quiet-wait test's run (:data:`QUIET_DAG`) is triggered as soon as
the deployment is up, so that its 8 minutes pass while the other deployment tests run.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines.registry import adapter_for
from moka_provider.jobs.identity import JobIdentity
from moka_provider.local.kubeconfig import connection_uri
from tests.conformance.cases import POOL, POOL_SLOTS, sensor_job_manifest
from tests.conformance.player import Played, TracePlayer
from tests.conformance.traces import all_traces
from tests.deployment import stack
from tests.deployment.dags.moka_deployment_outage import KILL_TASKS, OUTAGE_TASKS
from tests.deployment.quiet_jobs import TASK_ID_ANNOTATION, HeldSparkJobs, QuietSparkJobs
from tests.deployment.rest import AirflowRest

#: The example DAGs (``dags_examples/``) and the test DAGs (``tests/deployment/dags/``).
EXAMPLE_DAGS = ("moka_spark_pi", "moka_flink_wordcount", "moka_ray_job", "moka_hook_roundtrip")
TEST_DAGS = (
    "moka_deploy_ray_job_deferred",
    "moka_deploy_spark_slow",
    "moka_deploy_spark_retry",
    "moka_deploy_spark_quiet",
    "moka_conformance",
    "moka_deploy_outage",
)

#: The quiet-wait test's DAG, triggered as soon as the deployment is up so that the other deployment
#: tests run while its jobs stay quiet, and how long they stay RUNNING without a status change.
QUIET_DAG = "moka_deploy_spark_quiet"
#: The outage tests' DAG (``test_deployment_outage.py``), triggered with the deployment too: its
#: tasks defer while the other tests run, and wait until the outage tests release their jobs.
OUTAGE_DAG = "moka_deploy_outage"
#: The ``errorMessage`` of the outage run's jobs made to fail, which their task's failure must quote.
#: Task states that end a task's wait.
ENDED_STATES = frozenset({"success", "failed", "upstream_failed"})
OUTAGE_FAILURE = "driver container exited with code 3 (written by the outage test)"
QUIET_SECONDS = 480
#: The conformance traces' DAG, triggered once the other deployment tests are done.
CONFORMANCE_DAG = "moka_conformance"
#: The annotation with a job's exact task id.


@dataclass(frozen=True)
class QuietRun:
    run_id: str
    jobs: QuietSparkJobs


@dataclass(frozen=True)
class OutageRun:
    run_id: str
    jobs: HeldSparkJobs
    #: What the outage test did to the triggerer, for the next test: ``killed`` and ``successor``
    #: triggerer job ids.
    triggerers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConformanceRun:
    """The run of ``moka_conformance`` and the player of its traces."""

    run_id: str
    player: TracePlayer


_OUTAGE_RUN = pytest.StashKey[OutageRun]()
_QUIET_RUN = pytest.StashKey[QuietRun]()


def artifacts_dir() -> Path:
    """Where screenshots and measured numbers go: ``$MOKA_TEST_ARTIFACTS`` or ``<repo>/.artifacts``."""
    path = Path(os.environ.get("MOKA_TEST_ARTIFACTS") or stack.REPO / ".artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(name: str, value: Any) -> None:
    """Add a measured number to ``deployment-numbers.json`` in the artifacts directory."""
    path = artifacts_dir() / "deployment-numbers.json"
    try:
        numbers = json.loads(path.read_text())
    except (OSError, ValueError):
        numbers = {}
    numbers[name] = value
    path.write_text(json.dumps(numbers, indent=2) + "\n")


def report(config: pytest.Config, line: str) -> None:
    """Print ``line`` on the terminal also when output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


def _run_order(item: pytest.Item) -> int:
    fixtures = set(getattr(item, "fixturenames", ()))
    if "outage_run" in fixtures:
        return 2
    return int(bool({"quiet_run", "conformance_run"} & fixtures))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the quiet-wait and conformance tests after this package's other tests (they overlap
    those runs), and the outage tests last: stopping the API server or the triggerer would disturb
    any other test's wait."""
    here = Path(__file__).parent
    ours = [i for i, item in enumerate(items) if item.path.is_relative_to(here)]
    if not ours:
        return
    mine = [items[i] for i in ours]
    mine.sort(key=_run_order)
    items[ours[0] : ours[-1] + 1] = [
        *mine,
        *(item for item in items[ours[0] : ours[-1] + 1] if not item.path.is_relative_to(here)),
    ]


@pytest.fixture(scope="package")
def deployment(
    moka_local: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[stack.Deployment]:
    """PostgreSQL + the four Airflow processes, on a ``moka`` connection to `moka local`."""
    paths, state = moka_local
    connection = stack.connection_with_links(
        connection_uri(
            paths.kubeconfig, state.namespace, paths.log_archive, log_server_port=state.log_server_port
        )
    )
    began = time.monotonic()
    running = stack.start(
        tmp_path_factory.mktemp("deployment"), connection, expected_dags=EXAMPLE_DAGS + TEST_DAGS
    )
    record("fixture_startup_seconds", round(running.startup_seconds, 1))
    report(request.config, f"\nAirflow deployment up in {running.startup_seconds:.1f} s at {running.url}")
    quiet_jobs = QuietSparkJobs(paths.admin_kubeconfig, state.namespace, QUIET_DAG, 2, QUIET_SECONDS)
    quiet_jobs.start()
    rest = AirflowRest(running.url, stack.USERNAME, stack.PASSWORD)
    request.config.stash[_QUIET_RUN] = QuietRun(rest.trigger(QUIET_DAG, prefix="quiet"), quiet_jobs)
    held_jobs = HeldSparkJobs(
        paths.admin_kubeconfig, state.namespace, OUTAGE_DAG, len(OUTAGE_TASKS + KILL_TASKS), OUTAGE_FAILURE
    )
    held_jobs.start()
    request.config.stash[_OUTAGE_RUN] = OutageRun(rest.trigger(OUTAGE_DAG, prefix="outage"), held_jobs)
    try:
        yield running
    finally:
        held_jobs.stop()
        quiet_jobs.stop()
        running.stop()
        record("deployment_session_seconds", round(time.monotonic() - began, 1))
        report(request.config, f"\nAirflow deployment: {time.monotonic() - began:.1f} s from start to stop")


@pytest.fixture(scope="package")
def rest(deployment: stack.Deployment) -> AirflowRest:
    return AirflowRest(deployment.url, stack.USERNAME, stack.PASSWORD)


@pytest.fixture(scope="package")
def outage_run(deployment: stack.Deployment, rest: AirflowRest, request: pytest.FixtureRequest) -> OutageRun:
    """The run of :data:`OUTAGE_DAG` (triggered as soon as the deployment was up), once every task
    is deferred on a RUNNING job."""
    run: OutageRun = request.config.stash[_OUTAGE_RUN]
    rest.wait(
        "every outage task deferred on a RUNNING job",
        lambda: _deferred_on_running_jobs(rest, run.run_id, OUTAGE_TASKS + KILL_TASKS),
        timeout=600,
    )
    return run


def _deferred_on_running_jobs(rest: AirflowRest, run_id: str, task_ids: list[str]) -> bool:
    tis = rest.task_instances(OUTAGE_DAG, run_id)
    ended = {t: tis[t]["state"] for t in task_ids if t in tis and tis[t]["state"] in ENDED_STATES}
    assert not ended, f"tasks ended before their jobs: {ended}\n{rest.failure_report(OUTAGE_DAG, run_id)}"
    if any(tis.get(t, {}).get("state") != "deferred" for t in task_ids):
        time.sleep(2)
        return False
    return all(
        [phase_of("spark", job) for job in jobs_of_run("spark", OUTAGE_DAG, t, run_id)] == ["RUNNING"]
        for t in task_ids
    )


@pytest.fixture(scope="package")
def quiet_run(deployment: stack.Deployment, request: pytest.FixtureRequest) -> QuietRun:
    """The run of :data:`QUIET_DAG`, triggered as soon as the deployment was up."""
    return request.config.stash[_QUIET_RUN]


def start_conformance_player(admin_kubeconfig: Path, namespace: str) -> TracePlayer:
    """The trace player, started, with the sensor's job of every trace created."""
    from moka_provider.hooks.moka import MokaHook

    traces = all_traces()
    player = TracePlayer(admin_kubeconfig, namespace, traces)
    settings = MokaHook().settings
    for trace in traces:
        player.create_job(trace, sensor_job_manifest(trace, settings))
    player.start()
    return player


class WatchedGate:
    """Whether a job's replay may begin: once the task waiting for it deferred on it (the sensor's
    jobs, the deferred operators'), else the trace could be over before anyone watched; a trace
    marked ``play: at_once`` (a job gone before anyone looked) and the worker's jobs at once. One
    look at the run's task instances serves every replay for a few seconds."""

    def __init__(self, rest: AirflowRest, run_id: str) -> None:
        self.rest = rest
        self.run_id = run_id
        self._states: dict[str, str] = {}
        self._looked = 0.0
        self._lock = threading.Lock()

    def __call__(self, played: Played) -> bool:
        trace = played.trace
        if played.job["metadata"]["name"] == trace.sensor_job_name:
            task_id = trace.task_id("sensor")
        else:
            task_id = (played.job["metadata"].get("annotations") or {}).get(TASK_ID_ANNOTATION, "")
        if trace.play_at_once or not task_id.endswith(("__deferred", "__sensor")):
            return True
        with self._lock:
            if time.monotonic() - self._looked > 3:
                found = self.rest.task_instances(CONFORMANCE_DAG, self.run_id)
                self._states = {key: str(ti["state"]) for key, ti in found.items()}
                self._looked = time.monotonic()
            return self._states.get(task_id) == "deferred"


@pytest.fixture(scope="package")
def conformance_run(
    deployment: stack.Deployment, rest: AirflowRest, moka_local: Any
) -> Iterator[ConformanceRun]:
    """The run of :data:`CONFORMANCE_DAG` with its trace player, once this package's other tests
    are done (its 66 tasks would slow theirs; the quiet-wait run, which takes no CPU, overlaps)."""
    paths, state = moka_local
    player = start_conformance_player(paths.admin_kubeconfig, state.namespace)
    rest.call("POST", "/pools", {"name": POOL, "slots": POOL_SLOTS, "description": "conformance traces"})
    run_id = rest.trigger(CONFORMANCE_DAG, prefix="traces")
    player.ready = WatchedGate(rest, run_id)
    try:
        yield ConformanceRun(run_id, player)
    finally:
        player.stop()


def jobs_of_run(engine: str, dag_id: str, task_id: str, run_id: str) -> list[dict[str, Any]]:
    """The Moka jobs of one task instance (every attempt), found by their job-key label."""
    from moka_provider.hooks.moka import MokaHook

    selector = JobIdentity(dag_id, task_id, run_id).selector
    return list(MokaHook().list(adapter_for(engine).resource, label_selector=selector))


def phase_of(engine: str, job: dict[str, Any]) -> str:
    return adapter_for(engine).status(job).phase.name
