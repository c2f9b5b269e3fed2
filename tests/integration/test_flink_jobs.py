"""FlinkDeployment and FlinkSessionJob run for real on `moka local`: PyFlink jobs, their status, their pods.

The controllers play the Flink operator (``moka_provider/local/controllers/flink.py``); these tests
drive them only through the least-privilege ``moka_default`` connection, as a DAG would, and look at
pods and processes with the admin client. Each job is a real Flink mini cluster (~10 s on 2 cores).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from moka_provider.local import control_plane, engines, processes
from moka_provider.local.control_plane import LocalState
from moka_provider.local.controllers.flink import PYTHON_DRIVER
from moka_provider.local.controllers.kube_names import ALPHANUMS
from moka_provider.local.install import cached_apiserver, find_binary
from moka_provider.local.kubeconfig import connection_uri
from moka_provider.local.paths import StatePaths
from moka_provider.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from tests.integration.conftest import listening_addresses, process_alive

pytestmark = pytest.mark.skipif(
    engines.missing("flink") is not None, reason="run `moka local install --engine flink` first"
)

WORKLOAD = Path(__file__).resolve().parents[2] / "dags_examples" / "workloads" / "pyflink_wordcount.py"
JOB_TIMEOUT = 120.0


def deployment(name: str, job: dict[str, Any] | None, **conf: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "image": "flink:2.2",
        "flinkVersion": "v2_0",
        "flinkConfiguration": {"execution.runtime-mode": "BATCH", **conf},
        "serviceAccount": "flink",
        "jobManager": {"resource": {"memory": "1024m", "cpu": 1}},
        "taskManager": {"resource": {"memory": "1024m", "cpu": 1}},
    }
    if job is not None:
        spec["job"] = {"upgradeMode": "stateless", **job}
    return {
        "apiVersion": FLINK_DEPLOYMENT.api_version,
        "kind": FLINK_DEPLOYMENT.kind,
        "metadata": {"name": name},
        "spec": spec,
    }


def session_job(name: str, deployment_name: str, *args: str) -> dict[str, Any]:
    return {
        "apiVersion": FLINK_SESSION_JOB.api_version,
        "kind": FLINK_SESSION_JOB.kind,
        "metadata": {"name": name},
        "spec": {
            "deploymentName": deployment_name,
            "job": {"jarURI": f"local://{WORKLOAD}", "args": list(args), "parallelism": 1},
        },
    }


@pytest.fixture
def hook(moka_local: Any) -> Any:
    from moka_provider.hooks.moka import MokaHook

    return MokaHook()


@pytest.fixture
def core(admin_api: Any) -> Any:
    from kubernetes import client

    return client.CoreV1Api(admin_api)


@pytest.fixture
def cleanup(hook: Any, core: Any) -> Iterator[list[tuple[Any, str]]]:
    """Resources to delete after the test; waits for their pods (and processes) to go."""
    created: list[tuple[Any, str]] = []
    yield created
    for resource, name in created:
        hook.delete(resource, name, missing_ok=True)

    def leftovers() -> list[str]:
        pods = [pod.metadata.name for pod in core.list_namespaced_pod("moka").items]
        return [pod for pod in pods if any(pod.startswith(f"{name}-") for _, name in created)]

    wait_for(lambda: not leftovers(), 30, "the deleted resources' pods to go")


def status_of(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("status") or {}


def job_state(obj: dict[str, Any]) -> str | None:
    return status_of(obj).get("jobStatus", {}).get("state")


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def follow(
    hook: Any, resource: Any, created: dict[str, Any], until: Callable[[dict[str, Any]], bool]
) -> list:
    """Every status the object goes through (from a watch) until ``until`` holds."""
    seen = []
    for event in hook.watch(
        resource,
        name=created["metadata"]["name"],
        resource_version=created["metadata"]["resourceVersion"],
        timeout=JOB_TIMEOUT,
    ):
        seen.append(event.object)
        if until(event.object):
            return seen
    raise AssertionError(f"{created['metadata']['name']} never got there; last status {status_of(seen[-1])}")


def distinct(values: list[Any]) -> list[Any]:
    return [
        value for i, value in enumerate(values) if value is not None and (i == 0 or values[i - 1] != value)
    ]


def jobmanager(core: Any, deployment: str) -> Any:
    """The JobManager pod of a FlinkDeployment, found by Flink's JobManager labels (or None)."""
    selector = f"app={deployment},component=jobmanager,type=flink-native-kubernetes"
    pods = core.list_namespaced_pod("moka", label_selector=selector).items
    return pods[0] if pods else None


