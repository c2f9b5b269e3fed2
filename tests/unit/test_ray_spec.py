"""build_ray_job: the cluster, the job, connection defaults, templates and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from moka_provider.engines import ray_spec
from moka_provider.engines.ray_spec import DEFAULT_TTL_SECONDS, build_ray_job, runtime_env_yaml
from moka_provider.local.controllers import ray as local_ray
from moka_provider.resources import RAY_JOB
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings

BARE = MokaSettings()
IMAGE = "registry.example/ray:2.52.0-amd64"
QUEUE_LABEL = "yunikorn.apache.org/queue"
SHUTDOWN = {"shutdownAfterJobFinishes": True, "ttlSecondsAfterFinished": DEFAULT_TTL_SECONDS}
ONE_CPU = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}

TEMPLATE = """
apiVersion: ray.io/v1
kind: RayJob
metadata:
  name: from-the-template
  labels: {team: a}
spec:
  entrypoint: python /home/ray/samples/sample_code.py
  rayClusterSpec:
    rayVersion: "2.46.0"
    headGroupSpec:
      rayStartParams: {num-cpus: "2"}
      template:
        spec:
          containers:
          - name: ray-head
            image: rayproject/ray:2.46.0
            ports: [{containerPort: 8265, name: dashboard}]
            resources:
              limits: {cpu: "1", memory: 5Gi}
              requests: {cpu: "1", memory: 2Gi}
            volumeMounts: [{mountPath: /home/ray/samples, name: code-sample}]
          volumes: [{name: code-sample, configMap: {name: code}}]
    workerGroupSpecs:
    - groupName: small-group
      replicas: 1
      minReplicas: 1
      maxReplicas: 5
      rayStartParams: {}
      template:
        spec:
          containers:
          - name: ray-worker
            resources: {limits: {cpu: "1"}, requests: {cpu: 200m}}
    - groupName: gpu-group
      replicas: 0
      minReplicas: 0
      maxReplicas: 1
      template:
        spec:
          containers: [{name: ray-worker, image: rayproject/ray:2.46.0-gpu}]
