"""RayAdapter: phases of a RayJob (docs/design.md section 3), its submitter pod, links and results."""

from __future__ import annotations

from typing import Any

import pytest

from moka_provider.engines.base import LogPods, Phase
from moka_provider.engines.ray import RayAdapter
from moka_provider.engines.registry import adapter_for
from moka_provider.local.controllers import ray as local_ray
from moka_provider.resources import RAY_JOB
from moka_provider.settings import MokaSettings

ADAPTER = RayAdapter()


def ray_job(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "metadata": {"name": "train-1a2b3c4d", "namespace": "moka", "uid": "u"},
        "spec": spec,
    }
    if status is not None:
        job["status"] = status
    return job


# --- phases -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment_status", "ray_status", "phase"),
    [
        ("Complete", "SUCCEEDED", Phase.SUCCEEDED),
        ("Complete", "FAILED", Phase.FAILED),
        ("Complete", "STOPPED", Phase.FAILED),
        ("Complete", "", Phase.FAILED),
        ("Failed", "FAILED", Phase.FAILED),
        ("Failed", "", Phase.FAILED),
        ("ValidationFailed", "", Phase.FAILED),
        ("Running", "RUNNING", Phase.RUNNING),
        ("Running", "STOPPED", Phase.RUNNING),  # Complete follows once the submitter ended
        ("", "", Phase.PENDING),
        ("Initializing", "", Phase.PENDING),
        ("Waiting", "", Phase.PENDING),
        ("Retrying", "FAILED", Phase.PENDING),
        ("Suspending", "RUNNING", Phase.PENDING),
        ("Suspended", "", Phase.PENDING),
        ("SomethingNew", "", Phase.PENDING),
    ],
)
def test_job_deployment_states(deployment_status, ray_status, phase):
    status = ADAPTER.status(ray_job({"jobDeploymentStatus": deployment_status, "jobStatus": ray_status}))

    assert (status.phase, status.state) == (phase, deployment_status)


@pytest.mark.parametrize("ray_status", ["PENDING", "", None])
def test_running_before_the_ray_job_runs_is_pending_so_start_timeout_covers_it(ray_status):
    # rayjob_controller.go Reconcile sets Running once it created the submitter Job.
    status = ADAPTER.status(ray_job({"jobDeploymentStatus": "Running", "jobStatus": ray_status}))

    assert status.phase is Phase.PENDING
    assert status.state == f"Running ({ray_status or 'no Ray job status yet'})"


@pytest.mark.parametrize("status", [None, {}, {"jobDeploymentStatus": None}])
def test_no_status_yet_is_pending(status):
    assert ADAPTER.status(ray_job(status)).phase is Phase.PENDING


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            {
                "jobDeploymentStatus": "Failed",
                "reason": "AppFailed",
                "message": "Job entrypoint command failed",
            },
            "AppFailed: Job entrypoint command failed",
        ),
        (
            {
                "jobDeploymentStatus": "ValidationFailed",
                "reason": "ValidationFailed",
                "message": "entrypoint must be set",
            },
            "ValidationFailed: entrypoint must be set",
        ),
        ({"jobDeploymentStatus": "Failed", "reason": "DeadlineExceeded"}, "DeadlineExceeded"),
        ({"jobDeploymentStatus": "Failed"}, None),
        (
            {"jobDeploymentStatus": "Complete", "jobStatus": "STOPPED", "message": "stopped by a user"},
            "the Ray job ended STOPPED: stopped by a user",
        ),
        ({"jobDeploymentStatus": "Complete"}, "the Ray job ended without a status"),
        ({"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED", "message": ""}, None),
        (
            {"jobDeploymentStatus": "Retrying", "reason": "AppFailed", "message": "attempt 1 failed"},
            "attempt 1 failed",
        ),
    ],
)
def test_messages(status, message):
    assert ADAPTER.status(ray_job(status)).message == message


# --- log pod ------------------------------------------------------------------------------------


def test_the_submitter_pod_is_found_by_its_jobs_name():
    # rayjob_controller.go createNewK8sJob: a Job named after the RayJob; the Job controller labels
    # its pods job-name=<job>; the container is utils.SubmitterContainerName.
    job = ray_job({"jobId": "train-1a2b3c4d-x7k2p", "jobDeploymentStatus": "Running"})

    assert ADAPTER.log_pods(job) == LogPods("job-name=train-1a2b3c4d", "ray-job-submitter")
    assert ADAPTER.log_pods(ray_job(None, submissionMode="K8sJobMode")) == ADAPTER.log_pods(ray_job())


def test_in_sidecar_mode_the_submitter_is_a_container_of_the_head_pod():
    job = ray_job({"rayClusterName": "train-raycluster-abcde"}, submissionMode="SidecarMode")

    assert ADAPTER.log_pods(job) == LogPods(
        "ray.io/cluster=train-raycluster-abcde,ray.io/node-type=head", "ray-job-submitter"
    )
    assert ADAPTER.log_pods(ray_job(None, submissionMode="SidecarMode")) is None  # no cluster yet


@pytest.mark.parametrize("mode", ["HTTPMode", "InteractiveMode"])
def test_no_submitter_pod(mode):
    assert ADAPTER.log_pods(ray_job({"jobId": "j-1"}, submissionMode=mode)) is None


# --- links and results --------------------------------------------------------------------------


def test_link_params():
    job = ray_job({"jobId": "j-1", "rayClusterName": "train-raycluster-abcde"})

    assert ADAPTER.link_params(job) == {
        "job_id": "j-1",
        "ray_cluster": "train-raycluster-abcde",
        "pod": None,  # generated by the Job controller: known only once the pod is found
    }
    assert ADAPTER.link_params(ray_job()) == {"job_id": None, "ray_cluster": None, "pod": None}


@pytest.mark.parametrize("phase", list(Phase))
def test_the_dashboard_link_in_every_phase(phase):
    settings = MokaSettings.from_extras(
        {"ray_dashboard_url": "https://ray.test/{namespace}/{ray_cluster}/#/jobs/{job_id}"}
    )
    params = {"namespace": "moka", "ray_cluster": "c-1", "job_id": "j-1"}

    assert ADAPTER.engine_links(settings.link, phase, params) == {
        "ray_dashboard": "https://ray.test/moka/c-1/#/jobs/j-1"
    }
    assert ADAPTER.engine_links(settings.link, phase, {**params, "ray_cluster": None}) == {
        "ray_dashboard": None
    }
    assert set(ADAPTER.engine_links(settings.link, phase, params)) == set(ADAPTER.link_buttons)


def test_result():
    job = ray_job(
        {
            "jobId": "j-1",
            "rayClusterName": "c-1",
            "jobStatus": "FAILED",
            "jobDeploymentStatus": "Failed",
            "reason": "AppFailed",
        }
    )

    assert ADAPTER.result(job) == {
        "job_id": "j-1",
        "ray_cluster": "c-1",
        "job_status": "FAILED",
        "reason": "AppFailed",
    }
    assert ADAPTER.result(ray_job()) == {
        "job_id": None,
        "ray_cluster": None,
        "job_status": None,
        "reason": None,
    }


# --- class facts --------------------------------------------------------------------------------


def test_names_fit_kuberays_limit():
    assert (ADAPTER.engine, ADAPTER.resource, ADAPTER.link_buttons) == ("ray", RAY_JOB, ("ray_dashboard",))
    assert ADAPTER.max_name_length == local_ray.MAX_NAME_LENGTH == 47
    assert isinstance(adapter_for("ray"), RayAdapter)