def process_tree(pid: int) -> set[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo += children.get(current, [])
    return tree


def argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def test_application_job_finishes_and_its_jobmanager_expires(
    hook: Any, core: Any, unique_name: str, cleanup: list
) -> None:
    manifest = deployment(
        unique_name,
        {"jarURI": f"local://{WORKLOAD}", "parallelism": 8},
        **{"kubernetes.operator.jm-deployment.shutdown-ttl": "5 s"},
    )
    created = hook.create(FLINK_DEPLOYMENT, manifest)
    cleanup.append((FLINK_DEPLOYMENT, unique_name))
    seen = follow(hook, FLINK_DEPLOYMENT, created, lambda obj: job_state(obj) == "FINISHED")

    assert distinct([status_of(o).get("lifecycleState") for o in seen]) == ["CREATED", "DEPLOYED", "STABLE"]
    assert distinct([status_of(o).get("jobManagerDeploymentStatus") for o in seen]) == [
        "DEPLOYING",
        "DEPLOYED_NOT_READY",
        "READY",
    ]
    assert distinct([job_state(o) for o in seen]) == ["CREATED", "RUNNING", "FINISHED"]
    job_status = status_of(seen[-1])["jobStatus"]
    assert re.fullmatch(r"[0-9a-f]{32}", job_status["jobId"])
    assert job_status["jobName"] == unique_name
    assert int(job_status["startTime"]) <= int(job_status["updateTime"])
    assert not status_of(seen[-1]).get("error")

    # The pod of the Deployment Flink creates: <name>-<pod-template-hash>-<5 generated characters>.
    pod = jobmanager(core, unique_name)
    template_hash = pod.metadata.labels["pod-template-hash"]
    assert pod.metadata.labels == {
        "app": unique_name,
        "component": "jobmanager",
        "type": "flink-native-kubernetes",
        "pod-template-hash": template_hash,
    }
    assert re.fullmatch(rf"{unique_name}-[{ALPHANUMS}]+-[{ALPHANUMS}]{{5}}", pod.metadata.name)
    assert pod.metadata.name.startswith(f"{unique_name}-{template_hash}-")
    cores = str(min(8, os.cpu_count() or 1))
    assert pod.spec.containers[0].resources.requests["cpu"] == cores

    log = hook.read_pod_log(pod.metadata.name)
    lines = list(log)
    assert f"word count: runtime mode BATCH, parallelism {cores}" in lines
    assert f"Job has been submitted with JobID {job_status['jobId']}" in lines  # the id Flink used
    assert "to: 3" in lines and "word count done: 20 distinct words" in lines
    # the operator's Events on the FlinkDeployment (EventRecorder#triggerEvent)
    selector = f"involvedObject.kind=FlinkDeployment,involvedObject.name={unique_name}"
    events = {
        (e.type, e.reason, e.source.component, e.message)
        for e in core.list_namespaced_event("moka", field_selector=selector).items
    }
    assert ("Normal", "Submit", "JobManagerDeployment", "Starting deployment") in events, events
    assert ("Normal", "JobStatusChanged", "Job", "Job status changed from CREATED to RUNNING") in events
    assert ("Normal", "JobStatusChanged", "Job", "Job status changed from RUNNING to FINISHED") in events

    # After the shutdown TTL the JobManager goes; the job's result stays.
    expired = wait_for(
        lambda: (
            (obj := hook.get(FLINK_DEPLOYMENT, unique_name))
            and status_of(obj).get("jobManagerDeploymentStatus") == "MISSING"
            and obj
        ),
        20,
        "jobManagerDeploymentStatus MISSING",
    )
    assert (
        job_state(expired) == "FINISHED" and status_of(expired)["jobStatus"]["jobId"] == job_status["jobId"]
    )
    assert jobmanager(core, unique_name) is None


def test_failing_python_driver_job_reports_the_python_error(
    hook: Any, unique_name: str, cleanup: list
) -> None:
    """The upstream python-example's shape: PythonDriver with a placeholder jarURI and -py FILE."""
    job = {
        "jarURI": "local:///opt/flink/opt/flink-python-2.2.0.jar",
        "entryClass": PYTHON_DRIVER,
        "args": ["-pyclientexec", "/usr/bin/python3", "-py", str(WORKLOAD), "--fail"],
        "parallelism": 1,
    }
    created = hook.create(FLINK_DEPLOYMENT, deployment(unique_name, job))
    cleanup.append((FLINK_DEPLOYMENT, unique_name))
    final = follow(hook, FLINK_DEPLOYMENT, created, lambda obj: job_state(obj) in ("FINISHED", "FAILED"))[-1]

    assert job_state(final) == "FAILED"
    assert status_of(final)["lifecycleState"] == "FAILED"
    error = json.loads(status_of(final)["error"])
    assert error["type"] == "RuntimeError" and error["message"] == "failing on purpose (--fail)"
    assert any(cause["type"].endswith("ProgramAbortException") for cause in error["throwableList"])
    assert error["additionalMetadata"]["exitCode"] != 0
    assert "word count done: 20 distinct words" in error["additionalMetadata"]["lastLines"]


def test_a_jobmanager_that_dies_before_submitting_its_job_is_in_error_as_the_operator_reports(
    hook: Any, unique_name: str, cleanup: list, tmp_path: Path
) -> None:
    """On a cluster the JobManager's Deployment restarts it into CrashLoopBackOff, and the operator
    reports ERROR, RECONCILING and a DeploymentFailedException while lifecycleState stays DEPLOYED;
    the provider reads that as trouble (its error_grace then fails the task)."""
    from moka_provider.engines.flink import FlinkAdapter

    program = tmp_path / "crash.py"
    program.write_text('raise SystemExit("cannot reach the metastore")\n')
    job: dict[str, Any] = {
        "jarURI": "local:///opt/flink/opt/flink-python-2.2.0.jar",
        "entryClass": PYTHON_DRIVER,
    }
    job |= {"args": ["-py", str(program)], "parallelism": 1}
    created = hook.create(FLINK_DEPLOYMENT, deployment(unique_name, job))
    cleanup.append((FLINK_DEPLOYMENT, unique_name))
    final = follow(
        hook,
        FLINK_DEPLOYMENT,
        created,
        lambda obj: status_of(obj).get("jobManagerDeploymentStatus") == "ERROR",
    )[-1]

    assert (status_of(final)["lifecycleState"], job_state(final)) == ("DEPLOYED", "RECONCILING")
    error = json.loads(status_of(final)["error"])
    assert error["type"].endswith(".DeploymentFailedException")
    assert error["additionalMetadata"]["reason"] == "CrashLoopBackOff"
    assert error["message"].startswith("[flink-main-container] CrashLoop - ")
    events = hook.list_events(unique_name, kind="FlinkDeployment")
    assert [event["type"] for event in events if event["reason"] == "CrashLoopBackOff"] == ["Warning"]
    status = FlinkAdapter().status(final)
    assert status.trouble and status.message == error["message"]


def test_session_job_runs_on_a_session_deployment(
    hook: Any, core: Any, unique_name: str, cleanup: list
) -> None:
    session, job_name = f"{unique_name}-session", f"{unique_name}-job"
    hook.create(FLINK_DEPLOYMENT, deployment(session, None))
    cleanup.append((FLINK_DEPLOYMENT, session))
    created = hook.create(FLINK_SESSION_JOB, session_job(job_name, session))
    cleanup.append((FLINK_SESSION_JOB, job_name))
    seen = follow(hook, FLINK_SESSION_JOB, created, lambda obj: job_state(obj) in ("FINISHED", "FAILED"))

    assert distinct([job_state(o) for o in seen]) == ["CREATED", "RUNNING", "FINISHED"]
    assert status_of(seen[-1])["lifecycleState"] == "STABLE"
    job_id = status_of(seen[-1])["jobStatus"]["jobId"]
    lines = list(hook.read_pod_log(f"{job_name}-session-job"))
    assert f"Job has been submitted with JobID {job_id}" in lines
    assert "word count: runtime mode BATCH, parallelism 1" in lines and "the: 3" in lines

    session_status = status_of(hook.get(FLINK_DEPLOYMENT, session))
    assert session_status["jobManagerDeploymentStatus"] == "READY"
    assert session_status["lifecycleState"] == "STABLE" and "jobStatus" not in session_status
    assert jobmanager(core, session) is not None  # the session cluster outlives its jobs


def test_session_job_without_its_deployment_fails_clearly(hook: Any, unique_name: str, cleanup: list) -> None:
    hook.create(FLINK_SESSION_JOB, session_job(unique_name, f"{unique_name}-nowhere"))
    cleanup.append((FLINK_SESSION_JOB, unique_name))
    failed = wait_for(
        lambda: (
            (obj := hook.get(FLINK_SESSION_JOB, unique_name))
            and status_of(obj).get("lifecycleState") == "FAILED"
            and obj
        ),
        20,
        "lifecycleState FAILED",
    )
    error = json.loads(status_of(failed)["error"])
    assert error["message"] == (
        f"Session cluster deployment is not found: FlinkDeployment moka/{unique_name}-nowhere"
    )
    assert job_state(failed) == "CREATED"  # it never ran


def test_deleting_a_running_deployment_stops_its_processes(
    hook: Any, core: Any, unique_name: str, cleanup: list
) -> None:
    job = {"jarURI": f"local://{WORKLOAD}", "args": ["--sleep", "120"], "parallelism": 1}
    hook.create(FLINK_DEPLOYMENT, deployment(unique_name, job))
    cleanup.append((FLINK_DEPLOYMENT, unique_name))

    def workload_processes() -> set[int] | None:
        pod = jobmanager(core, unique_name)
        if pod is None:
            return None
        statuses = pod.status.container_statuses or []
        if not statuses or not (statuses[0].container_id or "").startswith("moka://"):
            return None
        tree = process_tree(int(statuses[0].container_id.removeprefix("moka://")))
        programs = {pid: argv(pid) for pid in tree if process_alive(pid)}
        java = any(args and args[0].endswith("java") for args in programs.values())
        python = any(
            args and args[0] == str(engine_python) and str(WORKLOAD) in args for args in programs.values()
        )
        return tree if java and python else None  # the shim, Flink's CLI and the program it drives

    engine_python = engines.engine_program("flink", "python")

    pids = wait_for(workload_processes, 60, "the job's processes")
    listening = set().union(*(listening_addresses(pid) for pid in pids if process_alive(pid)))
    assert listening <= {"127.0.0.1", "::1", "::ffff:127.0.0.1"}, listening  # loopback only
    wait_for(
        lambda: (
            status_of(hook.get(FLINK_DEPLOYMENT, unique_name)).get("jobManagerDeploymentStatus")
            == "DEPLOYED_NOT_READY"
        ),
        10,
        "jobManagerDeploymentStatus DEPLOYED_NOT_READY",
    )
    hook.delete(FLINK_DEPLOYMENT, unique_name)
    wait_for(lambda: jobmanager(core, unique_name) is None, 30, "the JobManager pod to go")
    wait_for(lambda: not any(process_alive(pid) for pid in pids), 15, f"processes {sorted(pids)} to stop")


def test_upstream_flink_examples_fail_clearly_where_they_need_an_image(
    hook: Any, shared_dir: Path, unique_name: str, cleanup: list
) -> None:
    """The operator's examples point at files inside Flink images (or at web URLs): each says so.
    The session cluster of the session example itself comes up."""
    from tests.integration.conftest import manifests

    expected = {
        "basic-example": "jar /opt/flink/examples/streaming/StateMachineExample.jar does not exist on this machine",
        "python-example": "Python program /opt/flink/usrlib/python_demo.py does not exist on this machine",
        "sql-example": "jar /opt/flink/usrlib/sql-runner.jar does not exist on this machine",
        "basic-session-job-example": "moka local runs local files only",
        "basic-session-job-example2": "moka local runs local files only",
    }
    names = {}
    for path in sorted((shared_dir / "upstream-examples" / "flink").glob("*.yaml")):
        for manifest in manifests(path):
            resource = FLINK_DEPLOYMENT if manifest["kind"] == FLINK_DEPLOYMENT.kind else FLINK_SESSION_JOB
            original = manifest["metadata"]["name"]
            manifest["metadata"] = {"name": f"{unique_name}-{original}"[:50]}
            if "deploymentName" in manifest["spec"]:
                manifest["spec"]["deploymentName"] = f"{unique_name}-{manifest['spec']['deploymentName']}"[
                    :50
                ]
            hook.create(resource, manifest)
            cleanup.append((resource, manifest["metadata"]["name"]))
            names[original] = (resource, manifest["metadata"]["name"])
    assert set(expected) | {"basic-session-deployment-example"} == set(names)

    def settled(original: str) -> dict[str, Any] | None:
        obj = hook.get(*names[original])
        return obj if status_of(obj).get("lifecycleState") in ("FAILED", "STABLE") else None

    session = wait_for(lambda: settled("basic-session-deployment-example"), 30, "the session cluster")
    assert status_of(session)["jobManagerDeploymentStatus"] == "READY"
    for original, message in expected.items():
        failed = wait_for(partial(settled, original), 30, f"{original} to settle")
        assert status_of(failed)["lifecycleState"] == "FAILED"
        assert message in json.loads(status_of(failed)["error"])["message"]


def restart_controllers(paths: StatePaths, state: LocalState) -> None:
    """Stop the session's controllers process and start it again, as `moka local up` does."""
    processes.stop(paths.component("controllers"), grace=5)
    control_plane.start_controllers(paths, state)


def test_restarted_controller_picks_up_a_running_job_without_running_it_twice(
    moka_local: Any, hook: Any, core: Any, unique_name: str, cleanup: list
) -> None:
    paths, state = moka_local
    job = {"jarURI": f"local://{WORKLOAD}", "args": ["--sleep", "4"], "parallelism": 1}
    created = hook.create(FLINK_DEPLOYMENT, deployment(unique_name, job))
    cleanup.append((FLINK_DEPLOYMENT, unique_name))
    wait_for(
        lambda: (
            status_of(hook.get(FLINK_DEPLOYMENT, unique_name)).get("jobManagerDeploymentStatus")
            == "DEPLOYED_NOT_READY"
        ),
        60,
        "the JobManager to run",
    )
    pod = jobmanager(core, unique_name)
    pod_name, pod_uid = pod.metadata.name, pod.metadata.uid
    restart_controllers(paths, state)

    seen = follow(hook, FLINK_DEPLOYMENT, created, lambda obj: job_state(obj) in ("FINISHED", "FAILED"))
    assert distinct([job_state(o) for o in seen]) == ["CREATED", "RUNNING", "FINISHED"]
    assert core.read_namespaced_pod(pod_name, "moka").metadata.uid == pod_uid  # the same JobManager
    lines = list(hook.read_pod_log(pod_name))
    assert lines.count("word count done: 20 distinct words") == 1
    assert lines.count(f"Job has been submitted with JobID {status_of(seen[-1])['jobStatus']['jobId']}") == 1


@pytest.fixture
def instance_without_flink(tmp_path: Path, moka_local: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A second `moka local` whose controllers see an empty machine cache (no engines)."""
    apiserver = find_binary("kube-apiserver") or cached_apiserver()
    monkeypatch.setenv("PATH", f"{apiserver.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MOKA_CACHE_DIR", str(tmp_path / "empty-cache"))
    paths = StatePaths(tmp_path / "no-flink")
    state = control_plane.up(paths, log=lambda _: None)
    monkeypatch.setenv("AIRFLOW_CONN_MOKA_NO_FLINK", connection_uri(paths.kubeconfig, state.namespace))
    yield "moka_no_flink"
    control_plane.down(paths, log=lambda _: None)


def test_missing_engine_says_how_to_install_it(instance_without_flink: str, unique_name: str) -> None:
    from moka_provider.hooks.moka import MokaHook

    hook = MokaHook(moka_conn_id=instance_without_flink)
    hook.create(FLINK_DEPLOYMENT, deployment(unique_name, {"jarURI": f"local://{WORKLOAD}"}))
    failed = wait_for(
        lambda: (
            (obj := hook.get(FLINK_DEPLOYMENT, unique_name))
            and status_of(obj).get("lifecycleState") == "FAILED"
            and obj
        ),
        30,
        "lifecycleState FAILED",
    )
    assert status_of(failed)["jobManagerDeploymentStatus"] == "ERROR"
    assert "`moka local install --engine flink`" in json.loads(status_of(failed)["error"])["message"]
