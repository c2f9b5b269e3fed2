"""build_flink_deployment / build_flink_session_job: arguments, templates, connection defaults, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from moka_provider.engines import flink_spec
from moka_provider.engines.flink_spec import (
    DEFAULT_RESOURCE,
    PYTHON_DRIVER,
    RUNTIME_MODE,
    build_flink_deployment,
    build_flink_session_job,
    flink_version_name,
)
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.local.controllers import flink as local_flink
from moka_provider.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings

BARE = MokaSettings()
JAR = "local:///opt/flink/usrlib/etl.jar"
#: A session job's jar: the operator fetches it itself, over https only by default.
REMOTE_JAR = "https://artifacts.example.com/jobs/etl.jar"
BATCH = {RUNTIME_MODE: "BATCH"}
QUEUE_POD = {
    "metadata": {"labels": {"yunikorn.apache.org/queue": "root.team-a"}},
    "spec": {"schedulerName": "yunikorn"},
}

TEMPLATE = """
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: from-the-template
  labels: {team: a}
spec:
  image: template/flink:2.2
  flinkVersion: v2_2
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: 2
  serviceAccount: template-account
  jobManager:
    resources:
      requests: {memory: 2048m, cpu: "1"}
  taskManager:
    resource: {memory: 2048m, cpu: 1}
  job:
    jarURI: local:///opt/flink/examples/batch/WordCount.jar
    args: [--input, /data/in]
    parallelism: 2
    upgradeMode: stateless
