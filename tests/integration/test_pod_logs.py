"""Pods on the local Node run as processes; their logs go through the real API server's log proxy."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.local.kubelet import NODE_NAME
from tests.integration.conftest import SyncOrAsync, process_alive

SCRIPT = """
import sys, time
for i in range(3):
    print(f"early line {i}", flush=True)
time.sleep(2.5)
print("Pi is roughly 3.14", flush=True)
for stage in range(3):
    time.sleep(0.3)
    print(f"stage {stage} finished", flush=True)
sys.exit(int(sys.argv[1]))
"""
ALL_LINES = [
    *(f"early line {i}" for i in range(3)),
    "Pi is roughly 3.14",
    *(f"stage {i} finished" for i in range(3)),
]


def local_pod(name: str, container: str, command: list[str], cpu: str | None = None) -> dict[str, Any]:
    """A one-container pod bound to the local Node."""
    spec: dict[str, Any] = {"name": container, "image": "python", "command": command}
    if cpu is not None:
        spec["resources"] = {"requests": {"cpu": cpu}}
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": NODE_NAME, "restartPolicy": "Never", "containers": [spec]},
    }


@pytest.fixture
def run_pod(moka_local: Any, admin_api: Any, unique_name: str) -> Iterator[Callable[..., str]]:
    """Create a pod on the local Node running SCRIPT with the given exit code."""
    from kubernetes import client

    core = client.CoreV1Api(admin_api)
    created: list[str] = []

    def create(exit_code: int = 0, name: str = unique_name) -> str:
        core.create_namespaced_pod(
            "moka", local_pod(name, "driver", [sys.executable, "-c", SCRIPT, str(exit_code)])
        )
        created.append(name)
        return name

    yield create
    for name in created:
        try:
            core.delete_namespaced_pod(name, "moka", grace_period_seconds=0)
        except client.exceptions.ApiException as error:
            assert error.status == 404  # a test deleted it already


def wait_for_phase(admin_api: Any, name: str, phases: set[str], timeout: float = 30) -> Any:
    from kubernetes import client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = client.CoreV1Api(admin_api).read_namespaced_pod(name, "moka")
        if pod.status.phase in phases:
            return pod
        time.sleep(0.1)
    raise AssertionError(f"pod {name} not in {phases} after {timeout}s: {pod.status.phase}")


def test_follow_tail_and_since(hook: SyncOrAsync, admin_api: Any, run_pod: Callable[..., str]) -> None:
    pod = run_pod()
    wait_for_phase(admin_api, pod, {"Running"})
    followed = hook.read_pod_log(pod, follow=True)  # from the start until the process ends
    assert followed == ALL_LINES
    assert hook.read_pod_log(pod, tail_lines=2) == ALL_LINES[-2:]
    assert hook.read_pod_log(pod, since_seconds=2) == ALL_LINES[3:]  # the early lines are 2.5 s older
    assert hook.read_pod_log(pod, container="driver", tail_lines=1) == ALL_LINES[-1:]


def test_pod_phase_and_exit_code(admin_api: Any, run_pod: Callable[..., str], unique_name: str) -> None:
    ok = wait_for_phase(admin_api, run_pod(0, f"{unique_name}-ok"), {"Succeeded", "Failed"})
    failed = wait_for_phase(admin_api, run_pod(3, f"{unique_name}-bad"), {"Succeeded", "Failed"})
    assert ok.status.phase == "Succeeded"
    assert ok.status.container_statuses[0].state.terminated.exit_code == 0
    assert failed.status.phase == "Failed"
    terminated = failed.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")


def test_deleting_a_running_pod_stops_its_process(admin_api: Any, run_pod: Callable[..., str]) -> None:
    from kubernetes import client

    pod = run_pod()
    running = wait_for_phase(admin_api, pod, {"Running"})
    pid = int(running.status.container_statuses[0].container_id.removeprefix("moka://"))
    client.CoreV1Api(admin_api).delete_namespaced_pod(pod, "moka")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.1)
    assert not process_alive(pid)
    with pytest.raises(client.exceptions.ApiException) as gone:
        for _ in range(50):
            client.CoreV1Api(admin_api).read_namespaced_pod(pod, "moka")
            time.sleep(0.1)
    assert gone.value.status == 404


def test_unknown_container_is_a_readable_error(
    hook: SyncOrAsync, admin_api: Any, run_pod: Callable[..., str]
):
    pod = run_pod()
    with pytest.raises(MokaApiError) as error:
        hook.read_pod_log(pod, container="executor")
    assert error.value.status == 400
    assert "container executor is not valid" in str(error.value)


def test_cpu_requests_queue_pods_instead_of_oversubscribing(admin_api: Any, unique_name: str) -> None:
    """Two pods each asking for all the machine's cores: the second waits until the first is done."""
    from kubernetes import client

    core = client.CoreV1Api(admin_api)
    cores = str(os.cpu_count() or 1)
    names = [f"{unique_name}-first", f"{unique_name}-second"]
    for name in names:
        command = [sys.executable, "-c", "import time; time.sleep(2)"]
        core.create_namespaced_pod("moka", local_pod(name, "main", command, cpu=cores))
        time.sleep(0.05)  # creation order decides who goes first
    try:
        wait_for_phase(admin_api, names[0], {"Running"})
        assert core.read_namespaced_pod(names[1], "moka").status.phase == "Pending"
        first = wait_for_phase(admin_api, names[0], {"Succeeded"})
        second = wait_for_phase(admin_api, names[1], {"Succeeded"})
        first_end = first.status.container_statuses[0].state.terminated.finished_at
        second_start = second.status.container_statuses[0].state.terminated.started_at
        assert second_start >= first_end
    finally:
        for name in names:
            core.delete_namespaced_pod(name, "moka", grace_period_seconds=0)


