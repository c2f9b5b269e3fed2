"""FlinkAdapter / FlinkSessionJobAdapter: phases (docs/design.md section 3), errors, log pods, links, results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moka_provider.engines.base import LogPods, Phase
from moka_provider.engines.flink import (
    FlinkAdapter,
    FlinkSessionJobAdapter,
    error_message,
    flink_job_status,
)
from moka_provider.engines.registry import ADAPTERS, adapter_for
from moka_provider.local.controllers.flink_job import (
    error_json,
    failure_error,
    missing_jobmanager_error,
    validation_error,
)
from moka_provider.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from moka_provider.settings import MokaSettings

DEPLOYMENT = FlinkAdapter()
SESSION_JOB = FlinkSessionJobAdapter()
BOTH = pytest.mark.parametrize("adapter", [DEPLOYMENT, SESSION_JOB], ids=["deployment", "session-job"])

#: Every ``jobStatus.state`` of the CRD and its phase: docs/design.md section 3's table.
JOB_STATE_PHASES = {
    "FINISHED": Phase.SUCCEEDED,
    "FAILED": Phase.FAILED,
    "CANCELED": Phase.FAILED,
    "RUNNING": Phase.RUNNING,
    "RESTARTING": Phase.RUNNING,
    "FAILING": Phase.RUNNING,
    "CANCELLING": Phase.RUNNING,
    "CREATED": Phase.PENDING,
    "INITIALIZING": Phase.PENDING,
    "RECONCILING": Phase.PENDING,
    "SUSPENDED": Phase.PENDING,
}


def flink_job(status: dict[str, Any] | None = None, name: str = "wordcount-1a2b3c4d") -> dict[str, Any]:
    job: dict[str, Any] = {"metadata": {"name": name, "namespace": "moka", "uid": "u"}}
    if status is not None:
        job["status"] = status
    return job


def job_state(state: str, **status: Any) -> dict[str, Any]:
    return flink_job({"jobStatus": {"jobId": "f" * 32, "state": state}, **status})


# --- phases -------------------------------------------------------------------------------------


def test_the_table_covers_every_job_state_of_both_crds():
    for resource in (FLINK_DEPLOYMENT, FLINK_SESSION_JOB):
        served = resource.crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        states = served["properties"]["status"]["properties"]["jobStatus"]["properties"]["state"]["enum"]

        assert set(states) == set(JOB_STATE_PHASES), resource.kind


@BOTH
@pytest.mark.parametrize(("state", "phase"), JOB_STATE_PHASES.items())
def test_job_states(adapter, state, phase):
    status = adapter.status(job_state(state, lifecycleState="STABLE"))

    assert (status.phase, status.state) == (phase, state)


@BOTH
@pytest.mark.parametrize("status", [None, {}, {"jobStatus": None}, {"jobStatus": {"state": ""}}])
def test_no_job_state_yet_is_pending(adapter, status):
    assert adapter.status(flink_job(status)).phase is Phase.PENDING


def test_a_ready_jobmanager_is_not_success():
    job = job_state("RUNNING", jobManagerDeploymentStatus="READY", lifecycleState="STABLE")

    assert DEPLOYMENT.status(job).phase is Phase.RUNNING
    assert DEPLOYMENT.status(flink_job({"jobManagerDeploymentStatus": "READY"})).phase is Phase.PENDING


@pytest.mark.parametrize("lifecycle", ["STABLE", "FAILED", "DEPLOYED"])
def test_a_finished_job_whose_jobmanager_went_missing_succeeded(lifecycle):
    error = missing_jobmanager_error("JobManager deployment is missing")
    job = job_state("FINISHED", jobManagerDeploymentStatus="MISSING", lifecycleState=lifecycle, error=error)

    assert DEPLOYMENT.status(job).phase is Phase.SUCCEEDED


@BOTH
@pytest.mark.parametrize("state", ["", "CREATED", "RUNNING"])
def test_a_failed_lifecycle_is_failure_with_the_error(adapter, state):
    job = job_state(state, lifecycleState="FAILED", error=validation_error("Flink version must be defined."))

    status = adapter.status(job)

    assert (status.phase, status.state) == (Phase.FAILED, "FAILED")
    assert status.message == "Flink version must be defined."


def test_a_jobmanager_in_error_is_pending_in_trouble_with_the_operators_message():
    # AbstractFlinkDeploymentObserver.observeJmDeployment / FlinkDeploymentController.reconcile:
    # a DeploymentFailedException sets ERROR, jobStatus RECONCILING and the error; lifecycle DEPLOYED.
    error = error_json(
        "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException",
        '[flink-main-container] Back-off pulling image "flink:9.9"',
        reason="ImagePullBackOff",
    )
    job = job_state(
        "RECONCILING",
        jobManagerDeploymentStatus="ERROR",
        lifecycleState="DEPLOYED",
        error=error,
        reconciliationStatus={"lastReconciledSpec": "{}"},
    )

    status = DEPLOYMENT.status(job)

    assert (status.phase, status.state, status.trouble) == (Phase.PENDING, "JobManager ERROR", True)
    assert status.message == '[flink-main-container] Back-off pulling image "flink:9.9"'


def test_a_missing_jobmanager_is_trouble_only_with_an_error_after_the_first_deployment():
    error = missing_jobmanager_error("Missing JobManager deployment")
    deployed = {"lastReconciledSpec": "{}"}

    assert DEPLOYMENT.status(
        job_state(
            "RECONCILING", jobManagerDeploymentStatus="MISSING", error=error, reconciliationStatus=deployed
        )
    ).trouble
    assert not DEPLOYMENT.status(job_state("", jobManagerDeploymentStatus="MISSING")).trouble
    finished = job_state(
        "FINISHED", jobManagerDeploymentStatus="MISSING", error=error, reconciliationStatus=deployed
    )
    assert DEPLOYMENT.status(finished).phase is Phase.SUCCEEDED


@BOTH
def test_a_failed_lifecycle_before_the_first_deployment_is_retried_unless_the_spec_was_refused(adapter):
    # CommonStatus.getLifecycleState: FAILED whenever error is set before the first deployment.
    transient = error_json("org.apache.flink.kubernetes.operator.exception.ReconciliationException", "boom")

    retried = adapter.status(job_state("", lifecycleState="FAILED", error=transient))
    refused = adapter.status(job_state("", lifecycleState="FAILED", error=validation_error("no jarURI")))
    after_deploy = adapter.status(
        job_state(
            "", lifecycleState="FAILED", error=transient, reconciliationStatus={"lastReconciledSpec": "{}"}
        )
    )

    assert (retried.phase, retried.trouble, retried.message) == (Phase.PENDING, True, "boom")
    assert (refused.phase, refused.trouble) == (Phase.FAILED, False)
    assert (after_deploy.phase, after_deploy.trouble) == (Phase.FAILED, False)


def test_the_state_shown_before_a_job_state_is_the_lifecycle():
    assert DEPLOYMENT.status(flink_job({"lifecycleState": "CREATED"})).state == "CREATED"


# --- status.error -------------------------------------------------------------------------------


def test_a_failed_jobs_error_from_the_local_controller_reads_as_its_exception():
    lines = [
        "org.apache.flink.client.program.ProgramInvocationException: The main method caused an error",
        "\tat org.apache.flink.client.Main.run(Main.java:1)",
        "Caused by: java.lang.IllegalStateException: input path /data/in does not exist",
    ]
    job = job_state("FAILED", error=failure_error(lines, {"exitCode": 1}))

    assert DEPLOYMENT.status(job).message == (
        "The main method caused an error "
        "(caused by IllegalStateException: input path /data/in does not exist)"
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("plain text from an older operator", "plain text from an older operator"),
        ('{"type": "x.Y"}', '{"type": "x.Y"}'),
        ("[1, 2]", "[1, 2]"),
        ("{not json", "{not json"),
        (error_json("a.B", "top"), "top"),
        (error_json("a.B", "same", [{"type": "c.D", "message": "same"}]), "same"),
        (
            error_json("a.B", "top", [{"type": "c.Mid", "message": "mid"}, {"message": "root cause"}]),
            "top (caused by root cause)",
        ),
        (
            json.dumps({"message": "top", "throwableList": [None, {"type": "x.Err", "message": " why "}]}),
            "top (caused by Err: why)",
        ),
    ],
)
def test_error_message(error, message):
    assert error_message(error) == message


def test_the_error_is_kept_while_pending_too():
    job = job_state("RESTARTING", error=error_json("a.B", "TaskManager lost"))

    assert DEPLOYMENT.status(job).message == "TaskManager lost"
    assert flink_job_status(job) == DEPLOYMENT.status(job)


# --- log pods, links, results -------------------------------------------------------------------


def test_the_log_is_the_jobmanagers_found_by_the_operators_labels():
    # NativeFlinkService.getJmPodList selects the JobManager by app=<cluster id>, component=jobmanager.
    deployment = flink_job(name="etl-1")
    session_job = flink_job(name="etl-2")
    session_job["spec"] = {"deploymentName": "shared-session"}

    assert DEPLOYMENT.log_pods(deployment) == LogPods(
        "app=etl-1,component=jobmanager", "flink-main-container"
    )
    assert SESSION_JOB.log_pods(session_job) == LogPods(
        "app=shared-session,component=jobmanager", "flink-main-container"
    )
    assert SESSION_JOB.log_pods(flink_job()) is None  # no session named


@BOTH
def test_link_params(adapter):
    assert adapter.link_params(job_state("RUNNING")) == {
        "job_id": "f" * 32,
        "pod": None,  # generated by a ReplicaSet: known only once the pod is found
    }
    assert adapter.link_params(flink_job())["job_id"] is None


@BOTH
@pytest.mark.parametrize("phase", list(Phase))
def test_the_dashboard_link_is_the_same_template_in_every_phase(adapter, phase):
    settings = MokaSettings.from_extras(
        {"flink_dashboard_url": "https://flink.test/{namespace}/{name}/#/job/{job_id}"}
    )
    params = {"namespace": "moka", "name": "etl", "job_id": "abc"}

    links = adapter.engine_links(settings.link, phase, params)

    assert links == {"flink_dashboard": "https://flink.test/moka/etl/#/job/abc"}
    assert set(links) == set(adapter.link_buttons)
    assert adapter.engine_links(settings.link, phase, {**params, "job_id": None}) == {"flink_dashboard": None}


def test_results():
    job = flink_job(
        {
            "jobStatus": {"jobId": "abc", "jobName": "etl", "state": "FINISHED"},
            "jobManagerDeploymentStatus": "MISSING",
            "lifecycleState": "STABLE",
        }
    )

    assert DEPLOYMENT.result(job) == {
        "job_id": "abc",
        "job_name": "etl",
        "lifecycle_state": "STABLE",
        "jobmanager_status": "MISSING",
    }
    assert SESSION_JOB.result(job) == {"job_id": "abc", "job_name": "etl", "lifecycle_state": "STABLE"}
    assert DEPLOYMENT.result(flink_job()) == {
        "job_id": None,
        "job_name": None,
        "lifecycle_state": None,
        "jobmanager_status": None,
    }


# --- class facts and registry -------------------------------------------------------------------


def test_names_fit_the_operators_limits():
    assert (DEPLOYMENT.engine, DEPLOYMENT.resource) == ("flink", FLINK_DEPLOYMENT)
    assert DEPLOYMENT.max_name_length == 45  # the cluster id; its JobManager pod adds 17 characters
    assert (SESSION_JOB.engine, SESSION_JOB.resource) == ("flink_session", FLINK_SESSION_JOB)
    assert SESSION_JOB.max_name_length == 63  # the operator names no object after a session job


def test_registry_has_both_flink_adapters():
    assert isinstance(adapter_for("flink"), FlinkAdapter)
    assert isinstance(adapter_for("flink_session"), FlinkSessionJobAdapter)
    assert {"spark", "flink", "flink_session", "ray"} <= set(ADAPTERS)
    assert all(adapter.engine == engine for engine, adapter in ADAPTERS.items())


def test_a_cause_already_quoted_by_the_message_is_not_repeated() -> None:
    from moka_provider.engines.flink import error_message

    error = json.dumps(
        {
            "type": "org.apache.flink.kubernetes.operator.exception.ReconciliationException",
            "message": "java.lang.RuntimeException: Python process exits with code: 3",
            "throwableList": [
                {"type": "java.lang.RuntimeException", "message": "Python process exits with code: 3"}
            ],
        }
    )
    assert error_message(error) == "java.lang.RuntimeException: Python process exits with code: 3"


@BOTH
@pytest.mark.parametrize(
    ("messages", "phase"),
    [
        (["Job status changed to CREATED", "Job status changed from CREATED to RUNNING"], Phase.RUNNING),
        (["Job status changed from RUNNING to FINISHED"], Phase.SUCCEEDED),
        (["Job status changed from RUNNING to FAILED"], Phase.FAILED),
        ([], None),
    ],
)
def test_the_jobs_last_recorded_change_is_read_from_its_events(adapter, messages, phase):
    # JobStatusObserver.updateJobStatus records JobStatusChanged "Job status changed from X to Y".
    events = [{"reason": "Submit", "message": "Starting deployment"}] + [
        {"reason": "JobStatusChanged", "message": message} for message in messages
    ]

    status = adapter.status_from_events(events)

    assert (status.phase if status else None) == phase


def test_a_job_the_jobmanager_no_longer_knows_is_trouble():
    # JobStatusObserver.onTargetJobNotFound: RECONCILING with error "Job Not Found".
    job = job_state("RECONCILING", error="Job Not Found", reconciliationStatus={"lastReconciledSpec": "{}"})

    status = DEPLOYMENT.status(job)

    assert (status.phase, status.trouble, status.message) == (Phase.PENDING, True, "Job Not Found")
