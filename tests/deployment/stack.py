"""Airflow 3 as it runs in production, on loopback, with the Moka example DAGs.

PostgreSQL as the metadata database (:mod:`.postgres`), ``airflow db migrate``, then the API server
(with the UI), the scheduler (LocalExecutor), the dag-processor and the triggerer as four separate
processes, each with its log in a file, each in a process group of its own. :func:`start` waits
until ``/api/v2/monitor/health`` reports every component healthy and the DAGs are parsed;
:meth:`Deployment.stop` stops exactly the processes it started (by their process groups).

``python -m tests.deployment.stack`` (``make ui``) starts it on the ``moka`` connection in the
environment (``eval "$(moka local env --dir DIR)"``), prints the URL and the login and waits for
Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psutil

from tests.deployment.postgres import Postgres, free_port, start_postgres

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "dags_examples"
TEST_DAGS = Path(__file__).resolve().parent / "dags"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
USERNAME = PASSWORD = "admin"

#: Link templates of the deployment's ``moka`` connection (the log archive's comes from `moka
#: local`); the Flink and Ray dashboards are left without one on purpose.
LINK_TEMPLATES = {
    "moka_ui_url": "https://moka.example.test/jobs/{namespace}/{kind}/{name}",
    "spark_ui_url": "https://moka.example.test/spark-ui/{namespace}/{pod}/jobs/",
    "spark_history_url": "https://spark-history.example.test/history/{spark_app_id}/jobs/",
}


@dataclass
class Deployment:
    """A running deployment; ``url`` is the API server's (UI at ``/``, REST at ``/api/v2``)."""

    home: Path
    url: str
    env: dict[str, str]
    postgres: Postgres
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    startup_seconds: float = 0.0

    def log_of(self, component: str) -> Path:
        return self.home / "process-logs" / f"{component}.log"

    def alive(self) -> dict[str, bool]:
        return {name: not _ended(process) for name, process in self.processes.items()}

    def start_component(self, component: str) -> None:
        """Start one of :data:`COMPONENTS` in a process group of its own (again after :meth:`kill`)."""
        argv = [AIRFLOW, component]
        if component == "api-server":
            argv += ["--host", "127.0.0.1", "--port", self.env["AIRFLOW__API__PORT"], "--workers", "1"]
        elif component in ("scheduler", "triggerer"):
            # Airflow's log servers listen on every interface, and every process here shares
            # one log folder that the API server reads directly: start none.
            argv.append("--skip-serve-logs")
        with self.log_of(component).open("ab") as out:
            self.processes[component] = subprocess.Popen(
                argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, component: str) -> None:
        """SIGKILL a component and every process it started (its group, and descendants that made
        groups of their own, as Airflow's subprocesses do), as a machine's crash would end them."""
        process = self.processes[component]
        descendants = [] if _ended(process) else psutil.Process(process.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for child in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        process.wait()

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to each started process group, SIGKILL to what is left after ``timeout``.

        A group is signalled only while its leader is not reaped yet (at most a zombie), so its
        process group id cannot have been reused by another process.
        """
        started = [process for process in self.processes.values() if process.returncode is None]
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in started:
            while not _ended(process) and time.monotonic() < deadline:
                time.sleep(0.2)
            # What is left of the group (the LocalExecutor's task processes, API workers...).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.processes.clear()
        self.postgres.stop()


def _ended(process: subprocess.Popen[bytes]) -> bool:
    """The process has ended, without reaping it (its pid and group id stay ours until then)."""
    if process.returncode is not None:
        return True
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def airflow_env(
    home: Path, database_url: str, port: int, moka_connection: str, dag_folders: Iterable[Path]
) -> dict[str, str]:
    """The environment every Airflow process of the deployment runs with."""
    bundles = [
        {
            "name": folder.name,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(folder), "refresh_interval": 5},
        }
        for folder in dag_folders
    ]
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USERNAME: PASSWORD}))
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return {
        **inherited,
        "AIRFLOW_HOME": str(home),
        "PYTHONPATH": str(REPO),  # test DAGs share code with the tests (tests.conformance)
        "AIRFLOW_CONN_MOKA_DEFAULT": moka_connection,
        "MOKA_SHARED_DIR": os.environ.get("MOKA_SHARED_DIR") or str(REPO.parent / "shared"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "16",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "10",  # the REST API under the conformance run
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "20",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(TEST_DAGS),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__SECRET_KEY": "moka-deployment-test-secret-key",
        "AIRFLOW__API_AUTH__JWT_SECRET": "moka-deployment-test-jwt-secret",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
    }


def _health(url: str) -> dict[str, str]:
    """Component -> status, from ``/api/v2/monitor/health`` (no login needed); {} if unreachable."""
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:
            body = json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return {}
    return {name: (value or {}).get("status") or "" for name, value in body.items()}


def start(
    base: Path,
    moka_connection: str,
    *,
    dag_folders: Iterable[Path] = (EXAMPLE_DAGS, TEST_DAGS),
    expected_dags: Iterable[str] = (),
    timeout: float = 300,
) -> Deployment:
    """Start the whole deployment under ``base``; returns once it is healthy and has the DAGs."""
    began = time.monotonic()
    home = base / "airflow-home"
    (home / "process-logs").mkdir(parents=True, exist_ok=True)
    postgres = start_postgres(home / "process-logs")
    port = free_port()
    env = airflow_env(home, postgres.url, port, moka_connection, dag_folders)
    deployment = Deployment(home, f"http://127.0.0.1:{port}", env, postgres)
    try:
        migrated = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=600
        )
        if migrated.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        for component in COMPONENTS:
            deployment.start_component(component)
        _wait_until_ready(deployment, set(expected_dags), began + timeout)
    except BaseException:
        deployment.stop()
        raise
    deployment.startup_seconds = time.monotonic() - began
    return deployment


def _wait_until_ready(deployment: Deployment, expected_dags: set[str], deadline: float) -> None:
    from tests.deployment.rest import AirflowRest

    health: dict[str, str] = {}
    while time.monotonic() < deadline:
        dead = [name for name, alive in deployment.alive().items() if not alive]
        if dead:
            raise RuntimeError(f"{dead} exited; see {deployment.home / 'process-logs'}")
        health = _health(deployment.url)
        if health and all(status == "healthy" for status in health.values()):
            break
        time.sleep(1)
    else:
        raise RuntimeError(f"not healthy in time: {health}")
    rest = AirflowRest(deployment.url, USERNAME, PASSWORD)
    while expected_dags - rest.dag_ids():
        if time.monotonic() > deadline:
            raise RuntimeError(f"DAGs not parsed in time: {sorted(expected_dags - rest.dag_ids())}")
        time.sleep(1)


def connection_with_links(moka_connection: str, links: dict[str, str] | None = None) -> str:
    """The ``moka`` connection URI with the deployment's link templates added."""
    return moka_connection + "&" + urlencode(LINK_TEMPLATES if links is None else links)


def main() -> None:
    """``make ui``: the deployment on the ``moka`` connection in the environment, until Ctrl-C."""
    connection = os.environ.get("AIRFLOW_CONN_MOKA_DEFAULT")
    if not connection:
        sys.exit('AIRFLOW_CONN_MOKA_DEFAULT is not set: eval "$(moka local env --dir DIR)" first')
    base = Path(tempfile.mkdtemp(prefix="moka-ui-"))
    print("starting PostgreSQL and Airflow (api-server, scheduler, dag-processor, triggerer)...", flush=True)
    deployment = start(base, connection_with_links(connection))
    print(
        f"Airflow UI: {deployment.url}/  login: {USERNAME} / {PASSWORD}  "
        f"(up in {deployment.startup_seconds:.1f} s; logs in {deployment.home / 'process-logs'})\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    # Ctrl-C and SIGTERM both stop it (SIGINT may arrive ignored when started in the background).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(deployment.alive().values()):
            time.sleep(1)
        print(f"a component exited: {deployment.alive()}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        deployment.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
