"""RayJobs on `moka local` run for real: the local controller and kubelet with a Ray head and submitter."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.local import control_plane, processes
from moka_provider.local.controllers.kube_names import ALPHANUMS
from moka_provider.resources import RAY_JOB
from tests.conftest import REPO
from tests.integration.conftest import SyncOrAsync, listening_addresses, patch_as_admin, process_alive

WORKLOAD = REPO / "dags_examples" / "workloads" / "ray_job.py"
FINISHED = {"Complete", "Failed", "ValidationFailed"}


def ray_job(name: str, *arguments: str, **spec: Any) -> dict[str, Any]:
    """A RayJob running the example workload on a one-CPU head (a KubeRay sample's shape)."""
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name},
        "spec": {
            "entrypoint": " ".join(["python", str(WORKLOAD), *arguments]),
            "runtimeEnvYAML": "env_vars:\n  COUNTER_NAME: test_counter\n",
            "rayClusterSpec": {
                "rayVersion": "2.52.0",
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "ray-head",
                                    "image": "rayproject/ray:2.52.0",
                                    "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}},
                                }
                            ]
                        }
                    },
                },
            },
            **spec,
        },
    }


def deployment_status(job: dict[str, Any]) -> str:
    return str((job.get("status") or {}).get("jobDeploymentStatus") or "")


@pytest.fixture
def ray(moka_local: Any) -> SyncOrAsync:
    return SyncOrAsync("sync")


@pytest.fixture
def created(ray: SyncOrAsync, admin_api: Any) -> Iterator[Callable[[dict[str, Any]], str]]:
    """Create RayJobs; at the end delete them and wait until their pods are gone (a head holds CPUs
    of the local Node that the next test's head needs)."""
    names: list[str] = []

    def create(manifest: dict[str, Any]) -> str:
        ray.create(RAY_JOB, manifest)
        names.append(manifest["metadata"]["name"])
        return str(manifest["metadata"]["name"])

    yield create
    for name in names:
        _delete_and_wait(ray, admin_api, name)


@pytest.fixture
def track(ray: SyncOrAsync) -> Callable[[str], list[tuple[str, str]]]:
    """Record every (jobDeploymentStatus, jobStatus) a RayJob goes through, from a background watch."""

    def start(name: str) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []

        def run() -> None:
            for event in ray.hook.watch(RAY_JOB, name=name, timeout=150):
                status = event.object.get("status") or {}
                pair = (status.get("jobDeploymentStatus") or "", status.get("jobStatus") or "")
                if not seen or seen[-1] != pair:
                    seen.append(pair)
                if event.type == "DELETED" or (
                    pair[0] in FINISHED and event.object.get("status", {}).get("endTime")
                ):
                    return

        threading.Thread(target=run, daemon=True).start()
        return seen

    return start


