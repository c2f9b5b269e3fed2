"""`moka local` itself: the console script, a second instance, and bad states."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from moka_provider.local import control_plane, processes
from moka_provider.local.paths import StatePaths
from tests.integration.conftest import process_alive

MOKA = [sys.executable, "-m", "moka_provider.local.cli"]


def moka(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MOKA, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def second_instance(tmp_path: Path, moka_local: Any) -> Any:
    """Another `moka local` beside the session's, in its own directory; always brought down."""
    yield tmp_path / "second"
    moka("local", "down", "--dir", str(tmp_path / "second"))


def test_cli_up_status_env_down(second_instance: Path, moka_local: Any) -> None:
    _session_paths, session_state = moka_local
    up = moka("local", "up", "--dir", str(second_instance))
    assert up.returncode == 0, up.stderr
    assert "control plane ready" in up.stdout and "kubeconfig (least privilege) written" in up.stdout

    status = moka("local", "status", "--dir", str(second_instance))
    assert status.returncode == 0
    for component in ("etcd", "kube-apiserver", "kubelet", "controllers"):
        assert f"{component}: running" in status.stdout
    assert ": ready" in status.stdout

    env = moka("local", "env", "--dir", str(second_instance))
    lines = dict(line.removeprefix("export ").split("=", 1) for line in env.stdout.splitlines())
    assert lines["KUBECONFIG"] == str(second_instance / "kubeconfig")
    assert lines["AIRFLOW_CONN_MOKA_DEFAULT"].startswith("'moka://?kube_config_path=")

    # The two instances do not collide: other ports, and each has its own objects.
    second = control_plane.LocalState.load(StatePaths(second_instance))
    assert second is not None and second.server != session_state.server
    script = (
        "from moka_provider.hooks.moka import MokaHook;"
        "from moka_provider.resources import SPARK_APPLICATION as S;"
        "print(len(MokaHook().list(S)))"
    )
    evaluated = subprocess.run(
        [
            "bash",
            "-c",
            f'eval "$({" ".join(MOKA)} local env --dir {second_instance})"; {sys.executable} -c "{script}"',
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AIRFLOW_HOME": str(second_instance / "airflow")},
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.strip().splitlines()[-1] == "0"

    again = moka("local", "up", "--dir", str(second_instance))
    assert again.returncode == 0 and "already up" in again.stdout

    pids = [processes.running_pid(StatePaths(second_instance).component(c)) for c in control_plane.COMPONENTS]
    down = moka("local", "down", "--dir", str(second_instance))
    assert down.returncode == 0
    for component in ("etcd", "kube-apiserver", "kubelet", "controllers"):
        assert f"{component}: stopped" in down.stdout
    assert all(pid and not process_alive(pid) for pid in pids)
    status = moka("local", "status", "--dir", str(second_instance))
    assert status.returncode == 1 and "etcd: not running" in status.stdout


def test_crashed_etcd_is_reported_and_down_still_cleans_up(second_instance: Path) -> None:
    paths = StatePaths(second_instance)
    control_plane.up(paths, log=lambda _: None)
    etcd_pid = processes.running_pid(paths.component("etcd"))
    assert etcd_pid
    os.kill(etcd_pid, signal.SIGKILL)
    time.sleep(0.5)
    status = moka("local", "status", "--dir", str(second_instance))
    assert status.returncode == 1
    assert (
        f"etcd: NOT running (pid {etcd_pid} exited; see {paths.component('etcd').log_file})" in status.stdout
    )
    down = moka("local", "down", "--dir", str(second_instance))
    assert "kube-apiserver: stopped" in down.stdout or "kube-apiserver: killed" in down.stdout
    assert "etcd: not running (removed stale pid file" in down.stdout
    assert not list(paths.run.glob("*.pid"))
    # and it comes back up from the same directory, data included
    again = moka("local", "up", "--dir", str(second_instance))
    assert again.returncode == 0, again.stderr


def test_stale_pid_file_of_another_process_is_never_signalled(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path / "stale")
    paths.create()
    innocent = subprocess.Popen(["sleep", "30"])
    try:
        paths.component("etcd").pid_file.write_text(f"{innocent.pid}\netcd\n")  # pid reused by something else
        assert processes.running_pid(paths.component("etcd")) is None
        message = processes.stop(paths.component("etcd"))
        assert "stale pid file" in message
        assert innocent.poll() is None, "the unrelated process was killed"
    finally:
        innocent.kill()
        innocent.wait()


def test_taken_port_is_a_clear_error(second_instance: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = moka("local", "up", "--dir", str(second_instance), "--port", str(port))
    assert result.returncode == 2
    assert f"port {port} (--port) is taken on 127.0.0.1" in result.stderr
    assert not list((second_instance / "run").glob("*.pid"))


def test_missing_binaries_say_what_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": "/nonexistent", "MOKA_CACHE_DIR": str(tmp_path / "empty-cache")}
    result = moka("local", "up", "--dir", str(tmp_path / "nobin"), env=env)
    assert result.returncode == 2
    assert "`moka local install`" in result.stderr
    assert "apt-get install etcd-server" in result.stderr
    assert "moka local up --kubeconfig PATH" in result.stderr


def test_env_before_up_is_a_clear_error(tmp_path: Path) -> None:
    result = moka("local", "env", "--dir", str(tmp_path / "never"))
    assert result.returncode == 2 and "run `moka local up` first" in result.stderr


def test_attach_to_an_existing_cluster(moka_local: Any, tmp_path: Path) -> None:
    """`up --kubeconfig` prepares a cluster it did not start (here: the session's, as admin)."""
    session_paths, session_state = moka_local
    attached_dir = tmp_path / "attached"
    result = moka(
        "local",
        "up",
        "--dir",
        str(attached_dir),
        "--kubeconfig",
        str(session_paths.admin_kubeconfig),
        "--namespace",
        "moka-attached",
    )
    assert result.returncode == 0, result.stderr
    assert f"attached to {session_state.server}" in result.stdout
    status = moka("local", "status", "--dir", str(attached_dir))
    assert status.returncode == 0 and "reachable" in status.stdout
    down = moka("local", "down", "--dir", str(attached_dir))
    assert "nothing of it was started here" in down.stdout
    assert processes.running_pid(session_paths.component("kube-apiserver")), (
        "down must not stop a cluster it attached to"
    )


def test_down_stops_the_processes_of_running_pods(second_instance: Path) -> None:
    from kubernetes import client, config

    from moka_provider.local.kubelet import NODE_NAME

    paths = StatePaths(second_instance)
    control_plane.up(paths, log=lambda _: None)
    api = config.new_client_from_config(config_file=str(paths.admin_kubeconfig))
    core = client.CoreV1Api(api)
    command = [sys.executable, "-c", "import time; time.sleep(120)"]
    core.create_namespaced_pod(
        "moka",
        {
            "metadata": {"name": "long"},
            "spec": {
                "nodeName": NODE_NAME,
                "containers": [{"name": "main", "image": "x", "command": command}],
            },
        },
    )
    deadline = time.monotonic() + 30
    while not (core.read_namespaced_pod("long", "moka").status.container_statuses or []):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    pid = int(
        core.read_namespaced_pod("long", "moka").status.container_statuses[0].container_id.split("//")[1]
    )
    api.close()
    down = moka("local", "down", "--dir", str(second_instance))
    assert "stopped the processes of 1 container(s) still running" in down.stdout
    assert not process_alive(pid)
