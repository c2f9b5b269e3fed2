"""Test-session fixtures shared by every test folder: the reference data, and one real `moka local`
control plane (etcd + kube-apiserver, the local operators and kubelet) for the session.

The hooks under test use the least-privilege kubeconfig that `moka local up` writes (the
service account bound to the shipped Role), through ``moka`` connections given as
``AIRFLOW_CONN_*`` environment variables, exactly as a deployment would.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.local import control_plane
from moka_provider.local.kubeconfig import connection_uri
from moka_provider.local.paths import StatePaths

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("moka-local")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist, the deployment tests (``tests/deployment``, which share one deployment)
    go to one worker as a single unit of work; every other test goes to whichever worker is free.

    (xdist's own ``--dist loadgroup`` does not group on pytest 9: it renames ``Item._nodeid``,
    which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class DeploymentInOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests/deployment" if nodeid.startswith("tests/deployment/") else nodeid

    return DeploymentInOneWorker(config, log)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared reference data (official CRDs, upstream example manifests)."""
    path = Path(os.environ.get("MOKA_SHARED_DIR") or REPO.parent / "shared")
    if not (path / "crds").is_dir():
        pytest.skip(f"shared reference data not found at {path} (set MOKA_SHARED_DIR)")
    return path


@pytest.fixture(scope="session")
def moka_local(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StatePaths, control_plane.LocalState]]:
    paths = StatePaths(tmp_path_factory.mktemp("moka-local"))
    state = control_plane.up(paths, log=log.info)
    os.environ["AIRFLOW_CONN_MOKA_DEFAULT"] = connection_uri(
        paths.kubeconfig, state.namespace, paths.log_archive, log_server_port=state.log_server_port
    )
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    yield paths, state
    try:
        assert_the_role_refused_nothing(paths, state.namespace)
    finally:
        control_plane.down(paths, log=log.info)


def assert_the_role_refused_nothing(paths: StatePaths, namespace: str) -> None:
    """Every operator, sensor, trigger and hook path the session ran did so under the shipped Role:
    the API server's audit log has no request of Airflow's identity in the jobs namespace that was
    refused (403). The tests that check refusals do so in other namespaces."""
    from moka_provider.local.audit import audited_requests
    from moka_provider.local.bootstrap import AIRFLOW_SERVICE_ACCOUNT

    airflow = f"system:serviceaccount:{namespace}:{AIRFLOW_SERVICE_ACCOUNT}"
    requests = [request for request in audited_requests(paths.audit_log) if request.user == airflow]
    refused = [f"{r.verb} {r.uri}" for r in requests if r.status == 403 and r.namespace == namespace]
    assert requests, f"no request of {airflow} in {paths.audit_log}: is the audit log written?"
    assert not refused, f"the shipped Role refused {len(refused)} request(s) of Airflow: {refused[:10]}"


@pytest.fixture(scope="session")
def admin_api(moka_local: tuple[StatePaths, control_plane.LocalState]) -> Iterator[Any]:
    """A cluster-admin API client, for arranging what Airflow's identity may not (pods, events)."""
    from kubernetes import config

    paths, _ = moka_local
    client = config.new_client_from_config(config_file=str(paths.admin_kubeconfig))
    with client:
        yield client