def wait_for(
    ray: SyncOrAsync, name: str, check: Callable[[dict[str, Any]], bool], timeout: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = ray.get(RAY_JOB, name)
        if check(job):
            return job
        assert time.monotonic() < deadline, f"{name} still {job.get('status')} after {timeout}s"
        time.sleep(0.2)


def in_states(*states: str) -> Callable[[dict[str, Any]], bool]:
    return lambda job: deployment_status(job) in states


def test_ray_job_completes_with_its_output_in_the_submitter_log(
    ray: SyncOrAsync,
    admin_api: Any,
    unique_name: str,
    created: Callable[[dict[str, Any]], str],
    track: Callable[[str], list[tuple[str, str]]],
) -> None:
    created(ray_job(unique_name, "5"))
    seen = track(unique_name)
    job = wait_for(ray, unique_name, in_states(*FINISHED))
    status = job["status"]
    assert deployment_status(job) == "Complete", f"{status.get('reason')}: {status.get('message')}"
    assert status["jobStatus"] == "SUCCEEDED" and status["message"] == "Job finished successfully."
    assert status["jobId"].startswith(f"{unique_name}-")
    assert re.fullmatch(
        rf"{unique_name}-[{ALPHANUMS}]{{5}}", status["rayClusterName"]
    )  # GenerateRayClusterName
    assert status["dashboardURL"].startswith("127.0.0.1:")
    assert status["startTime"] <= status["endTime"]
    assert status["rayJobInfo"]["startTime"] <= status["rayJobInfo"]["endTime"]
    assert (status["succeeded"], status["failed"]) == (1, 0)
    # the job's output, through the API server's log proxy, with Airflow's least-privilege identity
    [submitter] = _pods(admin_api, unique_name, f"job-name={unique_name}")
    assert re.fullmatch(rf"{unique_name}-[{ALPHANUMS}]{{5}}", submitter)  # the Job controller's pod
    labels = _pod(admin_api, submitter).metadata.labels
    assert labels["batch.kubernetes.io/job-name"] == unique_name
    assert labels["controller-uid"] == labels["batch.kubernetes.io/controller-uid"]
    log = ray.read_pod_log(submitter)
    assert "sum of squares below 5 is 30 (computed by 5 Ray tasks)" in log, log[-20:]
    # the head: KubeRay's labels, the CPUs it asked for, and still up (no shutdownAfterJobFinishes)
    head = _pod(admin_api, status["rayClusterStatus"]["head"]["podName"])
    assert re.fullmatch(rf"{status['rayClusterName']}-head-[{ALPHANUMS}]{{5}}", head.metadata.name)
    assert head.status.phase == "Running"
    assert head.metadata.labels["ray.io/cluster"] == status["rayClusterName"]
    assert head.metadata.labels["ray.io/node-type"] == "head"
    assert head.metadata.labels["ray.io/is-ray-node"] == "yes"
    assert head.spec.containers[0].resources.requests["cpu"] == "1"
    assert "--num-cpus=1" in head.spec.containers[0].command
    _assert_reachable_through_loopback_only(
        int(head.status.container_statuses[0].container_id.split("//")[1])
    )
    # Ray itself ran one job, under the RayJob's id and with its runtime environment
    jobs = _dashboard(status["dashboardURL"], "/api/jobs/")
    assert [(j["submission_id"], j["status"]) for j in jobs] == [(status["jobId"], "SUCCEEDED")]
    assert jobs[0]["runtime_env"]["env_vars"] == {"COUNTER_NAME": "test_counter"}
    # KubeRay's Events on the RayJob (recorded through events.k8s.io/v1)
    events = client_events(admin_api, unique_name)
    assert ("Normal", "CreatedRayCluster", f"Created RayCluster moka/{status['rayClusterName']}") in events
    assert ("Normal", "CreatedRayJobSubmitter", f"Created Kubernetes Job moka/{unique_name}") in events
    time.sleep(0.3)
    assert _states(seen) == ["Initializing", "Running", "Complete"], seen
    assert ("Running", "RUNNING") in seen and seen[-1] == ("Complete", "SUCCEEDED"), seen


def test_failing_job_is_failed_with_rays_message_and_its_cluster_shut_down(
    ray: SyncOrAsync, admin_api: Any, unique_name: str, created: Callable[[dict[str, Any]], str]
) -> None:
    created(ray_job(unique_name, "2", "--fail", shutdownAfterJobFinishes=True, ttlSecondsAfterFinished=2))
    job = wait_for(ray, unique_name, in_states(*FINISHED))
    status = job["status"]
    assert deployment_status(job) == "Failed" and status["reason"] == "AppFailed", status
    assert status["jobStatus"] == "FAILED" and status["failed"] == 1
    assert status["message"].startswith("Job entrypoint command failed with exit code 1")
    assert "RuntimeError: failing on purpose (--fail)" in status["message"]
    head = status["rayClusterStatus"]["head"]["podName"]
    assert head in _pods(admin_api, unique_name), "the cluster went before ttlSecondsAfterFinished"
    deadline = time.monotonic() + 30
    while head in _pods(admin_api, unique_name):
        assert time.monotonic() < deadline, "shutdownAfterJobFinishes did not remove the head pod"
        time.sleep(0.2)
    # the submitter stays, with the job's log (KubeRay keeps the submitter Job)
    [submitter] = _pods(admin_api, unique_name, f"job-name={unique_name}")
    assert "RuntimeError: failing on purpose (--fail)" in ray.read_pod_log(submitter)


def test_backoff_limit_retries_on_a_fresh_cluster_then_fails(
    ray: SyncOrAsync,
    unique_name: str,
    created: Callable[[dict[str, Any]], str],
    track: Callable[[str], list[tuple[str, str]]],
) -> None:
    created(ray_job(unique_name, "1", "--fail", backoffLimit=1))
    seen = track(unique_name)
    clusters: set[str] = set()
    job_ids: set[str] = set()

    def finished(job: dict[str, Any]) -> bool:  # noting each attempt's cluster and job id on the way
        if name := (job.get("status") or {}).get("rayClusterName"):
            clusters.add(name)
        if job_id := (job.get("status") or {}).get("jobId"):
            job_ids.add(job_id)
        return deployment_status(job) in FINISHED

    job = wait_for(ray, unique_name, finished)
    status = job["status"]
    assert deployment_status(job) == "Failed" and status["reason"] == "AppFailed", status
    assert (status["failed"], status["succeeded"]) == (2, 0)
    assert len(clusters) == 2, f"each attempt has a cluster of its own: {clusters}"
    assert len(job_ids) == 2, f"each attempt has a job id of its own: {job_ids}"
    time.sleep(0.3)
    assert _states(seen) == ["Initializing", "Running", "Retrying", "Initializing", "Running", "Failed"], seen


def test_active_deadline_stops_the_job(
    ray: SyncOrAsync, unique_name: str, created: Callable[[dict[str, Any]], str]
) -> None:
    # 30 s: the job must be running before its deadline, and a busy machine takes 15 s or more to
    # start a Ray cluster and submit to it.
    created(ray_job(unique_name, "2", "--sleep", "120", activeDeadlineSeconds=30, backoffLimit=2))
    job = wait_for(ray, unique_name, lambda j: (j.get("status") or {}).get("jobStatus") == "RUNNING")
    driver = _driver_pid(job)
    assert process_alive(driver)
    job = wait_for(ray, unique_name, in_states(*FINISHED))
    status = job["status"]
    assert deployment_status(job) == "Failed" and status["reason"] == "DeadlineExceeded", status
    assert "ActiveDeadlineSeconds: 30" in status["message"]
    assert status["failed"] == 1, "a deadline is not retried"
    deadline = time.monotonic() + 10
    while process_alive(driver):
        assert time.monotonic() < deadline, "the job's driver outlived the deadline"
        time.sleep(0.2)
    jobs = _dashboard(status["dashboardURL"], f"/api/jobs/{status['jobId']}")
    assert jobs["status"] == "STOPPED"


def test_deleting_a_running_job_stops_its_processes_and_removes_its_pods(
    ray: SyncOrAsync, admin_api: Any, unique_name: str, created: Callable[[dict[str, Any]], str]
) -> None:
    created(ray_job(unique_name, "2", "--sleep", "120"))
    job = wait_for(ray, unique_name, lambda j: (j.get("status") or {}).get("jobStatus") == "RUNNING")
    pods = _pods(admin_api, unique_name)
    assert len(pods) == 2, pods  # the head and the submitter
    shims = {
        int(_pod(admin_api, pod).status.container_statuses[0].container_id.removeprefix("moka://"))
        for pod in pods
    }
    pids = _descendants(shims)
    driver = _driver_pid(job)
    assert driver in pids and len(pids) > 6, "expected the head's Ray processes, the driver, the submitter"
    ray.delete(RAY_JOB, unique_name)
    deadline = time.monotonic() + 30
    while {pid for pid in pids if process_alive(pid)} or _pods(admin_api, unique_name):
        assert time.monotonic() < deadline, (
            f"still running: {[_cmdline(pid) for pid in pids if process_alive(pid)]}, pods: {_pods(admin_api, unique_name)}"
        )
        time.sleep(0.2)


def test_restarted_controller_picks_up_without_a_second_run(
    ray: SyncOrAsync,
    admin_api: Any,
    moka_local: Any,
    unique_name: str,
    created: Callable[[dict[str, Any]], str],
) -> None:
    paths, state = moka_local
    created(ray_job(unique_name, "2", "--sleep", "3"))
    job = wait_for(ray, unique_name, in_states("Running"))
    uids = {pod: _pod(admin_api, pod).metadata.uid for pod in _pods(admin_api, unique_name)}
    controllers = processes.running_pid(paths.component("controllers"))
    assert controllers
    os.kill(controllers, signal.SIGKILL)
    while processes.running_pid(paths.component("controllers")):
        time.sleep(0.05)
    control_plane.start_controllers(paths, state)
    done = wait_for(ray, unique_name, in_states(*FINISHED))
    assert deployment_status(done) == "Complete", done["status"]
    assert done["status"]["jobId"] == job["status"]["jobId"]
    assert done["status"]["rayClusterName"] == job["status"]["rayClusterName"]
    assert {pod: _pod(admin_api, pod).metadata.uid for pod in _pods(admin_api, unique_name)} == uids
    jobs = _dashboard(done["status"]["dashboardURL"], "/api/jobs/")
    assert [j["submission_id"] for j in jobs] == [job["status"]["jobId"]], "the job was submitted twice"


def test_missing_engine_fails_the_submission_with_what_to_install(
    ray: SyncOrAsync,
    admin_api: Any,
    moka_local: Any,
    unique_name: str,
    created: Callable[[dict[str, Any]], str],
    tmp_path: Path,
) -> None:
    paths, state = moka_local
    processes.stop(paths.component("controllers"))
    control_plane.start_controllers(
        paths, state, env={**os.environ, "MOKA_CACHE_DIR": str(tmp_path / "no-engines")}
    )
    try:
        created(ray_job(unique_name, "1"))
        job = wait_for(ray, unique_name, in_states(*FINISHED), timeout=60)
    finally:
        processes.stop(paths.component("controllers"))
        control_plane.start_controllers(paths, state)
    status = job["status"]
    assert deployment_status(job) == "Failed" and status["reason"] == "SubmissionFailed", status
    assert "run `moka local install --engine ray`" in status["message"]
    assert _pods(admin_api, unique_name) == []


def test_specs_moka_local_cannot_run_are_validation_failed(
    ray: SyncOrAsync, admin_api: Any, unique_name: str, created: Callable[[dict[str, Any]], str]
) -> None:
    selector = ray_job(unique_name, clusterSelector={"ray.io/cluster": "shared"})
    del selector["spec"]["rayClusterSpec"]
    created(selector)
    job = wait_for(ray, unique_name, in_states(*FINISHED), timeout=30)
    assert deployment_status(job) == "ValidationFailed" and job["status"]["reason"] == "ValidationFailed"
    assert (
        "clusterSelector" in job["status"]["message"]
        and "not supported by moka local" in job["status"]["message"]
    )
    assert _pods(admin_api, unique_name) == []


def test_suspended_job_starts_nothing_until_resumed(
    ray: SyncOrAsync, admin_api: Any, unique_name: str, created: Callable[[dict[str, Any]], str]
) -> None:
    created(ray_job(unique_name, "1", suspend=True))
    job = wait_for(ray, unique_name, in_states("Suspended"), timeout=30)
    assert "jobId" not in job["status"] and _pods(admin_api, unique_name) == []
    patch_as_admin(admin_api, RAY_JOB, unique_name, {"spec": {"suspend": False}})
    job = wait_for(ray, unique_name, in_states("Initializing", "Running"), timeout=30)
    assert job["status"]["jobId"].startswith(f"{unique_name}-")


def _states(seen: list[tuple[str, str]]) -> list[str]:
    """The deployment statuses in the order seen, each once per stay."""
    states = [state for state, _ in seen if state]
    return [state for i, state in enumerate(states) if i == 0 or states[i - 1] != state]


def _driver_pid(job: dict[str, Any], timeout: float = 20) -> int:
    """The pid of the job's driver, once it connected to the cluster (Ray knows it from then on)."""
    status = job["status"]
    deadline = time.monotonic() + timeout
    while not (info := _dashboard(status["dashboardURL"], f"/api/jobs/{status['jobId']}")["driver_info"]):
        assert time.monotonic() < deadline, "the job's driver did not connect"
        time.sleep(0.2)
    return int(info["pid"])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
    except OSError:
        return f"{pid} (gone)"


def _pod(admin_api: Any, name: str) -> Any:
    from kubernetes import client

    return client.CoreV1Api(admin_api).read_namespaced_pod(name, "moka")


def _pods(admin_api: Any, name: str, selector: str = "") -> list[str]:
    from kubernetes import client

    selector = ",".join(filter(None, [f"ray.io/originated-from-cr-name={name}", selector]))
    pods = client.CoreV1Api(admin_api).list_namespaced_pod("moka", label_selector=selector)
    return sorted(pod.metadata.name for pod in pods.items)


def client_events(admin_api: Any, name: str) -> set[tuple[str, str, str]]:
    """(type, reason, message) of the Events on the RayJob."""
    from kubernetes import client

    selector = f"involvedObject.kind=RayJob,involvedObject.name={name}"
    events = client.CoreV1Api(admin_api).list_namespaced_event("moka", field_selector=selector).items
    return {(e.type, e.reason, e.message) for e in events}


def _dashboard(url: str, path: str) -> Any:
    with urllib.request.urlopen(f"http://{url}{path}", timeout=5) as response:
        return json.load(response)


def _delete_and_wait(ray: SyncOrAsync, admin_api: Any, name: str, timeout: float = 30) -> None:
    """Delete the RayJob and wait until its pods are gone (their CPUs free for the next test)."""
    ray.delete(RAY_JOB, name, missing_ok=True)
    deadline = time.monotonic() + timeout
    while _pods(admin_api, name):
        assert time.monotonic() < deadline, f"pods of {name} still there: {_pods(admin_api, name)}"
        time.sleep(0.2)


def _descendants(pids: set[int]) -> set[int]:
    """``pids`` and every process they started (found while the tree is still whole)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, added = set(pids), True
    while added:
        new = {pid for pid, parent in parents.items() if parent in found and pid not in found}
        found |= new
        added = bool(new)
    return found


def _assert_reachable_through_loopback_only(pid: int) -> None:
    """Ray's servers sit in a network namespace with only a loopback; on this machine's network
    the head listens on 127.0.0.1 alone (the forwarded dashboard)."""
    import psutil

    host = os.readlink("/proc/self/ns/net")
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    isolated = [p for p in tree if os.readlink(f"/proc/{p.pid}/ns/net") != host]
    assert any(p.name() == "gcs_server" for p in isolated), [p.name() for p in tree]
    for process in isolated:
        with open(f"/proc/{process.pid}/net/dev") as devices:
            interfaces = {line.split(":")[0].strip() for line in devices.readlines()[2:]}
        assert interfaces == {"lo"}, (process.name(), interfaces)
    on_host = set().union(*(listening_addresses(p.pid) for p in tree if p not in isolated))
    assert on_host and on_host <= {"127.0.0.1", "::1"}, on_host
