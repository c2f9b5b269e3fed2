"""Fixtures and helpers of the integration tests, on the session's `moka local` (``tests/conftest.py``):
both hooks behind one calling convention, Airflow homes on a once-migrated metadata database,
``airflow dags test`` runs, the fault proxy, and finding a DAG's jobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines.base import Phase
from moka_provider.engines.registry import adapter_for
from moka_provider.local.kubeconfig import connection_uri


@pytest.fixture
def unique_name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


class SyncOrAsync:
    """Runs MokaHook or MokaAsyncHook behind one calling convention, so a test is written once."""

    def __init__(self, style: str, conn_id: str = "moka_default", **kwargs: Any) -> None:
        from moka_provider.hooks.moka import MokaHook
        from moka_provider.hooks.moka_async import MokaAsyncHook

        self.style = style
        self.hook: Any = (MokaHook if style == "sync" else MokaAsyncHook)(moka_conn_id=conn_id, **kwargs)

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self.hook, operation)
        if self.style == "sync":
            return method

        def run(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run(method(*args, **kwargs))

        return run

    def watch(self, *args: Any, limit: int, **kwargs: Any) -> list[Any]:
        """The first ``limit`` events (fewer if the watch's timeout passes)."""
        if self.style == "sync":
            events = []
            for event in self.hook.watch(*args, **kwargs):
                events.append(event)
                if len(events) >= limit:
                    break
            return events

        async def collect() -> list[Any]:
            events = []
            async for event in self.hook.watch(*args, **kwargs):
                events.append(event)
                if len(events) >= limit:
                    break
            return events

        return asyncio.run(collect())

    def read_pod_log(self, *args: Any, **kwargs: Any) -> list[str]:
        if self.style == "sync":
            return list(self.hook.read_pod_log(*args, **kwargs))

        async def collect() -> list[str]:
            return [line async for line in self.hook.read_pod_log(*args, **kwargs)]

        return asyncio.run(collect())


@pytest.fixture(params=["sync", "async"])
def hook(request: pytest.FixtureRequest, moka_local: Any) -> SyncOrAsync:
    return SyncOrAsync(request.param)


def patch_as_admin(admin_api: Any, resource: Any, name: str, patch: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch a custom object in the jobs namespace as someone other than Airflow (the
    cluster admin): Airflow's Role has no ``patch``."""
    from kubernetes import client

    patched: dict[str, Any] = client.CustomObjectsApi(admin_api).patch_namespaced_custom_object(
        resource.group,
        resource.version,
        "moka",
        resource.plural,
        name,
        patch,
        _content_type="application/merge-patch+json",
    )
    return patched


def spark_app(name: str, **labels: str) -> dict[str, Any]:
    """A minimal valid SparkApplication."""
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "sparkVersion": "3.5.3",
            "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py",
            "driver": {"cores": 1, "memory": "512m"},
            "executor": {"instances": 1, "cores": 1, "memory": "512m"},
        },
    }


def manifests(path: Path) -> list[dict[str, Any]]:
    """The documents of a YAML file."""
    import yaml

    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="session")
