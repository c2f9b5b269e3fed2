"""SparkApplications on `moka local` run for real: the local controller and kubelet with pyspark."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.local import control_plane, processes
from moka_provider.resources import SPARK_APPLICATION
from tests.conftest import REPO
from tests.integration.conftest import SyncOrAsync, listening_addresses, process_alive

WORKLOAD = REPO / "dags_examples" / "workloads" / "pyspark_pi.py"


def pi_app(name: str, *arguments: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "sparkVersion": "4.0.0",
            "mainApplicationFile": f"local://{WORKLOAD}",
            "arguments": list(arguments),
            "driver": {"cores": 1, "memory": "1g"},
            "executor": {"instances": 2, "cores": 1, "memory": "1g"},
            **spec,
        },
    }


def state_of(app: dict[str, Any]) -> str:
    return str(((app.get("status") or {}).get("applicationState") or {}).get("state") or "")


@pytest.fixture
def spark(moka_local: Any) -> SyncOrAsync:
    return SyncOrAsync("sync")


@pytest.fixture
def track_states(spark: SyncOrAsync) -> Callable[[str], list[str]]:
    """Record every state an application goes through, from a watch in the background."""

    def start(name: str) -> list[str]:
        seen: list[str] = []

        def run() -> None:
            for event in spark.hook.watch(SPARK_APPLICATION, name=name, timeout=150):
                state = state_of(event.object)
                if state and (not seen or seen[-1] != state):
                    seen.append(state)
                if state in ("COMPLETED", "FAILED") or event.type == "DELETED":
                    return

        threading.Thread(target=run, daemon=True).start()
        return seen

    return start


def wait_for(spark: SyncOrAsync, name: str, states: set[str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        app = spark.get(SPARK_APPLICATION, name)
        if state_of(app) in states:
            return app
        assert time.monotonic() < deadline, f"{name} still {state_of(app)!r} after {timeout}s"
        time.sleep(0.2)


def test_pyspark_job_completes_with_its_output_in_the_driver_log(
    spark: SyncOrAsync, admin_api: Any, unique_name: str
) -> None:
    from kubernetes import client

    spark.create(SPARK_APPLICATION, pi_app(unique_name, "4"))
    app = wait_for(spark, unique_name, {"COMPLETED", "FAILED"})
    status = app["status"]
    assert state_of(app) == "COMPLETED", status
    assert status["sparkApplicationId"].startswith("spark-")
    assert status["driverInfo"]["podName"] == f"{unique_name}-driver"
    assert (status["submissionAttempts"], status["executionAttempts"]) == (1, 1)
    assert status["terminationTime"]
    log = spark.read_pod_log(f"{unique_name}-driver")
    assert any(line.startswith("Pi is roughly 3.1") for line in log), log[-20:]
    driver = client.CoreV1Api(admin_api).read_namespaced_pod(f"{unique_name}-driver", "moka")
    assert driver.metadata.labels["spark-role"] == "driver"
    assert driver.metadata.labels["spark-app-selector"] == status["sparkApplicationId"]
    assert driver.metadata.labels["sparkoperator.k8s.io/submission-id"] == status["submissionID"]
    assert driver.metadata.labels["sparkoperator.k8s.io/launched-by-spark-operator"] == "true"
    assert driver.metadata.owner_references[0].name == unique_name
    # the operator's Events (its message format is the action, the application's name the note)
    selector = f"involvedObject.kind=SparkApplication,involvedObject.name={unique_name}"
    events = client.CoreV1Api(admin_api).list_namespaced_event("moka", field_selector=selector).items
    assert {(e.reason, e.action, e.message) for e in events} >= {
        ("SparkApplicationSubmitted", "SparkApplication %s was submitted successfully", unique_name),
        ("SparkDriverRunning", "Driver %s is running", f"{unique_name}-driver"),
        ("SparkDriverCompleted", "Driver %s completed", f"{unique_name}-driver"),
    }
    command = driver.spec.containers[0].command
    assert command[command.index("--master") + 1] == "local[2]"  # 2 executors x 1 core on >= 2 cores
    spark.delete(SPARK_APPLICATION, unique_name)


def test_failing_job_is_failed_with_the_drivers_exit(
    spark: SyncOrAsync, unique_name: str, track_states: Callable[[str], list[str]]
) -> None:
    spark.create(SPARK_APPLICATION, pi_app(unique_name, "2", "--fail"))
    seen = track_states(unique_name)
    app = wait_for(spark, unique_name, {"COMPLETED", "FAILED"})
    assert state_of(app) == "FAILED"
    assert (
        app["status"]["applicationState"]["errorMessage"]
        == "driver container failed with ExitCode: 1, Reason: Error"
    )
    assert any("failing on purpose" in line for line in spark.read_pod_log(f"{unique_name}-driver"))
    time.sleep(0.5)
    assert seen[0] == "SUBMITTED" and seen[-1] == "FAILED", seen
    spark.delete(SPARK_APPLICATION, unique_name)


def test_on_failure_restart_policy_retries_then_fails(
    spark: SyncOrAsync, unique_name: str, track_states: Callable[[str], list[str]]
) -> None:
    policy = {"type": "OnFailure", "onFailureRetries": 1, "onFailureRetryInterval": 1}
    spark.create(SPARK_APPLICATION, pi_app(unique_name, "1", "--fail", restartPolicy=policy))
    seen = track_states(unique_name)
    app = wait_for(spark, unique_name, {"FAILED"}, timeout=180)
    assert app["status"]["executionAttempts"] == 2
    assert app["status"]["submissionAttempts"] == 2
    time.sleep(0.5)
    assert "FAILING" in seen and "PENDING_RERUN" in seen, seen
    assert seen.index("PENDING_RERUN") < len(seen) - 1 and seen[-1] == "FAILED", seen
    spark.delete(SPARK_APPLICATION, unique_name)


def test_time_to_live_deletes_the_finished_application(spark: SyncOrAsync, unique_name: str) -> None:
    spark.create(SPARK_APPLICATION, pi_app(unique_name, "1", timeToLiveSeconds=2))
    wait_for(spark, unique_name, {"COMPLETED"})
    deadline = time.monotonic() + 20
    with pytest.raises(MokaApiError) as gone:
        while time.monotonic() < deadline:
            spark.get(SPARK_APPLICATION, unique_name)
            time.sleep(0.3)
    assert gone.value.not_found


def test_deleting_a_running_application_stops_its_driver(
    spark: SyncOrAsync, admin_api: Any, unique_name: str
) -> None:
    from kubernetes import client

    spark.create(SPARK_APPLICATION, pi_app(unique_name, "1", "--sleep", "60"))
    wait_for(spark, unique_name, {"RUNNING"})
    pod = client.CoreV1Api(admin_api).read_namespaced_pod(f"{unique_name}-driver", "moka")
    pid = int(pod.status.container_statuses[0].container_id.removeprefix("moka://"))
    assert process_alive(pid)
    deadline = time.monotonic() + 60
    while not any("sleeping" in line for line in spark.read_pod_log(f"{unique_name}-driver")):
        assert time.monotonic() < deadline, "the Spark session did not start"
        time.sleep(0.3)
    listening = listening_addresses(pid)
    assert listening and listening <= {"127.0.0.1", "::1", "::ffff:127.0.0.1"}, listening  # loopback only
    spark.delete(SPARK_APPLICATION, unique_name)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (process_alive(pid) or _pods(admin_api, unique_name)):
        time.sleep(0.2)
    assert not process_alive(pid), "the driver process outlived its application"
    assert _pods(admin_api, unique_name) == []


def test_restarted_controller_picks_up_without_a_second_run(
    spark: SyncOrAsync, admin_api: Any, moka_local: Any, unique_name: str
) -> None:
    from kubernetes import client

    paths, state = moka_local
    spark.create(SPARK_APPLICATION, pi_app(unique_name, "1", "--sleep", "4"))
    wait_for(spark, unique_name, {"RUNNING"})
    uid = client.CoreV1Api(admin_api).read_namespaced_pod(f"{unique_name}-driver", "moka").metadata.uid
    controllers = processes.running_pid(paths.component("controllers"))
    assert controllers
    os.kill(controllers, signal.SIGKILL)
    while processes.running_pid(paths.component("controllers")):
        time.sleep(0.05)
    control_plane.start_controllers(paths, state)
    app = wait_for(spark, unique_name, {"COMPLETED", "FAILED"})
    assert state_of(app) == "COMPLETED"
    assert (app["status"]["submissionAttempts"], app["status"]["executionAttempts"]) == (1, 1)
    driver = client.CoreV1Api(admin_api).read_namespaced_pod(f"{unique_name}-driver", "moka")
    assert driver.metadata.uid == uid, "the driver was started a second time"
    spark.delete(SPARK_APPLICATION, unique_name)


def test_missing_engine_fails_the_submission_with_what_to_install(
    spark: SyncOrAsync, moka_local: Any, unique_name: str, tmp_path: Any
) -> None:
    paths, state = moka_local
    processes.stop(paths.component("controllers"))
    control_plane.start_controllers(
        paths, state, env={**os.environ, "MOKA_CACHE_DIR": str(tmp_path / "no-engines")}
    )
    try:
        policy = {"type": "OnFailure", "onSubmissionFailureRetries": 1, "onSubmissionFailureRetryInterval": 1}
        spark.create(SPARK_APPLICATION, pi_app(unique_name, "1", restartPolicy=policy))
        app = wait_for(spark, unique_name, {"FAILED"}, timeout=60)
    finally:
        processes.stop(paths.component("controllers"))
        control_plane.start_controllers(paths, state)
    assert "run `moka local install --engine spark`" in app["status"]["applicationState"]["errorMessage"]
    assert app["status"]["submissionAttempts"] == 2  # one retry of the submission, then FAILED
    spark.delete(SPARK_APPLICATION, unique_name)


def _pods(admin_api: Any, name: str) -> list[str]:
    from kubernetes import client

    pods = client.CoreV1Api(admin_api).list_namespaced_pod(
        "moka", label_selector=f"sparkoperator.k8s.io/app-name={name}"
    )
    return [pod.metadata.name for pod in pods.items]


def test_upstream_spark_examples_run_or_fail_clearly(
    spark: SyncOrAsync, shared_dir: Any, unique_name: str
) -> None:
    """The operator's examples: the Python one runs (pyspark ships its pi.py); the JVM examples jar
    is not on this machine, and the bad-* ones point at files that exist nowhere: FAILED, saying so."""
    from tests.integration.conftest import manifests

    outcomes = {}
    for example in ("spark-pi-python", "spark-pi", "bad-fail-application"):
        app = manifests(shared_dir / "upstream-examples" / "spark" / f"{example}.yaml")[0]
        app["metadata"] = {"name": f"{unique_name}-{example}"[:50]}
        spark.create(SPARK_APPLICATION, app)
        outcomes[example] = wait_for(spark, app["metadata"]["name"], {"COMPLETED", "FAILED"}, timeout=180)
        spark.delete(SPARK_APPLICATION, app["metadata"]["name"])
    assert state_of(outcomes["spark-pi-python"]) == "COMPLETED"
    for example in ("spark-pi", "bad-fail-application"):
        assert state_of(outcomes[example]) == "FAILED"
        message = outcomes[example]["status"]["applicationState"]["errorMessage"]
        assert "does not exist on this machine" in message, message