def archived_log(pod: str) -> Path:
    """Where the ``moka_default`` connection's ``log_archive_url`` puts the pod's log."""
    from moka_provider.hooks.moka import MokaHook

    url = MokaHook().settings.link("log_archive", namespace="moka", name="unused", pod=pod)
    assert url is not None and url.startswith("file://")
    return Path(url2pathname(urlparse(url).path))


def wait_until_deleted(admin_api: Any, name: str, timeout: float = 15) -> None:
    from kubernetes import client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.CoreV1Api(admin_api).read_namespaced_pod(name, "moka")
        except client.exceptions.ApiException as error:
            assert error.status == 404
            return
        time.sleep(0.1)
    raise AssertionError(f"pod {name} still there after {timeout}s")


def test_finished_and_deleted_pod_leaves_its_log_in_the_archive(
    moka_local: Any, admin_api: Any, run_pod: Callable[..., str]
) -> None:
    from kubernetes import client

    paths, _ = moka_local
    pod = run_pod(3)
    archive = archived_log(pod)
    assert archive == paths.log_archive / "moka" / f"{pod}.log"
    wait_for_phase(admin_api, pod, {"Failed"})
    assert archive.read_text().splitlines() == ALL_LINES  # archived before the phase was reported
    client.CoreV1Api(admin_api).delete_namespaced_pod(pod, "moka")
    wait_until_deleted(admin_api, pod)
    assert archive.read_text().splitlines() == ALL_LINES  # the lines as printed: no timestamps


def test_pod_deleted_while_running_leaves_its_log_so_far(admin_api: Any, run_pod: Callable[..., str]) -> None:
    from kubernetes import client

    from moka_provider.hooks.moka import MokaHook

    pod = run_pod()
    wait_for_phase(admin_api, pod, {"Running"})
    deadline = time.monotonic() + 15
    while (logged := list(MokaHook().read_pod_log(pod))) != ALL_LINES[:3]:
        assert time.monotonic() < deadline, f"the early lines were not logged: {logged}"
        time.sleep(0.1)
    assert not archived_log(pod).exists()
    client.CoreV1Api(admin_api).delete_namespaced_pod(pod, "moka")  # in the 2.5 s pause after them
    wait_until_deleted(admin_api, pod)
    archived = archived_log(pod).read_text().splitlines()
    assert archived[:3] == ALL_LINES[:3]
    assert archived == ALL_LINES[: len(archived)]
    assert len(archived) < len(ALL_LINES)  # stopped before it finished