"""


@pytest.fixture
def build(checked_builder, connection):
    return checked_builder(build_ray_job, RAY_JOB, connection)


def head_container(spec: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    return container


# --- upstream examples ----------------------------------------------------------------------------


def test_every_upstream_example_matches_the_original_crd_and_round_trips(
    upstream_documents, original_crd, build
):
    documents = upstream_documents("ray", RAY_JOB)
    assert len(documents) == 5
    for name, document in documents:
        validate_against_crd(original_crd(RAY_JOB), document, argument=name)
        for template in (yaml.safe_dump(document), document):
            manifest = build(BARE, application_file=template)

            assert manifest["spec"] == {**SHUTDOWN, **document["spec"]}, name
            labels = document["metadata"].get("labels")
            assert manifest["metadata"] == ({"labels": labels} if labels else {}), name


def test_an_upstream_example_keeps_its_queue_over_the_connections(upstream_documents, build):
    (document,) = [doc for name, doc in upstream_documents("ray", RAY_JOB) if "yunikorn" in name]

    labels = build(application_file=document)["metadata"]["labels"]

    assert labels[QUEUE_LABEL] == "root.test"


# --- the argument matrix --------------------------------------------------------------------------


def test_a_job_on_a_default_head_only_cluster(build):
    manifest = build(entrypoint="python /app/job.py")

    assert manifest["metadata"] == {"labels": {QUEUE_LABEL: "root.team-a"}}
    assert manifest["spec"] == {
        "entrypoint": "python /app/job.py",
        "rayClusterSpec": {
            "headGroupSpec": {
                "rayStartParams": {},
                "template": {
                    "spec": {
                        "containers": [{"name": "ray-head", "resources": ONE_CPU, "image": IMAGE}],
                        "serviceAccountName": "job-runner",
                    }
                },
            },
            "rayVersion": "2.52.0",
        },
        **SHUTDOWN,
    }


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"workers": [{"name": "w", "replicas": 2, "cpu": 2, "memory": "4Gi"}], "architecture": "arm64"},
        {"application_file": TEMPLATE, "head": {"cpu": 2}, "runtime_env": {"pip": ["requests"]}},
    ],
    ids=["defaults", "workers", "template"],
)
def test_what_the_builder_makes_passes_the_local_controllers_checks(build, arguments):
    manifest = build(entrypoint="python job.py", **arguments)

    named = {**manifest, "metadata": {**manifest["metadata"], "name": "job-1"}}
    assert local_ray.validation_problem(named) is None


def test_a_bare_connection(build):
    spec = build(BARE, entrypoint="python job.py", image="rayproject/ray:2.52.0", ray_version="2.52.0")[
        "spec"
    ]

    assert head_container(spec)["image"] == "rayproject/ray:2.52.0"
    assert "serviceAccountName" not in spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]
    assert spec["rayClusterSpec"]["rayVersion"] == "2.52.0"


def test_an_entrypoint_list_is_joined_as_a_shell_splits_it(build):
    spec = build(entrypoint=["python", "job.py", "--name", "a b", 3])["spec"]

    assert spec["entrypoint"] == "python job.py --name 'a b' 3"


def test_runtime_env_becomes_yaml(build):
    runtime_env = {
        "pip": ("requests==2.26.0",),
        "env_vars": {"counter_name": "test"},
        "working_dir": "s3://b/w.zip",
    }

    text = build(entrypoint="python job.py", runtime_env=runtime_env)["spec"]["runtimeEnvYAML"]

    assert yaml.safe_load(text) == {**runtime_env, "pip": ["requests==2.26.0"]}
    assert text.startswith("pip:")


def test_runtime_env_text_is_kept():
    assert runtime_env_yaml("pip: [a]\n") == "pip: [a]\n"


def test_head_and_workers(build):
    spec = build(
        entrypoint="python job.py",
        head={"cpu": 2, "memory": "8Gi", "ray_start_params": {"num-cpus": 0}},
        workers=[
            {"name": "cpu", "replicas": 2, "max_replicas": 10, "cpu": "4", "memory": "16Gi"},
            {"name": "gpu", "replicas": 1, "min_replicas": 0, "gpu": 1, "cpu": 8, "memory": "32Gi"},
        ],
    )["spec"]
    cluster = spec["rayClusterSpec"]

    assert cluster["headGroupSpec"]["rayStartParams"] == {"num-cpus": "0"}
    assert head_container(spec)["resources"] == {
        "requests": {"cpu": "2", "memory": "8Gi"},
        "limits": {"cpu": "2", "memory": "8Gi"},
    }
    cpu, gpu = cluster["workerGroupSpecs"]
    assert {key: cpu[key] for key in ("groupName", "replicas", "minReplicas", "maxReplicas")} == {
        "groupName": "cpu",
        "replicas": 2,
        "minReplicas": 2,
        "maxReplicas": 10,
    }
    assert (gpu["minReplicas"], gpu["maxReplicas"]) == (0, 1)
    (gpu_container,) = gpu["template"]["spec"]["containers"]
    assert gpu_container == {
        "name": "ray-worker",
        "resources": {
            "requests": {"cpu": "8", "memory": "32Gi"},
            "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": 1},
        },
        "image": IMAGE,
    }
    assert gpu["template"]["spec"]["serviceAccountName"] == "job-runner"


def test_head_resizes_a_templates_head_and_keeps_the_rest(build):
    spec = build(application_file=TEMPLATE, head={"memory": "6Gi"})["spec"]
    container = head_container(spec)

    assert container["resources"] == {
        "limits": {"cpu": "1", "memory": "6Gi"},
        "requests": {"cpu": "1", "memory": "6Gi"},
    }
    assert container["ports"] == [{"containerPort": 8265, "name": "dashboard"}]
    assert container["volumeMounts"] == [{"mountPath": "/home/ray/samples", "name": "code-sample"}]
    assert container["image"] == "rayproject/ray:2.46.0"  # the template's
    assert spec["rayClusterSpec"]["headGroupSpec"]["rayStartParams"] == {"num-cpus": "2"}
    assert spec["rayClusterSpec"]["rayVersion"] == "2.46.0"


def test_workers_resize_the_templates_group_of_that_name_and_drop_the_others(build):
    spec = build(
        application_file=TEMPLATE, workers=[{"name": "small-group", "replicas": 3, "max_replicas": 5}]
    )["spec"]

    (group,) = spec["rayClusterSpec"]["workerGroupSpecs"]
    assert (group["groupName"], group["replicas"], group["minReplicas"], group["maxReplicas"]) == (
        "small-group",
        3,
        3,
        5,
    )
    assert group["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "1"},
        "requests": {"cpu": "200m"},
    }


def test_a_template_gets_the_connections_image_account_and_queue_where_it_has_none(build):
    manifest = build(application_file=TEMPLATE)
    small, gpu = manifest["spec"]["rayClusterSpec"]["workerGroupSpecs"]

    assert small["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert gpu["template"]["spec"]["containers"][0]["image"] == "rayproject/ray:2.46.0-gpu"
    assert small["template"]["spec"]["serviceAccountName"] == "job-runner"
    assert manifest["metadata"] == {"labels": {"team": "a", QUEUE_LABEL: "root.team-a"}}


def test_image_architecture_and_account_arguments_reach_every_group(build):
    spec = build(
        application_file=TEMPLATE, image="mine/ray:2", architecture="arm64", service_account="other"
    )["spec"]
    groups = [spec["rayClusterSpec"]["headGroupSpec"], *spec["rayClusterSpec"]["workerGroupSpecs"]]

    for group in groups:
        pod = group["template"]["spec"]
        assert pod["containers"][0]["image"] == "mine/ray:2"
        assert pod["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
        assert pod["serviceAccountName"] == "other"


def test_arm64_picks_the_connections_arm_image(build):
    spec = build(entrypoint="python job.py", architecture="arm64")["spec"]

    assert head_container(spec)["image"] == "registry.example/ray:2.52.0-arm64"


def test_a_whole_ray_cluster_spec_replaces_the_templates(build):
    cluster = yaml.safe_load(TEMPLATE)["spec"]["rayClusterSpec"]
    del cluster["workerGroupSpecs"]

    spec = build(application_file=TEMPLATE, ray_cluster_spec=cluster, ray_version="2.52.0")["spec"]

    assert "workerGroupSpecs" not in spec["rayClusterSpec"]
    assert spec["rayClusterSpec"]["rayVersion"] == "2.52.0"


@pytest.mark.parametrize("selector", ["shared-cluster", {"ray.io/cluster": "shared-cluster"}])
def test_an_existing_cluster(build, selector):
    spec = build(application_file=TEMPLATE, cluster_selector=selector)["spec"]

    assert spec == {
        "entrypoint": "python /home/ray/samples/sample_code.py",
        "clusterSelector": {"ray.io/cluster": "shared-cluster"},
    }


def test_job_settings(build):
    spec = build(
        entrypoint="python job.py",
        backoff_limit=2,
        active_deadline_seconds=3600,
        submission_mode="HTTPMode",
        ttl_seconds_after_finished=0,
    )["spec"]

    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["submissionMode"]) == (
        2,
        3600,
        "HTTPMode",
    )
    assert (spec["shutdownAfterJobFinishes"], spec["ttlSecondsAfterFinished"]) == (True, 0)


def test_keeping_the_cluster(build):
    spec = build(entrypoint="python job.py", shutdown_after_job_finishes=False)["spec"]

    assert spec["shutdownAfterJobFinishes"] is False
    assert "ttlSecondsAfterFinished" not in spec


def test_a_templates_choices_about_shutdown_are_kept(build):
    template = yaml.safe_load(TEMPLATE)
    template["spec"]["shutdownAfterJobFinishes"] = False

    assert "ttlSecondsAfterFinished" not in build(application_file=template)["spec"]
    template["spec"] = {**template["spec"], "shutdownAfterJobFinishes": True, "ttlSecondsAfterFinished": 600}
    assert build(application_file=template)["spec"]["ttlSecondsAfterFinished"] == 600


def test_a_deletion_strategy_gets_no_shutdown_default(build):
    rules = {
        "deletionRules": [
            {"policy": "DeleteCluster", "condition": {"jobStatus": "SUCCEEDED", "ttlSeconds": 30}}
        ]
    }

    spec = build(entrypoint="python job.py", spec_overrides={"deletionStrategy": rules})["spec"]

    assert "shutdownAfterJobFinishes" not in spec and "ttlSecondsAfterFinished" not in spec


def test_the_queue_argument_beats_the_templates_label(build):
    assert (
        build(application_file=TEMPLATE, queue="root.adhoc")["metadata"]["labels"][QUEUE_LABEL]
        == "root.adhoc"
    )


def test_overrides_come_last(build):
    spec = build(
        entrypoint="python job.py",
        image="mine/ray:2",
        spec_overrides={"rayClusterSpec": {"enableInTreeAutoscaling": True}, "entrypointNumCpus": 1},
    )["spec"]

    assert spec["rayClusterSpec"]["enableInTreeAutoscaling"] is True
    assert spec["entrypointNumCpus"] == 1


def test_the_template_argument_is_not_changed(connection):
    template = yaml.safe_load(TEMPLATE)
    before = json.dumps(template, sort_keys=True)

    build_ray_job(
        settings=connection,
        application_file=template,
        head={"cpu": 3},
        architecture="arm64",
        workers=[{"name": "small-group"}],
    )

    assert json.dumps(template, sort_keys=True) == before


# --- errors: each names its argument --------------------------------------------------------------

SELECTOR = {"cluster_selector": "shared"}


@pytest.mark.parametrize(
    ("arguments", "argument", "fragment"),
    [
        ({}, "entrypoint", "no entrypoint"),
        (
            {"spec_overrides": {"submitterPodTemplate": {"spec": {"containers": []}}}},
            "entrypoint",
            "no entrypoint",
        ),
        ({"spec_overrides": {"submitterPodTemplate": "x"}}, "entrypoint", "no entrypoint"),
        ({"entrypoint": ""}, "entrypoint", "non-empty"),
        ({"entrypoint": ["python", None]}, "entrypoint[1]", "got None"),
        ({"entrypoint": "x", "runtime_env": ["pip"]}, "runtime_env", "expected a dict"),
        ({"entrypoint": "x", "runtime_env": {"pip": {1, 2}}}, "runtime_env", "JSON values only"),
        ({"entrypoint": "x", "runtime_env": {"a": float("nan")}}, "runtime_env", "JSON values only"),
        ({"entrypoint": "x", "runtime_env": {1: "a"}}, "runtime_env", "keys must be strings"),
        ({"entrypoint": "x", "runtime_env": "- a\n"}, "runtime_env", "expected a mapping"),
        ({"entrypoint": "x", "runtime_env": "a: [\n"}, "runtime_env", "not valid YAML"),
        ({"entrypoint": "x", "head": {"cores": 1}}, "head", "allowed: cpu, memory, gpu, ray_start_params"),
        ({"entrypoint": "x", "head": {"memory": "4g"}}, "head['memory']", "memory quantity"),
        ({"entrypoint": "x", "head": {"memory": "512m"}}, "head['memory']", "'m' is milli"),
        ({"entrypoint": "x", "head": {"cpu": 0}}, "head['cpu']", "CPU quantity"),
        ({"entrypoint": "x", "head": {"gpu": -1}}, "head['gpu']", ">= 0"),
        (
            {"entrypoint": "x", "head": {"ray_start_params": {"num-cpus": None}}},
            "head['ray_start_params']['num-cpus']",
            "None",
        ),
        ({"entrypoint": "x", "workers": {"name": "a"}}, "workers", "a list of worker groups"),
        ({"entrypoint": "x", "workers": [{"replicas": 1}]}, "workers[0]['name']", "non-empty"),
        ({"entrypoint": "x", "workers": [{"name": "Big_Group"}]}, "workers[0]['name']", "DNS label"),
        ({"entrypoint": "x", "workers": [{"name": "a"}, {"name": "a"}]}, "workers[1]['name']", "named twice"),
        (
            {"entrypoint": "x", "workers": [{"name": "a", "replicas": 3, "max_replicas": 2}]},
            "workers[0]",
            "<= max_replicas (2)",
        ),
        (
            {"entrypoint": "x", "workers": [{"name": "a", "replicas": 1, "min_replicas": 2}]},
            "workers[0]",
            "min_replicas (2)",
        ),
        ({"entrypoint": "x", "workers": [{"name": "a", "replicas": -1}]}, "workers[0]['replicas']", ">= 0"),
        ({"entrypoint": "x", "workers": [{"name": "a", "cpus": 1}]}, "workers[0]", "unknown key(s) 'cpus'"),
        ({"entrypoint": "x", "workers": ["a"]}, "workers[0]", "expected a mapping"),
        ({"entrypoint": "x", "ray_cluster_spec": "head"}, "ray_cluster_spec", "a rayClusterSpec"),
        ({"entrypoint": "x", **SELECTOR, "head": {"cpu": 1}}, "head", "existing RayCluster"),
        ({"entrypoint": "x", **SELECTOR, "workers": []}, "workers", "existing RayCluster"),
        ({"entrypoint": "x", **SELECTOR, "ray_cluster_spec": {}}, "ray_cluster_spec", "existing RayCluster"),
        ({"entrypoint": "x", **SELECTOR, "ray_version": "2.52.0"}, "ray_version", "existing RayCluster"),
        ({"entrypoint": "x", **SELECTOR, "backoff_limit": 1}, "backoff_limit", "cluster_selector"),
        (
            {"entrypoint": "x", **SELECTOR, "ttl_seconds_after_finished": 5},
            "ttl_seconds_after_finished",
            "shut down",
        ),
        ({"entrypoint": "x", "cluster_selector": {"app": "x"}}, "cluster_selector", "'ray.io/cluster'"),
        (
            {"entrypoint": "x", "cluster_selector": {"ray.io/cluster": " "}},
            "cluster_selector",
            "'ray.io/cluster'",
        ),
        ({"entrypoint": "x", "cluster_selector": ""}, "cluster_selector", "'ray.io/cluster'"),
        (
            {"entrypoint": "x", "shutdown_after_job_finishes": "yes"},
            "shutdown_after_job_finishes",
            "True or False",
        ),
        (
            {"entrypoint": "x", "shutdown_after_job_finishes": False, "ttl_seconds_after_finished": 5},
            "ttl_seconds_after_finished",
            "shut down",
        ),
        ({"entrypoint": "x", "ttl_seconds_after_finished": -1}, "ttl_seconds_after_finished", ">= 0"),
        ({"entrypoint": "x", "backoff_limit": -1}, "backoff_limit", ">= 0"),
        ({"entrypoint": "x", "active_deadline_seconds": 0}, "active_deadline_seconds", ">= 1"),
        ({"entrypoint": "x", "submission_mode": "InteractiveMode"}, "submission_mode", "by hand"),
        ({"entrypoint": "x", "ray_version": ""}, "ray_version", "non-empty"),
        ({"entrypoint": "x", "image": ""}, "image", "non-empty"),
        ({"entrypoint": "x", "service_account": 2}, "service_account", "non-empty"),
        ({"entrypoint": "x", "queue": ""}, "queue", "non-empty"),
        ({"entrypoint": "x", "architecture": "arm"}, "architecture", "amd64, arm64"),
        ({"entrypoint": "x", "spec_overrides": ["a"]}, "spec_overrides", "mapping"),
        ({"entrypoint": "x", "spec_overrides": {"backoffLimit": "2"}}, "spec_overrides", "spec.backoffLimit"),
        (
            {"entrypoint": "x", "application_file": "kind: RayCluster"},
            "application_file",
            "expected apiVersion ray.io/v1",
        ),
    ],
)
def test_argument_errors(named_error, connection, arguments, argument, fragment):
    named_error(build_ray_job, connection, argument, fragment, **arguments)


def test_no_image_names_the_argument_and_the_connection_field(spec_error):
    error = spec_error(build_ray_job, BARE, entrypoint="python job.py")

    assert (error.argument, error.problem) == (
        "image",
        "no image: pass image= or set ray_image on the moka connection",
    )


def test_a_templates_ttl_without_shutdown_names_the_template(spec_error, connection):
    template = yaml.safe_load(TEMPLATE)
    template["spec"].update(shutdownAfterJobFinishes=False, ttlSecondsAfterFinished=30)

    assert spec_error(build_ray_job, connection, application_file=template).argument == "application_file"


def test_a_custom_submitter_command_stands_in_for_the_entrypoint(build):
    submitter = {"spec": {"containers": [{"name": "submit", "image": "s:1", "command": ["/submitter"]}]}}

    spec = build(spec_overrides={"submitterPodTemplate": submitter})["spec"]

    assert "entrypoint" not in spec


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"entrypoint": "x"}, "arguments"),
        ({"application_file": TEMPLATE}, "application_file"),
        ({"application_file": TEMPLATE, "spec_overrides": {"suspend": False}}, "spec_overrides"),
    ],
)
def test_the_crd_check_names_the_layer_most_likely_at_fault(
    crd_check_argument, connection, arguments, expected
):
    assert crd_check_argument(ray_spec, build_ray_job, connection, **arguments) == expected


# --- what KubeRay refuses after creation (ValidationFailed), or never ends ---------------------------


def rule(policy: str, seconds: int = 60, status: str = "SUCCEEDED") -> dict[str, Any]:
    return {"policy": policy, "condition": {"jobStatus": status, "ttlSeconds": seconds}}


def legacy(on_success: str, on_failure: str | None = None) -> dict[str, Any]:
    return {"onSuccess": {"policy": on_success}, "onFailure": {"policy": on_failure or on_success}}


SIDECAR = {"submission_mode": "SidecarMode"}


@pytest.mark.parametrize(
    ("arguments", "argument", "fragment"),
    [
        ({**SELECTOR, **SIDECAR}, "submission_mode", "SidecarMode on an existing cluster"),
        (
            {**SELECTOR, "spec_overrides": {"submissionMode": "SidecarMode"}},
            "spec_overrides",
            "SidecarMode on an existing cluster",
        ),
        ({"spec_overrides": {"submissionMode": "InteractiveMode"}}, "spec_overrides", "wait forever"),
        (
            {"spec_overrides": {"submissionMode": "InteractiveMode", "backoffLimit": 2}},
            "spec_overrides",
            "by hand",
        ),
        (
            {"spec_overrides": {"suspend": True, "shutdownAfterJobFinishes": False}},
            "spec_overrides",
            "suspended",
        ),
        (
            {"shutdown_after_job_finishes": False, "spec_overrides": {"suspend": True}},
            "spec_overrides",
            "suspend",
        ),
        ({**SELECTOR, "spec_overrides": {"suspend": True}}, "spec_overrides", "suspend"),
        ({"spec_overrides": {"ttlSecondsAfterFinished": -1}}, "spec_overrides", "must not be negative"),
        ({"spec_overrides": {"backoffLimit": -1}}, "spec_overrides", "backoffLimit must not be negative"),
        (
            {"spec_overrides": {"activeDeadlineSeconds": 0}},
            "spec_overrides",
            "activeDeadlineSeconds must be a positive number",
        ),
        ({"spec_overrides": {"rayClusterSpec": None}}, "spec_overrides", "needs a cluster"),
        (
            {**SELECTOR, "spec_overrides": {"clusterSelector": {"ray.io/cluster": None, "app": "x"}}},
            "spec_overrides",
            "'ray.io/cluster' key",
        ),
        (
            {**SIDECAR, "spec_overrides": {"submitterConfig": {"backoffLimit": 1}}},
            "spec_overrides",
            "submitterConfig",
        ),
        (
            {
                **SIDECAR,
                "spec_overrides": {"submitterPodTemplate": {"spec": {"containers": [{"name": "s"}]}}},
            },
            "spec_overrides",
            "submitterPodTemplate in SidecarMode",
        ),
        (
            {
                **SIDECAR,
                "spec_overrides": {
                    "rayClusterSpec": {"headGroupSpec": {"template": {"spec": {"restartPolicy": "Always"}}}}
                },
            },
            "spec_overrides",
            "restartPolicy must be Never or unset",
        ),
        (
            {"spec_overrides": {"rayClusterSpec": {"authOptions": {"enableK8sTokenAuth": True}}}},
            "spec_overrides",
            "token auth",
        ),
        ({"spec_overrides": {"runtimeEnvYAML": "a: [\n"}}, "spec_overrides", "not valid YAML"),
        ({"spec_overrides": {"runtimeEnvYAML": "- pip\n"}}, "spec_overrides", "must be a mapping"),
        # validateDeletionConfiguration
        (
            {
                "shutdown_after_job_finishes": True,
                "spec_overrides": {"deletionStrategy": {"deletionRules": [rule("DeleteCluster")]}},
            },
            "shutdown_after_job_finishes",
            "together with deletionStrategy.deletionRules",
        ),
        (
            {
                "spec_overrides": {
                    "deletionStrategy": {"deletionRules": [rule("DeleteCluster")], **legacy("DeleteCluster")}
                }
            },
            "spec_overrides",
            "not both",
        ),
        (
            {"spec_overrides": {"deletionStrategy": {"onSuccess": {"policy": "DeleteCluster"}}}},
            "spec_overrides",
            "both onSuccess and onFailure",
        ),
        ({"spec_overrides": {"deletionStrategy": {}}}, "spec_overrides", "it is empty"),
        (
            {
                "shutdown_after_job_finishes": True,
                "spec_overrides": {"deletionStrategy": legacy("DeleteCluster", "DeleteNone")},
            },
            "spec_overrides",
            "DeleteNone contradicts",
        ),
        (
            {**SELECTOR, "spec_overrides": {"deletionStrategy": legacy("DeleteCluster")}},
            "spec_overrides",
            "existing cluster",
        ),
        (
            {**SELECTOR, "spec_overrides": {"deletionStrategy": {"deletionRules": [rule("DeleteWorkers")]}}},
            "spec_overrides",
            "deletionRules[0]: DeleteWorkers is not supported on an existing cluster",
        ),
        (
            {
                "spec_overrides": {
                    "rayClusterSpec": {"enableInTreeAutoscaling": True},
                    "deletionStrategy": {"deletionRules": [rule("DeleteWorkers")]},
                }
            },
            "spec_overrides",
            "autoscaling",
        ),
        (
            {
                "spec_overrides": {
                    "deletionStrategy": {"deletionRules": [rule("DeleteCluster"), rule("DeleteCluster", 90)]}
                }
            },
            "spec_overrides",
            "deletionRules[1]: a second DeleteCluster rule for jobStatus SUCCEEDED",
        ),
        (
            {
                "spec_overrides": {
                    "deletionStrategy": {
                        "deletionRules": [rule("DeleteCluster", 300), rule("DeleteWorkers", 600)]
                    }
                }
            },
            "spec_overrides",
            "the DeleteCluster TTL (300) must be at least the DeleteWorkers TTL (600)",
        ),
        (
            {
                "spec_overrides": {
                    "deletionStrategy": {
                        "deletionRules": [{"policy": "DeleteCluster", "condition": {"ttlSeconds": 5}}]
                    }
                }
            },
            "spec_overrides",
            "exactly one of jobStatus and jobDeploymentStatus",
        ),
        # DeleteSelf sooner than a minute after the end
        (
            {"spec_overrides": {"deletionStrategy": {"deletionRules": [rule("DeleteSelf", 30)]}}},
            "spec_overrides",
            "deletionRules[0]: DeleteSelf after 30 s deletes the RayJob too soon",
        ),
        (
            {
                "spec_overrides": {
                    "deletionStrategy": {
                        "deletionRules": [
                            rule("DeleteCluster", 0, "FAILED"),
                            {"policy": "DeleteSelf", "condition": {"jobDeploymentStatus": "Failed"}},
                        ]
                    }
                }
            },
            "spec_overrides",
            "DeleteSelf after 0 s",
        ),
        (
            {
                "shutdown_after_job_finishes": False,
                "spec_overrides": {"deletionStrategy": legacy("DeleteCluster", "DeleteSelf")},
            },
            "spec_overrides",
            "onFailure DeleteSelf deletes the RayJob ttlSecondsAfterFinished (0) s after it ends",
        ),
        (
            {
                "shutdown_after_job_finishes": True,
                "ttl_seconds_after_finished": 59,
                "spec_overrides": {"deletionStrategy": legacy("DeleteSelf")},
            },
            "spec_overrides",
            "at least 60",
        ),
    ],
)
def test_what_kuberay_refuses_or_never_finishes(named_error, connection, arguments, argument, fragment):
    named_error(build_ray_job, connection, argument, fragment, entrypoint="python job.py", **arguments)


def test_a_templates_interactive_mode_names_the_template(spec_error, connection):
    template = yaml.safe_load(TEMPLATE)
    template["spec"]["submissionMode"] = "InteractiveMode"

    error = spec_error(build_ray_job, connection, application_file=template)

    assert error.argument == "application_file" and "InteractiveMode" in error.problem


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "deletionStrategy": {
                "deletionRules": [rule("DeleteWorkers", 0), rule("DeleteCluster", 0), rule("DeleteSelf", 60)]
            }
        },
        {
            "deletionStrategy": {
                "deletionRules": [rule("DeleteCluster", 0), rule("DeleteSelf", 3600, "FAILED")]
            }
        },
        {
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 60,
            "deletionStrategy": legacy("DeleteSelf"),
        },
        {"shutdownAfterJobFinishes": True, "deletionStrategy": legacy("DeleteCluster", "DeleteWorkers")},
        {"submissionMode": "SidecarMode"},
        {"suspend": True},  # with the default shutdown: Kueue admits it by unsuspending
        {"runtimeEnvYAML": ""},
    ],
)
def test_specs_kuberay_accepts_still_build(build, overrides):
    spec = build(entrypoint="python job.py", spec_overrides=overrides)["spec"]

    assert all(spec[key] == value for key, value in overrides.items())


def test_kuberay_rules_do_not_reject_an_existing_cluster_in_http_mode(build):
    spec = build(entrypoint="python job.py", cluster_selector="shared", submission_mode="HTTPMode")["spec"]

    assert spec["submissionMode"] == "HTTPMode"