"""


@pytest.fixture
def build(checked_builder, connection):
    return checked_builder(build_flink_deployment, FLINK_DEPLOYMENT, connection)


def named_error_of(settings: MokaSettings, argument: str, **arguments: Any) -> MokaJobSpecError:
    with pytest.raises(MokaJobSpecError) as caught:
        build_flink_deployment(settings=settings, **arguments)
    assert caught.value.argument == argument
    assert str(caught.value).startswith(f"argument {argument!r}: ")
    return caught.value


@pytest.fixture
def build_session_job(checked_builder, connection):
    return checked_builder(build_flink_session_job, FLINK_SESSION_JOB, connection)


# --- upstream examples ----------------------------------------------------------------------------


def test_every_upstream_example_matches_the_original_crds(upstream_documents, original_crd):
    deployments = upstream_documents("flink", FLINK_DEPLOYMENT)
    session_jobs = upstream_documents("flink", FLINK_SESSION_JOB)

    assert len(deployments) == 4 and len(session_jobs) == 2
    for resource, documents in ((FLINK_DEPLOYMENT, deployments), (FLINK_SESSION_JOB, session_jobs)):
        for name, document in documents:
            validate_against_crd(original_crd(resource), document, argument=name)


def test_upstream_application_examples_round_trip_in_batch_mode(upstream_documents, build):
    applications = [
        (name, doc) for name, doc in upstream_documents("flink", FLINK_DEPLOYMENT) if "job" in doc["spec"]
    ]
    assert len(applications) == 3
    for name, document in applications:
        for template in (yaml.safe_dump(document), document):
            spec = build(BARE, application_file=template)["spec"]

            expected = {
                **document["spec"],
                "flinkConfiguration": {**document["spec"]["flinkConfiguration"], **BATCH},
            }
            assert spec == expected, name


def test_the_upstream_python_example_keeps_its_driver_and_arguments(shared_dir, build):
    text = (shared_dir / "upstream-examples" / "flink" / "python-example.yaml").read_text()

    job = build(application_file=text)["spec"]["job"]

    assert job["entryClass"] == PYTHON_DRIVER == local_flink.PYTHON_DRIVER
    assert job["args"] == ["-pyclientexec", "/usr/bin/python3", "-py", "/opt/flink/usrlib/python_demo.py"]


def test_an_upstream_session_cluster_needs_a_job_to_be_a_batch_application(
    spec_error, upstream_documents, build
):
    (session,) = [doc for _, doc in upstream_documents("flink", FLINK_DEPLOYMENT) if "job" not in doc["spec"]]

    assert spec_error(build_flink_deployment, settings=BARE, application_file=session).argument == "jar_uri"
    spec = build(BARE, application_file=session, jar_uri=JAR)["spec"]
    assert spec == {
        **session["spec"],
        "job": {"jarURI": JAR, "parallelism": 1, "upgradeMode": "stateless"},
        "flinkConfiguration": BATCH,
    }


def test_upstream_session_jobs_round_trip_in_batch_mode(upstream_documents, build_session_job):
    for name, document in upstream_documents("flink", FLINK_SESSION_JOB):
        for template in (yaml.safe_dump(document), document):
            spec = build_session_job(BARE, application_file=template)["spec"]

            assert spec == {**document["spec"], "flinkConfiguration": BATCH}, name


# --- the argument matrix --------------------------------------------------------------------------


def test_a_jar_job_with_connection_defaults(build):
    assert build(jar_uri=JAR)["spec"] == {
        "image": "registry.example/flink:1.20-amd64",
        "flinkVersion": "v1_20",
        "serviceAccount": "job-runner",
        "jobManager": {"resource": DEFAULT_RESOURCE},
        "taskManager": {"resource": DEFAULT_RESOURCE},
        "podTemplate": QUEUE_POD,
        "job": {"jarURI": JAR, "parallelism": 1, "upgradeMode": "stateless"},
        "flinkConfiguration": BATCH,
    }


def test_a_bare_connection_needs_image_and_version_and_defaults_the_operators_account(build):
    spec = build(BARE, jar_uri=JAR, image="flink:1.20", flink_version="v1_20")["spec"]

    assert spec["serviceAccount"] == "flink"
    assert "podTemplate" not in spec  # no queue anywhere: no scheduler either


def test_jar_entry_class_args_and_parallelism(build):
    job = build(jar_uri=JAR, entry_class="org.example.Etl", args=["--date", 20240101, 0.5], parallelism=8)[
        "spec"
    ]["job"]

    assert job == {
        "jarURI": JAR,
        "entryClass": "org.example.Etl",
        "args": ["--date", "20240101", "0.5"],
        "parallelism": 8,
        "upgradeMode": "stateless",
    }


@pytest.mark.parametrize(
    ("arguments", "program"),
    [
        ({"python_file": "/opt/flink/usrlib/etl.py"}, ["-py", "/opt/flink/usrlib/etl.py"]),
        ({"python_module": "etl.main"}, ["-pym", "etl.main"]),
        ({"python_file": "/opt/etl.py", "args": ["--day", 1]}, ["-py", "/opt/etl.py", "--day", "1"]),
    ],
)
def test_python_jobs_run_the_python_driver(build, arguments, program):
    job = build(**arguments)["spec"]["job"]

    assert job == {"entryClass": PYTHON_DRIVER, "args": program, "parallelism": 1, "upgradeMode": "stateless"}


def test_a_python_job_replaces_a_jar_templates_program(build):
    job = build(application_file=TEMPLATE, python_file="/opt/etl.py")["spec"]["job"]

    assert job == {
        "args": ["-py", "/opt/etl.py"],
        "parallelism": 2,
        "upgradeMode": "stateless",
        "entryClass": PYTHON_DRIVER,
    }


def test_a_python_job_may_add_a_jar(build):
    job = build(python_file="/opt/etl.py", jar_uri="local:///opt/flink/lib/connector.jar")["spec"]["job"]

    assert (job["jarURI"], job["entryClass"]) == ("local:///opt/flink/lib/connector.jar", PYTHON_DRIVER)


def test_sizes_go_to_the_resource_field(build):
    spec = build(
        jar_uri=JAR,
        job_manager={"cpu": "500m", "memory": "1Gi"},
        task_manager={"cpu": 2, "memory": "4g", "replicas": 3, "ephemeral_storage": "10Gi"},
    )["spec"]

    assert spec["jobManager"] == {"resource": {"cpu": 0.5, "memory": "1Gi"}}
    assert spec["taskManager"] == {
        "resource": {"cpu": 2, "memory": "4g", "ephemeralStorage": "10Gi"},
        "replicas": 3,
    }


def test_a_size_fills_the_default_resource(build):
    spec = build(jar_uri=JAR, task_manager={"cpu": "1.5"})["spec"]

    assert spec["taskManager"] == {"resource": {"cpu": 1.5, "memory": "2048m"}}


@pytest.mark.parametrize("memory", ["2048m", "2g", "2 gb", "1024M", "2Gi", "1.5Gi", "512Mi"])
def test_memory_sizes_flink_and_kubernetes_read(build, memory):
    spec = build(jar_uri=JAR, job_manager={"memory": memory})["spec"]

    assert spec["jobManager"]["resource"]["memory"] == memory


def test_sizes_follow_a_template_that_uses_resources(build):
    spec = build(
        application_file=TEMPLATE, job_manager={"cpu": 2, "memory": "4Gi"}, task_manager={"memory": "8g"}
    )["spec"]

    assert spec["jobManager"] == {"resources": {"requests": {"memory": "4Gi", "cpu": "2"}}}
    assert spec["taskManager"] == {"resource": {"memory": "8g", "cpu": 1}}


def test_memory_in_flink_configuration_suppresses_the_default_size(build):
    spec = build(jar_uri=JAR, flink_configuration={"jobmanager.memory.process.size": "3g"})["spec"]

    assert "jobManager" not in spec
    assert spec["taskManager"] == {"resource": DEFAULT_RESOURCE}


def test_flink_configuration_values_become_text_and_batch_is_added(build):
    conf = build(
        jar_uri=JAR,
        flink_configuration={"taskmanager.numberOfTaskSlots": 4, "pipeline.object-reuse": True, "a.b": 0.5},
    )["spec"]["flinkConfiguration"]

    assert conf == {
        "taskmanager.numberOfTaskSlots": "4",
        "pipeline.object-reuse": "true",
        "a.b": "0.5",
        **BATCH,
    }


@pytest.mark.parametrize("mode", ["BATCH", "batch"])
def test_an_explicit_batch_mode_is_kept(build, mode):
    conf = build(jar_uri=JAR, flink_configuration={RUNTIME_MODE: mode})["spec"]["flinkConfiguration"]

    assert conf == {RUNTIME_MODE: mode}


def test_a_nested_batch_mode_in_a_template_is_recognised(build):
    template = yaml.safe_load(TEMPLATE)
    template["spec"]["flinkConfiguration"] = {"execution": {"runtime-mode": "BATCH"}}

    conf = build(application_file=template)["spec"]["flinkConfiguration"]

    assert conf == {"execution": {"runtime-mode": "BATCH"}}


@pytest.mark.parametrize(
    ("version", "expected"), [("v1_19", "v1_19"), ("1.20", "v1_20"), ("2.1.0", "v2_1"), ("v2.2", "v2_2")]
)
def test_flink_versions(build, version, expected):
    assert build(jar_uri=JAR, flink_version=version)["spec"]["flinkVersion"] == expected


def test_the_connections_version_in_either_form(connection):
    assert flink_version_name("1.18.1") == "v1_18"
    spec = build_flink_deployment(
        settings=MokaSettings(images=connection.images, versions={"flink": "v1_17"}), jar_uri=JAR
    )["spec"]
    assert spec["flinkVersion"] == "v1_17"


@pytest.mark.parametrize("version", ["v1_13", "1.14", "1.14.6"])
def test_a_flink_version_the_operator_no_longer_supports_is_refused(connection, version):
    error = named_error_of(connection, "flink_version", jar_uri=JAR, flink_version=version)

    assert "needs v1_15 or later" in error.problem and "nor write any status" in error.problem


def test_v1_15_is_the_oldest_version_accepted(build):
    assert build(jar_uri=JAR, flink_version="1.15")["spec"]["flinkVersion"] == "v1_15"


@pytest.mark.parametrize(
    ("settings", "arguments", "argument", "fragment"),
    [
        (
            MokaSettings(versions={"flink": "1.14"}),
            {},
            "flink_version",
            "(the flink_version of the moka connection)",
        ),
        (BARE, {"spec_overrides": {"flinkVersion": "v1_14"}}, "spec_overrides", "flinkVersion v1_14 "),
        (
            BARE,
            {"application_file": TEMPLATE.replace("v2_2", "v1_13")},
            "application_file",
            "flinkVersion v1_13 ",
        ),
    ],
)
def test_an_unsupported_flink_version_names_its_layer(settings, arguments, argument, fragment):
    with pytest.raises(MokaJobSpecError) as caught:
        build_flink_deployment(settings=settings, jar_uri=JAR, image="flink:1", **arguments)

    assert caught.value.argument == argument
    assert fragment in caught.value.problem


def test_arm64_picks_the_image_and_pins_the_pods(build):
    spec = build(jar_uri=JAR, architecture="arm64")["spec"]

    assert spec["image"] == "registry.example/flink:1.20-arm64"
    assert spec["podTemplate"]["spec"] == {
        "schedulerName": "yunikorn",
        "nodeSelector": {"kubernetes.io/arch": "arm64"},
    }


def test_explicit_values_beat_the_connection(build):
    spec = build(jar_uri=JAR, image="mine/flink:1", service_account="other", queue="root.adhoc")["spec"]

    assert (spec["image"], spec["serviceAccount"]) == ("mine/flink:1", "other")
    assert spec["podTemplate"]["metadata"]["labels"] == {"yunikorn.apache.org/queue": "root.adhoc"}


def test_a_template_keeps_its_choices_and_gets_the_connections_queue(build):
    manifest = build(application_file=TEMPLATE)
    spec = manifest["spec"]

    assert manifest["metadata"] == {"labels": {"team": "a"}}
    assert (spec["image"], spec["flinkVersion"], spec["serviceAccount"]) == (
        "template/flink:2.2",
        "v2_2",
        "template-account",
    )
    assert spec["jobManager"] == {"resources": {"requests": {"memory": "2048m", "cpu": "1"}}}
    assert spec["taskManager"] == {"resource": {"memory": "2048m", "cpu": 1}}
    assert spec["podTemplate"] == QUEUE_POD
    assert list(spec)[:4] == ["image", "flinkVersion", "flinkConfiguration", "serviceAccount"]


def test_the_connection_queue_does_not_join_another_scheduler(build):
    template = yaml.safe_load(TEMPLATE)
    template["spec"]["podTemplate"] = {"spec": {"schedulerName": "volcano"}}

    assert build(application_file=template)["spec"]["podTemplate"] == {"spec": {"schedulerName": "volcano"}}


def test_overrides_delete_and_add(build):
    spec = build(
        jar_uri=JAR,
        spec_overrides={"podTemplate": None, "job": {"upgradeMode": "savepoint"}, "restartNonce": 2},
    )["spec"]

    assert "podTemplate" not in spec
    assert spec["job"]["upgradeMode"] == "savepoint"
    assert spec["restartNonce"] == 2


def test_the_template_argument_is_not_changed(connection):
    template = yaml.safe_load(TEMPLATE)
    before = json.dumps(template, sort_keys=True)

    build_flink_deployment(
        settings=connection, application_file=template, python_file="/a.py", job_manager={"cpu": 2}
    )

    assert json.dumps(template, sort_keys=True) == before


# --- session jobs ---------------------------------------------------------------------------------


def test_a_session_job(build_session_job):
    spec = build_session_job(
        deployment_name="shared-session", jar_uri=REMOTE_JAR, entry_class="a.B", parallelism=2
    )["spec"]

    assert spec == {
        "deploymentName": "shared-session",
        "job": {"jarURI": REMOTE_JAR, "entryClass": "a.B", "parallelism": 2, "upgradeMode": "stateless"},
        "flinkConfiguration": BATCH,
    }


def test_a_python_session_job_with_configuration(build_session_job):
    spec = build_session_job(
        deployment_name="s", python_module="etl.main", flink_configuration={"pipeline.name": "etl"}
    )["spec"]

    assert spec["job"]["args"] == ["-pym", "etl.main"]
    assert spec["flinkConfiguration"] == {"pipeline.name": "etl", **BATCH}


@pytest.mark.parametrize(
    ("arguments", "argument", "fragment"),
    [
        ({"jar_uri": REMOTE_JAR}, "deployment_name", "no session cluster"),
        (
            {"deployment_name": "Session_1", "jar_uri": REMOTE_JAR},
            "deployment_name",
            "not a FlinkDeployment name",
        ),
        ({"deployment_name": "x" * 46, "jar_uri": REMOTE_JAR}, "deployment_name", "45 characters"),
        ({"deployment_name": "s"}, "jar_uri", "no job"),
        (
            {
                "deployment_name": "s",
                "jar_uri": REMOTE_JAR,
                "flink_configuration": {RUNTIME_MODE: "STREAMING"},
            },
            "flink_configuration",
            "BATCH",
        ),
        (
            {"deployment_name": "s", "jar_uri": REMOTE_JAR, "spec_overrides": {"job": {"parallelism": "2"}}},
            "spec_overrides",
            "spec.job.parallelism",
        ),
    ],
)
def test_session_job_errors(named_error, connection, arguments, argument, fragment):
    named_error(build_flink_session_job, connection, argument, fragment, **arguments)


@pytest.mark.parametrize(
    "jar_uri",
    [
        REMOTE_JAR,
        "HTTPS://artifacts.example.com/etl.jar",
        "https://8.8.8.8/etl.jar",
        "https://[2001:db8::1]:8443/etl.jar",
        "https://172.32.0.1/etl.jar",  # just outside 172.16.0.0/12
        "https://artifacts.internal.example/etl.jar",  # a name: only the operator resolves it
    ],
)
def test_session_job_jar_uris_the_operator_accepts(build_session_job, jar_uri):
    assert build_session_job(deployment_name="s", jar_uri=jar_uri)["spec"]["job"]["jarURI"] == jar_uri


@pytest.mark.parametrize(
    ("jar_uri", "fragment"),
    [
        (JAR, "refuses the scheme 'local'"),
        ("s3://bucket/etl.jar", "refuses the scheme 's3'"),
        ("http://artifacts.example.com/etl.jar", "refuses the scheme 'http'"),
        ("https:///etl.jar", "has no host"),
        ("https://localhost/etl.jar", "'localhost' is a loopback address"),
        ("https://127.0.0.1:8080/etl.jar", "loopback"),
        ("https://127.1/etl.jar", "loopback"),
        ("https://[::1]/etl.jar", "loopback"),
        ("https://169.254.169.254/etl.jar", "link-local"),
        ("https://[fe80::1]/etl.jar", "link-local"),
        ("https://10.0.0.7/etl.jar", "site-local"),
        ("https://172.16.3.4/etl.jar", "site-local"),
        ("https://192.168.1.10/etl.jar", "site-local"),
        ("https://[::ffff:10.1.2.3]/etl.jar", "site-local"),
        ("https://0.0.0.0/etl.jar", "wildcard"),
        ("https://224.0.0.1/etl.jar", "multicast"),
    ],
)
def test_session_job_jar_uris_the_operator_refuses(named_error, connection, jar_uri, fragment):
    error = named_error(
        build_flink_session_job, connection, "jar_uri", fragment, deployment_name="s", jar_uri=jar_uri
    )

    # the operator setting that decides it, for clusters configured otherwise
    assert "kubernetes.operator.user.artifacts." in error.problem


def test_a_session_jobs_jar_uri_from_a_template_or_override_names_that_layer(spec_error, connection):
    template = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "spec": {"deploymentName": "s", "job": {"jarURI": "local:///opt/job.jar"}},
    }
    assert (
        spec_error(build_flink_session_job, connection, application_file=template).argument
        == "application_file"
    )
    overrides = {"job": {"jarURI": "https://10.0.0.1/job.jar"}}
    error = spec_error(
        build_flink_session_job, connection, deployment_name="s", jar_uri=REMOTE_JAR, spec_overrides=overrides
    )
    assert error.argument == "spec_overrides"


def test_a_python_session_job_needs_no_jar_uri(build_session_job):
    assert "jarURI" not in build_session_job(deployment_name="s", python_file="/opt/etl.py")["spec"]["job"]


# --- errors: each names its argument --------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "argument", "fragment"),
    [
        ({}, "jar_uri", "no job: pass jar_uri="),
        ({"jar_uri": "/opt/etl.jar"}, "jar_uri", "not a URI"),
        ({"jar_uri": ""}, "jar_uri", "non-empty"),
        ({"entry_class": ""}, "entry_class", "non-empty"),
        ({"python_file": "a.py", "python_module": "a"}, "python_module", "not both"),
        ({"python_file": "a.py", "entry_class": "a.B"}, "entry_class", "PythonDriver"),
        ({"python_module": 3}, "python_module", "non-empty string"),
        ({"jar_uri": JAR, "args": "--a b"}, "args", "a list of strings"),
        ({"python_file": "a.py", "args": ["x", None]}, "args[1]", "got None"),
        ({"jar_uri": JAR, "parallelism": 0}, "parallelism", ">= 1"),
        ({"jar_uri": JAR, "job_manager": {"replicas": 2}}, "job_manager", "unknown key(s) 'replicas'"),
        ({"jar_uri": JAR, "job_manager": "big"}, "job_manager", "expected a mapping"),
        ({"jar_uri": JAR, "task_manager": {"replicas": 0}}, "task_manager['replicas']", ">= 1"),
        ({"jar_uri": JAR, "task_manager": {"cpu": "fast"}}, "task_manager['cpu']", "CPU quantity"),
        ({"jar_uri": JAR, "task_manager": {"memory": "2048"}}, "task_manager['memory']", "bare number"),
        ({"jar_uri": JAR, "task_manager": {"memory": 2048}}, "task_manager['memory']", "'2048m', '2g'"),
        ({"jar_uri": JAR, "task_manager": {"memory": "0m"}}, "task_manager['memory']", "not a memory size"),
        (
            {"jar_uri": JAR, "job_manager": {"ephemeral_storage": "10"}},
            "job_manager['ephemeral_storage']",
            "memory quantity",
        ),
        ({"jar_uri": JAR, "flink_configuration": {"a": None}}, "flink_configuration['a']", "got None"),
        ({"jar_uri": JAR, "flink_configuration": {"a": {"b": 1}}}, "flink_configuration['a']", "(dict)"),
        (
            {"jar_uri": JAR, "flink_configuration": {RUNTIME_MODE: "STREAMING"}},
            "flink_configuration",
            "BATCH mode",
        ),
        (
            {"jar_uri": JAR, "flink_configuration": {RUNTIME_MODE: "AUTOMATIC"}},
            "flink_configuration",
            "'AUTOMATIC'",
        ),
        (
            {"jar_uri": JAR, "spec_overrides": {"flinkConfiguration": {RUNTIME_MODE: "STREAMING"}}},
            "spec_overrides",
            "BATCH",
        ),
        ({"jar_uri": JAR, "flink_version": "1.12"}, "flink_version", "v1_20"),
        ({"jar_uri": JAR, "flink_version": "latest"}, "flink_version", "1.20 style"),
        ({"jar_uri": JAR, "flink_version": 1.2}, "flink_version", "not a Flink version"),
        ({"jar_uri": JAR, "image": ""}, "image", "non-empty"),
        ({"jar_uri": JAR, "service_account": 1}, "service_account", "non-empty"),
        ({"jar_uri": JAR, "queue": ""}, "queue", "non-empty"),
        ({"jar_uri": JAR, "architecture": "x86_64"}, "architecture", "amd64, arm64"),
        ({"jar_uri": JAR, "spec_overrides": "job: {}"}, "spec_overrides", "mapping"),
        ({"jar_uri": JAR, "spec_overrides": {"podTemplate": ["x"]}}, "spec_overrides", "spec.podTemplate"),
        (
            {"jar_uri": JAR, "spec_overrides": {"flinkConfiguration": ["a"]}},
            "spec_overrides",
            "mapping of Flink options",
        ),
        (
            {"jar_uri": JAR, "spec_overrides": {"job": {"upgradeMode": "latest"}}},
            "spec_overrides",
            "spec.job.upgradeMode",
        ),
    ],
)
def test_argument_errors(named_error, connection, arguments, argument, fragment):
    named_error(build_flink_deployment, connection, argument, fragment, **arguments)


def test_no_image_and_no_version_name_the_argument_and_the_connection_field(spec_error):
    assert spec_error(build_flink_deployment, settings=BARE, jar_uri=JAR, flink_version="1.20").problem == (
        "no image: pass image= or set flink_image on the moka connection"
    )
    error = spec_error(build_flink_deployment, settings=BARE, jar_uri=JAR, image="flink:1.20")
    assert error.argument == "flink_version"
    assert "set flink_version on the moka connection" in error.problem


def test_a_bad_connection_version_says_where_it_comes_from(spec_error, connection):
    error = spec_error(
        build_flink_deployment,
        settings=MokaSettings(images=connection.images, versions={"flink": "0.9"}),
        jar_uri=JAR,
    )

    assert error.argument == "flink_version"
    assert "(the flink_version of the moka connection)" in error.problem


def test_a_streaming_template_names_the_template(spec_error, connection):
    template = yaml.safe_load(TEMPLATE)
    template["spec"]["flinkConfiguration"] = {"execution": {"runtime-mode": "STREAMING"}}

    assert (
        spec_error(build_flink_deployment, connection, application_file=template).argument
        == "application_file"
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"jar_uri": JAR}, "arguments"),
        ({"application_file": TEMPLATE}, "application_file"),
        ({"application_file": TEMPLATE, "spec_overrides": {"restartNonce": 1}}, "spec_overrides"),
    ],
)
def test_the_crd_check_names_the_layer_most_likely_at_fault(
    crd_check_argument, connection, arguments, expected
):
    assert crd_check_argument(flink_spec, build_flink_deployment, connection, **arguments) == expected