def _fault_proxy_server(moka_local: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.integration.fault_proxy import FaultProxy, kubeconfig_through

    paths, state = moka_local
    proxy = FaultProxy(paths, state.server).start()
    kubeconfig = kubeconfig_through(proxy, paths.kubeconfig, tmp_path_factory.mktemp("proxy") / "kubeconfig")
    os.environ["AIRFLOW_CONN_MOKA_FAULTY"] = connection_uri(kubeconfig, state.namespace, paths.log_archive)
    yield proxy
    proxy.stop()


@pytest.fixture
def fault_proxy(_fault_proxy_server: Any) -> Any:
    """The fault proxy, with no faults pending and its request counts at zero."""
    _fault_proxy_server.faults.clear()
    _fault_proxy_server.seen.clear()
    return _fault_proxy_server


def listening_addresses(pid: int) -> set[str]:
    """The addresses the process and its children listen on (servers of ours: loopback only)."""
    import psutil

    family = psutil.Process(pid)
    addresses = set()
    for process in [family, *family.children(recursive=True)]:
        for connection in process.net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                addresses.add(connection.laddr.ip)
    return addresses


def process_alive(pid: int) -> bool:
    """The process exists and has not ended (a zombie, not yet reaped, counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _airflow_env(home: Path, dags_folder: Path, shared_dir: Path, **extra_env: str) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MOKA_SHARED_DIR": str(shared_dir),
        **extra_env,
    }


@pytest.fixture(scope="session")
def _migrated_database(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """An Airflow metadata database (SQLite), migrated once per test session."""
    home = tmp_path_factory.mktemp("airflow-migrated")
    env = _airflow_env(home, home / "dags", shared_dir)
    migrated = subprocess.run(
        [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    return home / "airflow.db"


AirflowHomes = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def airflow_homes(
    tmp_path_factory: pytest.TempPathFactory, shared_dir: Path, _migrated_database: Path
) -> AirflowHomes:
    """Makes Airflow homes: ``airflow_homes(dags_folder, **env)`` is the environment of a new home
    on ``dags_folder`` with a copy of the session's migrated metadata database (so that what one
    module's runs write is not seen by another's)."""

    def make(dags_folder: Path, **extra_env: str) -> dict[str, str]:
        home = tmp_path_factory.mktemp("airflow")
        shutil.copyfile(_migrated_database, home / "airflow.db")
        return _airflow_env(home, dags_folder, shared_dir, **extra_env)

    return make


def run_dag(
    airflow_env: dict[str, str], dag_id: str, *args: str, succeed: bool = True, timeout: float = 300
) -> str:
    """``airflow dags test DAG_ID [ARGS]``: its output, after asserting the run's final state."""
    result = subprocess.run(
        [AIRFLOW, "dags", "test", dag_id, *args],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    if succeed:
        assert result.returncode == 0 and "state=success" in output, output[-4000:]
    else:
        assert "state=failed" in output, output[-4000:]
    return output


# -- helpers of the operator tests (real Airflow, real jobs) ----------------------------------------

DAGS = Path(__file__).resolve().parent / "dags"


def airflow_with_links(airflow_homes: AirflowHomes, links: dict[str, str]) -> dict[str, str]:
    """An Airflow home on the test DAGs whose ``moka_default`` connection has these link templates."""
    from urllib.parse import urlencode

    connection = os.environ["AIRFLOW_CONN_MOKA_DEFAULT"] + "&" + urlencode(links)
    return airflow_homes(DAGS, AIRFLOW_CONN_MOKA_DEFAULT=connection)


def jobs_of(hook: SyncOrAsync, engine: str, dag_id: str) -> list[dict[str, Any]]:
    return hook.list(adapter_for(engine).resource, label_selector=f"moka.dev/dag-id={dag_id}")


def phase(engine: str, job: dict[str, Any]) -> Phase:
    return adapter_for(engine).status(job).phase


def clean(hook: SyncOrAsync, engine: str, dag_id: str) -> None:
    for job in jobs_of(hook, engine, dag_id):
        hook.delete(adapter_for(engine).resource, job["metadata"]["name"], missing_ok=True)


def xcom_of(output: str, task_id: str = "job") -> dict[str, Any]:
    """The XCom of the Moka task ``task_id``, as the DAG's report task printed it."""
    for line in output.splitlines():
        if "MOKA_XCOM=" in line:
            values: dict[str, Any] = json.loads(line.split("MOKA_XCOM=", 1)[1])
            if values.get("task") == task_id:
                return values
    raise AssertionError(f"no XCom of task {task_id} in: {output[-3000:]}")


def wait_for(what: str, check: Any, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def running_job(hook: SyncOrAsync, engine: str, dag_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((j for j in jobs_of(hook, engine, dag_id) if phase(engine, j) is Phase.RUNNING), None)

    return wait_for(f"a RUNNING job of {dag_id}", find)


@pytest.fixture
def background() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_dag(airflow_env: dict[str, str], dag_id: str, started: list[subprocess.Popen[str]]) -> Any:
    process = subprocess.Popen(
        [AIRFLOW, "dags", "test", dag_id],
        env=airflow_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    started.append(process)
    return process
