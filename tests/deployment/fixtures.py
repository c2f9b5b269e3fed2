"""Session fixtures of the deployment tests: one deployment per test session, on `moka local`.

The test modules import these fixtures (``from tests.deployment.fixtures import ...``); several
modules share one deployment through :data:`_SHARED`, since each module's copy of a session fixture
is cached separately by pytest. It needs the ``moka_local`` fixture of ``tests/integration``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines.registry import adapter_for
from moka_provider.jobs.identity import JobIdentity
from moka_provider.local.kubeconfig import connection_uri
from tests.deployment import stack
from tests.deployment.rest import AirflowRest

#: The example DAGs (``dags_examples/``) and the test DAGs (``tests/deployment/dags/``).
EXAMPLE_DAGS = ("moka_spark_pi", "moka_flink_wordcount", "moka_ray_job", "moka_hook_roundtrip")
TEST_DAGS = (
    "moka_deploy_spark_pi_sync",
    "moka_deploy_flink_wordcount_sync",
    "moka_deploy_ray_job_deferred",
    "moka_deploy_spark_slow",
    "moka_deploy_spark_retry",
)

_SHARED: dict[str, stack.Deployment] = {}


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


@pytest.fixture(scope="session")
def deployment(
    moka_local: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[stack.Deployment]:
    """PostgreSQL + the four Airflow processes, on a ``moka`` connection to `moka local`."""
    if "deployment" in _SHARED:
        yield _SHARED["deployment"]
        return
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
    _SHARED["deployment"] = running
    record("fixture_startup_seconds", round(running.startup_seconds, 1))
    report(request.config, f"\nAirflow deployment up in {running.startup_seconds:.1f} s at {running.url}")
    yield running
    del _SHARED["deployment"]
    running.stop()  # if stop_shared_deployment() did not already
    record("deployment_session_seconds", round(time.monotonic() - began, 1))
    report(request.config, f"\nAirflow deployment: {time.monotonic() - began:.1f} s from start to stop")


def stop_shared_deployment() -> None:
    """Stop the shared deployment now (its last user is done), not idle until the session ends.

    The session fixture's own teardown then finds it stopped; :meth:`Deployment.stop` may be
    called again.
    """
    running = _SHARED.get("deployment")
    if running is not None:
        running.stop()


@pytest.fixture(scope="session")
def rest(deployment: stack.Deployment) -> AirflowRest:
    return AirflowRest(deployment.url, stack.USERNAME, stack.PASSWORD)


def jobs_of_run(engine: str, dag_id: str, task_id: str, run_id: str) -> list[dict[str, Any]]:
    """The Moka jobs of one task instance (every attempt), found by their job-key label."""
    from moka_provider.hooks.moka import MokaHook

    selector = JobIdentity(dag_id, task_id, run_id).selector
    return list(MokaHook().list(adapter_for(engine).resource, label_selector=selector))


def phase_of(engine: str, job: dict[str, Any]) -> str:
    return adapter_for(engine).status(job).phase.name
