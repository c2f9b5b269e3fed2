"""build_spark_application / parse_application_file: arguments, templates and connection defaults."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines import spark_spec
from moka_provider.engines.spark_spec import build_spark_application, parse_application_file
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.resources import SPARK_APPLICATION
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings

CONNECTION = MokaSettings(
    namespace="team-a",
    queue="root.team-a",
    service_account="spark-runner",
    images={"spark": "registry.example/spark:3.5.1-{arch}"},
    versions={"spark": "3.5.1"},
)
BARE = MokaSettings()
PY_APP = "s3a://bucket/jobs/etl.py"
JAR_APP = "local:///opt/spark/examples/jars/spark-examples.jar"

TEMPLATE = """
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: from-the-template
  namespace: elsewhere
  labels: {team: a}
  annotations: {owner: someone}
spec:
  type: Scala
  mode: cluster
  image: template/spark:4.0.0
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  sparkVersion: 4.0.0
  restartPolicy: {type: Never}
  driver:
    cores: 1
    memory: 512m
    serviceAccount: template-account
    env:
      - {name: KEEP, value: kept}
      - {name: REPLACE, value: old}
  executor:
    instances: 1
    memory: 512m
"""


@pytest.fixture(scope="session")
def reference_crd(original_crd):
    """SparkApplication with its CRD read from the project's reference YAML, not the packaged copy."""
    return original_crd(SPARK_APPLICATION)


@pytest.fixture
def build(reference_crd):
    """build_spark_application, checking every result against the reference CRD too."""

    def build_and_check(settings: MokaSettings = CONNECTION, **arguments: Any) -> dict[str, Any]:
        manifest = build_spark_application(settings=settings, **arguments)
        validate_against_crd(reference_crd, manifest, argument="test")
        assert manifest["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
        assert manifest["kind"] == "SparkApplication"
        assert "name" not in manifest["metadata"] and "namespace" not in manifest["metadata"]
        return manifest

    return build_and_check


def error_of(settings: MokaSettings = CONNECTION, **arguments: Any) -> MokaJobSpecError:
    with pytest.raises(MokaJobSpecError) as caught:
        build_spark_application(settings=settings, **arguments)
    return caught.value


# --- upstream examples --------------------------------------------------------------------------


#: The upstream example Moka refuses: its timeToLiveSeconds (30) is too short for a task.
SHORT_TTL_EXAMPLE = "spark-pi-ttl.yaml"


def upstream_examples(shared_dir, refused: bool = False) -> list[Path]:
    paths = sorted((shared_dir / "upstream-examples" / "spark").glob("*.yaml"))
    assert len(paths) == 7
    return [path for path in paths if (path.name == SHORT_TTL_EXAMPLE) == refused]


def test_upstream_examples_round_trip_unchanged(shared_dir, reference_crd):
    for path in upstream_examples(shared_dir):
        text = path.read_text()
        parsed = parse_application_file(text)
        validate_against_crd(reference_crd, parsed, argument=path.name)

        built = build_spark_application(settings=MokaSettings(), application_file=text)

        assert built["spec"] == parsed["spec"], path.name
        assert built["metadata"] == {}, path.name


def test_upstream_examples_round_trip_as_dicts_too(shared_dir):
    for path in upstream_examples(shared_dir):
        parsed = parse_application_file(path.read_text())

        built = build_spark_application(settings=MokaSettings(), application_file=parsed)

        assert built["spec"] == parsed["spec"], path.name


def test_the_upstream_example_with_a_30_second_ttl_is_refused(shared_dir):
    (path,) = upstream_examples(shared_dir, refused=True)

    error = error_of(MokaSettings(), application_file=path.read_text())

    assert error.argument == "application_file"
    assert "timeToLiveSeconds 30" in error.problem and "at least 60" in error.problem


def test_an_upstream_example_with_a_full_connection_keeps_its_own_choices(shared_dir):
    text = (shared_dir / "upstream-examples" / "spark" / "spark-pi-yunikorn.yaml").read_text()

    spec = build_spark_application(settings=CONNECTION, application_file=text)["spec"]

    assert spec == parse_application_file(text)["spec"]  # image, version, account and queue all set


# --- the argument matrix ------------------------------------------------------------------------


def test_a_python_application_with_connection_defaults(build):
    spec = build(application=PY_APP)["spec"]

    assert spec == {
        "type": "Python",
        "mainApplicationFile": PY_APP,
        "mode": "cluster",
        "driver": {"serviceAccount": "spark-runner"},
        "executor": {},
        "image": "registry.example/spark:3.5.1-amd64",
        "sparkVersion": "3.5.1",
        "batchScheduler": "yunikorn",
        "batchSchedulerOptions": {"queue": "root.team-a"},
    }


def test_a_jar_with_a_main_class_and_arguments(build):
    spec = build(application=JAR_APP, main_class="org.example.Main", arguments=["--date", 20240101, 1.5])[
        "spec"
    ]

    assert spec["type"] == "Scala"
    assert spec["mainClass"] == "org.example.Main"
    assert spec["mainApplicationFile"] == JAR_APP
    assert spec["arguments"] == ["--date", "20240101", "1.5"]


@pytest.mark.parametrize(
    ("application", "application_type", "expected"),
    [
        ("hdfs://nn:8020/apps/app.jar", "Java", "Java"),
        ("app.JAR", None, "Scala"),
        ("s3a://bucket/report.R", None, "R"),
        ("local:///opt/report.r", None, "R"),
        ("job.PY", None, "Python"),
        ("local:///opt/app/launcher", "Python", "Python"),
        ("s3a://bucket/app.zip", "Scala", "Scala"),
    ],
)
def test_application_type_from_the_extension_or_the_argument(build, application, application_type, expected):
    spec = build(application=application, application_type=application_type)["spec"]

    assert (spec["mainApplicationFile"], spec["type"]) == (application, expected)


def test_dynamic_allocation(build):
    spec = build(
        application=JAR_APP,
        executors={"instances": 2},
        dynamic_allocation={
            "min_executors": 1,
            "initial_executors": 2,
            "max_executors": 10,
            "shuffle_tracking_timeout": 60000,
        },
    )["spec"]

    assert spec["dynamicAllocation"] == {
        "enabled": True,
        "minExecutors": 1,
        "initialExecutors": 2,
        "maxExecutors": 10,
        "shuffleTrackingTimeout": 60000,
    }
    assert spec["executor"] == {"instances": 2}


def test_dynamic_allocation_can_be_switched_off_explicitly(build):
    spec = build(
        application=JAR_APP, dynamic_allocation={"enabled": False, "shuffle_tracking_enabled": False}
    )["spec"]

    assert spec["dynamicAllocation"] == {"enabled": False, "shuffleTrackingEnabled": False}


def test_deps(build):
    spec = build(
        application=PY_APP,
        spark_deps={
            "jars": ["s3a://bucket/lib/a.jar"],
            "files": ["s3a://bucket/conf/app.conf#app.conf"],
            "py_files": ("s3a://bucket/lib/deps.zip",),
            "archives": ["s3a://bucket/venv.tar.gz#environment"],
            "packages": ["org.apache.hadoop:hadoop-aws:3.3.4"],
            "exclude_packages": ["com.amazonaws:aws-java-sdk-bundle"],
            "repositories": ["https://repo.example/maven"],
        },
    )["spec"]

    assert spec["deps"] == {
        "jars": ["s3a://bucket/lib/a.jar"],
        "files": ["s3a://bucket/conf/app.conf#app.conf"],
        "pyFiles": ["s3a://bucket/lib/deps.zip"],
        "archives": ["s3a://bucket/venv.tar.gz#environment"],
        "packages": ["org.apache.hadoop:hadoop-aws:3.3.4"],
        "excludePackages": ["com.amazonaws:aws-java-sdk-bundle"],
        "repositories": ["https://repo.example/maven"],
    }


def test_queue_from_the_connection(build):
    spec = build(application=PY_APP)["spec"]

    assert (spec["batchScheduler"], spec["batchSchedulerOptions"]) == ("yunikorn", {"queue": "root.team-a"})


def test_queue_argument_beats_the_connection(build):
    spec = build(application=PY_APP, yunikorn_queue="root.adhoc")["spec"]

    assert (spec["batchScheduler"], spec["batchSchedulerOptions"]) == ("yunikorn", {"queue": "root.adhoc"})


def test_queue_argument_without_a_connection_queue(build):
    spec = build(
        BARE, application=PY_APP, image="spark:3.5.1", spark_version="3.5.1", yunikorn_queue="root.b"
    )["spec"]

    assert (spec["batchScheduler"], spec["batchSchedulerOptions"]) == ("yunikorn", {"queue": "root.b"})


def test_no_queue_anywhere_means_no_batch_scheduler(build):
    spec = build(BARE, application=PY_APP, image="spark:3.5.1", spark_version="3.5.1")["spec"]

    assert "batchScheduler" not in spec
    assert "batchSchedulerOptions" not in spec
    assert spec["driver"] == {}  # no service account either


def test_arm64_picks_the_image_and_pins_the_pods(build):
    spec = build(application=PY_APP, architecture="arm64")["spec"]

    assert spec["image"] == "registry.example/spark:3.5.1-arm64"
    assert spec["driver"]["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert spec["executor"]["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert "nodeSelector" not in spec


def test_amd64_explicitly_pins_the_pods(build):
    spec = build(application=PY_APP, architecture="amd64", executors={"node_selector": {"pool": "batch"}})[
        "spec"
    ]

    assert spec["image"] == "registry.example/spark:3.5.1-amd64"
    assert spec["executor"]["nodeSelector"] == {"pool": "batch", "kubernetes.io/arch": "amd64"}


def test_no_architecture_means_the_amd64_image_and_no_node_selector(build):
    spec = build(application=PY_APP)["spec"]

    assert spec["image"] == "registry.example/spark:3.5.1-amd64"
    assert "nodeSelector" not in json.dumps(spec)


def test_architecture_with_a_template_using_the_application_level_selector(build):
    template = parse_application_file(TEMPLATE)
    template["spec"]["nodeSelector"] = {"pool": "batch"}

    spec = build(application_file=template, architecture="arm64")["spec"]

    assert spec["nodeSelector"] == {"pool": "batch", "kubernetes.io/arch": "arm64"}
    assert "nodeSelector" not in spec["driver"] and "nodeSelector" not in spec["executor"]
    assert spec["image"] == "template/spark:4.0.0"  # the template's image wins over the connection's


def test_explicit_image_beats_the_connection_and_the_architecture(build):
    spec = build(application=PY_APP, architecture="arm64", image="mine/spark:multiarch")["spec"]

    assert spec["image"] == "mine/spark:multiarch"


def test_driver_and_executor_settings_with_kubernetes_memory_units(build):
    spec = build(
        application=JAR_APP,
        driver={
            "cores": 2,
            "memory": "2Gi",
            "memory_overhead": "512Mi",
            "core_request": "1500m",
            "core_limit": 2,
            "labels": {"tier": "gold"},
            "annotations": {"note": "x"},
        },
        executors={
            "instances": 3,
            "cores": 4,
            "memory": "8g",
            "memory_overhead": 1024,
            "core_request": "3.5",
        },
    )["spec"]

    assert spec["driver"] == {
        "serviceAccount": "spark-runner",
        "cores": 2,
        "memory": "2g",
        "memoryOverhead": "512m",
        "coreRequest": "1500m",
        "coreLimit": "2",
        "labels": {"tier": "gold"},
        "annotations": {"note": "x"},
    }
    assert spec["executor"] == {
        "instances": 3,
        "cores": 4,
        "memory": "8g",
        "memoryOverhead": "1024",
        "coreRequest": "3.5",
    }


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        ("512m", "512m"),
        ("4g", "4g"),
        ("4G", "4G"),
        ("2gb", "2gb"),
        ("1024", "1024"),
        (2048, "2048"),
        ("100Ki", "100k"),
        ("512Mi", "512m"),
        ("4Gi", "4g"),
        ("1Ti", "1t"),
    ],
)
def test_memory_sizes(build, memory, expected):
    spec = build(application=JAR_APP, executors={"memory": memory})["spec"]

    assert spec["executor"]["memory"] == expected


def test_spark_and_hadoop_conf_values_become_text(build):
    spec = build(
        application=PY_APP,
        spark_conf={
            "spark.sql.adaptive.enabled": True,
            "spark.speculation": False,
            "spark.sql.shuffle.partitions": 400,
            "spark.memory.fraction": 0.6,
            "spark.app.name": "etl",
        },
        hadoop_conf={"fs.s3a.connection.maximum": 200, "fs.s3a.path.style.access": True},
    )["spec"]

    assert spec["sparkConf"] == {
        "spark.sql.adaptive.enabled": "true",
        "spark.speculation": "false",
        "spark.sql.shuffle.partitions": "400",
        "spark.memory.fraction": "0.6",
        "spark.app.name": "etl",
    }
    assert spec["hadoopConf"] == {"fs.s3a.connection.maximum": "200", "fs.s3a.path.style.access": "true"}


def test_env_goes_to_driver_and_executor_and_a_role_env_wins(build):
    spec = build(
        application=PY_APP, env={"STAGE": "prod", "THREADS": 4}, driver={"env": {"STAGE": "driver-only"}}
    )["spec"]

    assert spec["driver"]["env"] == [
        {"name": "STAGE", "value": "driver-only"},
        {"name": "THREADS", "value": "4"},
    ]
    assert spec["executor"]["env"] == [{"name": "STAGE", "value": "prod"}, {"name": "THREADS", "value": "4"}]


@pytest.mark.parametrize("ttl", [60, 3600])
def test_time_to_live(build, ttl):
    assert build(application=PY_APP, time_to_live_seconds=ttl)["spec"]["timeToLiveSeconds"] == ttl


def test_explicit_version_and_service_account_beat_the_connection(build):
    spec = build(application=PY_APP, spark_version="4.0.0", service_account="other")["spec"]

    assert spec["sparkVersion"] == "4.0.0"
    assert spec["driver"] == {"serviceAccount": "other"}


def test_overrides_delete_keys_with_none_and_add_anything(build):
    spec = build(
        application=PY_APP,
        driver={"cores": 1},
        spec_overrides={
            "batchScheduler": None,
            "batchSchedulerOptions": None,
            "driver": {"serviceAccount": None, "priorityClassName": "high"},
            "restartPolicy": {"type": "OnFailure", "onFailureRetries": 2},
        },
    )["spec"]

    assert "batchScheduler" not in spec and "batchSchedulerOptions" not in spec
    assert spec["driver"] == {"cores": 1, "priorityClassName": "high"}
    # the retry interval the operator's defaulting webhook would set (the CRD has none)
    assert spec["restartPolicy"] == {"type": "OnFailure", "onFailureRetries": 2, "onFailureRetryInterval": 5}


def test_overrides_beat_the_arguments(build):
    spec = build(
        application=PY_APP,
        spark_conf={"spark.a": "1", "spark.b": "2"},
        spec_overrides={"sparkConf": {"spark.a": "override", "spark.b": None}, "arguments": ["x"]},
    )["spec"]

    assert spec["sparkConf"] == {"spark.a": "override"}
    assert spec["arguments"] == ["x"]


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("spark.kubernetes.container.image", "use image= (spec.image)"),
        ("spark.kubernetes.driver.container.image", "spec.driver.image"),
        ("spark.kubernetes.executor.container.image", "spec.executor.image"),
        ("spark.master", "managed by the operator"),
        ("spark.kubernetes.driver.master", "managed by the operator"),
        ("spark.kubernetes.authenticate.driver.serviceAccountName", "use service_account="),
        ("spark.kubernetes.authenticate.executor.serviceAccountName", "spec.executor.serviceAccount"),
        ("spark.kubernetes.authenticate.oauthToken", "credentials are managed by the operator"),
        ("spark.kubernetes.authenticate.driver.oauthTokenFile", "credentials are managed by the operator"),
        ("spark.kubernetes.authenticate.executor.oauthToken", "credentials are managed by the operator"),
    ],
)
def test_spark_conf_keys_the_operators_webhook_denies_are_refused(key, fragment):
    error = error_of(application=PY_APP, spark_conf={key: "x", "spark.a": "1"})

    assert error.argument == f"spark_conf[{key!r}]"
    assert f"the Spark operator refuses the sparkConf key {key!r}" in error.problem
    assert fragment in error.problem


def test_a_denied_spark_conf_key_is_reported_before_a_missing_image():
    error = error_of(
        BARE,
        application=PY_APP,
        spark_version="3.5.1",
        spark_conf={"spark.kubernetes.container.image": "conf/spark:3.5.1"},
    )

    assert error.argument == "spark_conf['spark.kubernetes.container.image']"
    assert "use image=" in error.problem


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"spec_overrides": {"sparkConf": {"spark.master": "yarn"}}}, "spec_overrides"),
        (
            {
                "application_file": TEMPLATE.replace(
                    "  driver:\n", "  sparkConf: {spark.master: yarn}\n  driver:\n"
                )
            },
            "application_file",
        ),
    ],
)
def test_a_denied_spark_conf_key_names_its_layer(arguments, expected):
    assert error_of(**{"application": PY_APP, **arguments}).argument == expected


def test_spark_kubernetes_namespace_must_be_the_jobs_namespace(build):
    conf = {"spark.kubernetes.namespace": "team-a"}
    assert build(application=PY_APP, spark_conf=conf, namespace="team-a")["spec"]["sparkConf"] == conf
    assert build(application=PY_APP, spark_conf={"spark.kubernetes.namespace": "other"})  # namespace unknown

    error = error_of(
        application=PY_APP, spark_conf={"spark.kubernetes.namespace": "other"}, namespace="team-a"
    )

    assert error.argument == "spark_conf['spark.kubernetes.namespace']"
    assert "'other'" in error.problem and "'team-a'" in error.problem and "namespace=" in error.problem


def test_restart_policy_always_is_refused():
    error = error_of(application=PY_APP, spec_overrides={"restartPolicy": {"type": "Always"}})

    assert error.argument == "spec_overrides"
    assert "Always" in error.problem and "never completes or fails" in error.problem
    assert "wait forever" in error.problem


def test_a_templates_restart_policy_always_names_the_template():
    template = TEMPLATE.replace("restartPolicy: {type: Never}", "restartPolicy: {type: Always}")

    assert error_of(application_file=template).argument == "application_file"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            {"type": "OnFailure", "onFailureRetries": 3, "onSubmissionFailureRetries": 2},
            {
                "type": "OnFailure",
                "onFailureRetries": 3,
                "onSubmissionFailureRetries": 2,
                "onFailureRetryInterval": 5,
                "onSubmissionFailureRetryInterval": 5,
            },
        ),
        (
            {"type": "OnFailure", "onSubmissionFailureRetries": 2, "onSubmissionFailureRetryInterval": 30},
            {"type": "OnFailure", "onSubmissionFailureRetries": 2, "onSubmissionFailureRetryInterval": 30},
        ),
        ({"type": "OnFailure"}, {"type": "OnFailure"}),  # no retries: no interval is ever read
        ({"type": "Never", "onFailureRetries": 1}, {"type": "Never", "onFailureRetries": 1}),
    ],
)
def test_retries_get_the_operators_default_interval(build, policy, expected):
    overrides = {"restartPolicy": policy}

    assert build(application=PY_APP, spec_overrides=overrides)["spec"]["restartPolicy"] == expected
    assert overrides == {"restartPolicy": policy}  # the argument is not changed


@pytest.mark.parametrize(
    ("arguments", "argument", "ttl"),
    [
        ({"time_to_live_seconds": 0}, "time_to_live_seconds", 0),
        ({"time_to_live_seconds": 59}, "time_to_live_seconds", 59),
        ({"spec_overrides": {"timeToLiveSeconds": 10}}, "spec_overrides", 10),
        ({"time_to_live_seconds": 600, "spec_overrides": {"timeToLiveSeconds": -5}}, "spec_overrides", -5),
    ],
)
def test_a_time_to_live_under_a_minute_is_refused(arguments, argument, ttl):
    error = error_of(application=PY_APP, **arguments)

    assert error.argument == argument
    assert f"timeToLiveSeconds {ttl} " in error.problem
    assert "too soon for the task to read how it ended" in error.problem and "at least 60" in error.problem


def test_a_pod_template_needs_spark_3():
    overrides = {"driver": {"template": {"metadata": {"labels": {"a": "b"}}}}}
    assert error_of(application=PY_APP, spark_version="2.4.8", spec_overrides=overrides).argument == (
        "spec_overrides"
    )
    error = error_of(application=PY_APP, spark_version="3.0.0-preview", spec_overrides=overrides)
    assert "needs Spark 3.0.0 or later" in error.problem

    spec = build_spark_application(
        settings=CONNECTION, application=PY_APP, spark_version="3.0.0", spec_overrides=overrides
    )["spec"]
    assert spec["driver"]["template"] == overrides["driver"]["template"]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ([{"servicePort": 4040, "servicePortName": "ui"}], "has no ingressURLFormat"),
        (
            [
                {"servicePort": 4040, "servicePortName": "a", "ingressURLFormat": "a.example"},
                {"servicePort": 4040, "servicePortName": "b", "ingressURLFormat": "b.example"},
            ],
            "repeats servicePort 4040",
        ),
        (
            [
                {"servicePort": 4040, "servicePortName": "a", "ingressURLFormat": "a.example"},
                {"servicePort": 4041, "servicePortName": "b", "ingressURLFormat": "a.example"},
            ],
            "repeats ingressURLFormat 'a.example'",
        ),
    ],
)
def test_driver_ingress_options_the_webhook_refuses(options, fragment):
    error = error_of(application=PY_APP, spec_overrides={"driverIngressOptions": options})

    assert error.argument == "spec_overrides"
    assert fragment in error.problem


# --- templates ----------------------------------------------------------------------------------


def test_a_template_with_arguments_on_top(build):
    manifest = build(
        application_file=TEMPLATE,
        driver={"memory": "1Gi", "env": {"REPLACE": "new", "ADDED": "1"}},
        arguments=["100"],
    )
    spec = manifest["spec"]

    assert manifest["metadata"] == {"labels": {"team": "a"}, "annotations": {"owner": "someone"}}
    assert spec["image"] == "template/spark:4.0.0"
    assert spec["sparkVersion"] == "4.0.0"
    assert spec["restartPolicy"] == {"type": "Never"}
    assert spec["arguments"] == ["100"]
    assert spec["driver"] == {
        "cores": 1,
        "memory": "1g",
        "serviceAccount": "template-account",
        "env": [
            {"name": "KEEP", "value": "kept"},
            {"name": "REPLACE", "value": "new"},
            {"name": "ADDED", "value": "1"},
        ],
    }
    assert spec["batchSchedulerOptions"] == {"queue": "root.team-a"}  # the connection fills the gap


def test_a_template_spec_keeps_its_key_order(build):
    spec = build(application_file=TEMPLATE)["spec"]

    assert list(spec)[:4] == ["type", "mode", "image", "mainClass"]


def test_the_connection_queue_does_not_join_another_batch_scheduler(build):
    template = parse_application_file(TEMPLATE)
    template["spec"]["batchScheduler"] = "volcano"

    spec = build(application_file=template)["spec"]

    assert spec["batchScheduler"] == "volcano"
    assert "batchSchedulerOptions" not in spec


def test_a_python_application_replaces_a_scala_template(build):
    spec = build(application_file=TEMPLATE, application=PY_APP, spec_overrides={"mainClass": None})["spec"]

    assert (spec["type"], spec["mainApplicationFile"]) == ("Python", PY_APP)
    assert "mainClass" not in spec


def test_an_unknown_extension_keeps_the_template_type(build):
    spec = build(application_file=TEMPLATE, application="local:///opt/app/assembly")["spec"]

    assert spec["type"] == "Scala"


def test_the_template_argument_is_not_changed():
    template = parse_application_file(TEMPLATE)
    before = json.dumps(template, sort_keys=True)

    build_spark_application(
        settings=CONNECTION, application_file=template, driver={"env": {"X": "1"}}, yunikorn_queue="q"
    )

    assert json.dumps(template, sort_keys=True) == before


# --- parse_application_file ---------------------------------------------------------------------


def test_parse_accepts_json_text():
    document = parse_application_file(json.dumps(parse_application_file(TEMPLATE)))

    assert document["spec"]["mainClass"] == "org.apache.spark.examples.SparkPi"


def test_parse_accepts_json_indented_with_tabs():
    text = json.dumps(parse_application_file(TEMPLATE), indent="\t")

    assert parse_application_file(text)["spec"]["type"] == "Scala"


def test_parse_accepts_a_yaml_flow_mapping():
    text = "{apiVersion: sparkoperator.k8s.io/v1beta2, kind: SparkApplication, spec: {type: R}}"

    assert parse_application_file(text)["spec"] == {"type": "R"}


def test_parse_copies_a_dict():
    original = parse_application_file(TEMPLATE)

    copied = parse_application_file(original)
    copied["spec"]["driver"]["cores"] = 99

    assert original["spec"]["driver"]["cores"] == 1


def test_parse_ignores_empty_documents_around_the_one():
    assert parse_application_file("---\n" + TEMPLATE + "\n---\n")["kind"] == "SparkApplication"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("spec: [unclosed", "is not valid YAML or JSON"),
        (TEMPLATE + "\n---\n" + TEMPLATE, "holds 2 documents"),
        ("", "holds 0 documents"),
        ("apiVersion: v1\nkind: ConfigMap\n", "got apiVersion 'v1' kind 'ConfigMap'"),
        ("apiVersion: sparkoperator.k8s.io/v1beta1\nkind: SparkApplication\n", "expected apiVersion"),
        ("dags/spark/pi.yaml", "looks like a file path"),
        ("- a\n- b\n", "expected a SparkApplication document"),
        (42, "expected YAML or JSON text or a mapping"),
        (TEMPLATE.replace("spec:\n", "spec: []\nx:\n"), "spec must be a mapping"),
    ],
)
def test_parse_rejects(value, fragment):
    with pytest.raises(MokaJobSpecError) as caught:
        parse_application_file(value)

    assert caught.value.argument == "application_file"
    assert fragment in caught.value.problem


def test_parse_names_the_given_argument():
    with pytest.raises(MokaJobSpecError) as caught:
        parse_application_file("kind: Pod", argument="template")

    assert caught.value.argument == "template"


# --- errors: each names its argument ------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "argument", "fragment"),
    [
        ({"application": "s3a://bucket/job.txt"}, "application", "pass application_type="),
        ({"application": "s3a://bucket/py"}, "application", "from its extension"),
        ({"application": ""}, "application", "non-empty string"),
        ({"application": 42}, "application", "42 (int)"),
        ({"application": JAR_APP, "application_type": "Go"}, "application_type", "Python, Scala, Java, R"),
        ({"application": PY_APP, "application_type": "Scala"}, "application_type", "does not fit"),
        ({"application": PY_APP, "main_class": "a.B"}, "main_class", "Scala or Java"),
        ({"application": "x.R", "main_class": "a.B"}, "main_class", "not R"),
        ({"application": JAR_APP, "main_class": ""}, "main_class", "non-empty"),
        ({"application": JAR_APP, "arguments": "--date 2024"}, "arguments", "a list of strings"),
        ({"application": JAR_APP, "arguments": [None]}, "arguments[0]", "got None"),
        ({"application": JAR_APP, "arguments": ["a", {"b": 1}]}, "arguments[1]", "(dict)"),
        ({"application": JAR_APP, "arguments": ["a", "b", ["c"]]}, "arguments[2]", "(list)"),
        ({"application": JAR_APP, "arguments": [True]}, "arguments[0]", "'true'"),
        ({"application": JAR_APP, "spark_conf": {"spark.x": None}}, "spark_conf['spark.x']", "got None"),
        ({"application": JAR_APP, "spark_conf": {"spark.x": {"a": 1}}}, "spark_conf['spark.x']", "(dict)"),
        ({"application": JAR_APP, "spark_conf": {"spark.x": [1]}}, "spark_conf['spark.x']", "(list)"),
        ({"application": JAR_APP, "spark_conf": {"": "x"}}, "spark_conf", "non-empty strings"),
        ({"application": JAR_APP, "spark_conf": {1: "x"}}, "spark_conf", "got 1"),
        ({"application": JAR_APP, "spark_conf": "a=b"}, "spark_conf", "mapping"),
        ({"application": JAR_APP, "hadoop_conf": {"fs.x": None}}, "hadoop_conf['fs.x']", "got None"),
        ({"application": JAR_APP, "driver": "big"}, "driver", "expected a mapping"),
        ({"application": JAR_APP, "driver": {"cpu": 1}}, "driver", "allowed: cores, memory, memory_overhead"),
        ({"application": JAR_APP, "driver": {"instances": 2}}, "driver", "unknown key(s) 'instances'"),
        ({"application": JAR_APP, "executors": {"instances": 0}}, "executors['instances']", ">= 1, got 0"),
        ({"application": JAR_APP, "driver": {"cores": "2"}}, "driver['cores']", "got '2'"),
        ({"application": JAR_APP, "driver": {"cores": True}}, "driver['cores']", "integer"),
        ({"application": JAR_APP, "driver": {"memory": "1.5g"}}, "driver['memory']", "'512Mi', '4Gi'"),
        ({"application": JAR_APP, "driver": {"memory": "4 GB"}}, "driver['memory']", "'512m', '4g'"),
        ({"application": JAR_APP, "driver": {"memory": "4GiB"}}, "driver['memory']", "not a memory size"),
        ({"application": JAR_APP, "driver": {"memory": "0"}}, "driver['memory']", "not a memory size"),
        ({"application": JAR_APP, "driver": {"memory": None}}, "driver['memory']", "not a memory size"),
        (
            {"application": JAR_APP, "executors": {"memory_overhead": "lots"}},
            "executors['memory_overhead']",
            "'4g'",
        ),
        ({"application": JAR_APP, "driver": {"core_request": "fast"}}, "driver['core_request']", "'500m'"),
        ({"application": JAR_APP, "driver": {"core_limit": 0}}, "driver['core_limit']", "CPU quantity"),
        ({"application": JAR_APP, "driver": {"core_limit": "-1"}}, "driver['core_limit']", "CPU quantity"),
        ({"application": JAR_APP, "driver": {"env": {"A": None}}}, "driver['env']['A']", "got None"),
        ({"application": JAR_APP, "driver": {"labels": ["a"]}}, "driver['labels']", "mapping"),
        (
            {"application": JAR_APP, "executors": {"node_selector": {"k": [1]}}},
            "executors['node_selector']['k']",
            "list",
        ),
        ({"application": JAR_APP, "env": {"X": [1]}}, "env['X']", "(list)"),
        ({"application": JAR_APP, "env": ["X=1"]}, "env", "mapping"),
        (
            {"application": JAR_APP, "dynamic_allocation": {"min_executors": 5, "max_executors": 2}},
            "dynamic_allocation",
            "min_executors (5) is greater than max_executors (2)",
        ),
        (
            {"application": JAR_APP, "dynamic_allocation": {"min_executors": 2, "initial_executors": 1}},
            "dynamic_allocation",
            "initial_executors (1) is less than min_executors (2)",
        ),
        (
            {"application": JAR_APP, "dynamic_allocation": {"initial_executors": 6, "max_executors": 5}},
            "dynamic_allocation",
            "initial_executors (6) is greater than max_executors (5)",
        ),
        (
            {
                "application": JAR_APP,
                "executors": {"instances": 10},
                "dynamic_allocation": {"max_executors": 5},
            },
            "dynamic_allocation",
            "executor instances (10) is greater than max_executors (5)",
        ),
        ({"application": JAR_APP, "dynamic_allocation": {"max": 3}}, "dynamic_allocation", "'max'; allowed"),
        ({"application": JAR_APP, "dynamic_allocation": True}, "dynamic_allocation", "mapping"),
        (
            {"application": JAR_APP, "dynamic_allocation": {"min_executors": -1}},
            "dynamic_allocation['min_executors']",
            ">= 0",
        ),
        (
            {"application": JAR_APP, "dynamic_allocation": {"max_executors": 0}},
            "dynamic_allocation['max_executors']",
            ">= 1",
        ),
        (
            {"application": JAR_APP, "dynamic_allocation": {"enabled": "yes"}},
            "dynamic_allocation['enabled']",
            "True",
        ),
        (
            {"application": JAR_APP, "spark_deps": {"jars": "a.jar"}},
            "spark_deps['jars']",
            "a list of strings",
        ),
        (
            {"application": JAR_APP, "spark_deps": {"wheels": []}},
            "spark_deps",
            "allowed: jars, files, py_files",
        ),
        ({"application": JAR_APP, "spark_deps": {"jars": [""]}}, "spark_deps['jars'][0]", "non-empty"),
        ({"application": JAR_APP, "spark_deps": ["a.jar"]}, "spark_deps", "mapping"),
        ({"application": JAR_APP, "yunikorn_queue": ""}, "yunikorn_queue", "non-empty"),
        ({"application": JAR_APP, "architecture": "x86_64"}, "architecture", "amd64, arm64"),
        ({"application": JAR_APP, "image": ""}, "image", "non-empty"),
        ({"application": JAR_APP, "spark_version": 3.5}, "spark_version", "3.5 (float)"),
        ({"application": JAR_APP, "service_account": 1}, "service_account", "non-empty string"),
        ({"application": JAR_APP, "time_to_live_seconds": -1}, "time_to_live_seconds", ">= 0"),
        ({"application": JAR_APP, "time_to_live_seconds": 30}, "time_to_live_seconds", "at least 60"),
        ({"application": JAR_APP, "time_to_live_seconds": "60"}, "time_to_live_seconds", "integer"),
        ({"application": JAR_APP, "spec_overrides": "mode: client"}, "spec_overrides", "mapping"),
        ({"main_class": "a.B"}, "application", "no application"),
    ],
)
def test_argument_errors(arguments, argument, fragment):
    error = error_of(**arguments)

    assert error.argument == argument
    assert fragment in error.problem
    assert str(error).startswith(f"argument {argument!r}: ")


def test_no_image_names_the_argument_and_the_connection_field():
    error = error_of(BARE, application=PY_APP, spark_version="3.5.1")

    assert error.argument == "image"
    assert error.problem == "no image: pass image= or set spark_image on the moka connection"


def test_no_spark_version_names_the_argument_and_the_connection_field():
    error = error_of(BARE, application=PY_APP, image="spark:3.5.1")

    assert error.argument == "spark_version"
    assert "pass spark_version= or set spark_version on the moka connection" in error.problem


def test_no_type_anywhere():
    template = parse_application_file(TEMPLATE)
    del template["spec"]["type"]

    error = error_of(application_file=template)

    assert error.argument == "application_type"


def test_a_type_broken_override_is_reported_before_submission():
    error = error_of(application=PY_APP, spec_overrides={"driver": {"cores": "1"}, "mode": "local"})

    assert error.argument == "spec_overrides"
    assert "  - spec.driver.cores: must be of type integer, got string" in error.problem
    assert '  - spec.mode: unsupported value "local"' in error.problem


def test_a_type_broken_template_names_the_template():
    error = error_of(application_file=TEMPLATE.replace("instances: 1", "instances: one"))

    assert error.argument == "application_file"
    assert "spec.executor.instances: must be of type integer, got string" in error.problem


def test_node_selectors_on_both_levels_are_refused():
    template = parse_application_file(TEMPLATE)
    template["spec"]["nodeSelector"] = {"pool": "batch"}

    error = error_of(application_file=template, driver={"node_selector": {"disk": "ssd"}})

    assert error.argument == "driver"
    assert "one level" in error.problem


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"application": PY_APP, "driver": {"cores": 1}}, "arguments"),
        ({"application_file": TEMPLATE}, "application_file"),
        ({"application_file": TEMPLATE, "spec_overrides": {"suspend": False}}, "spec_overrides"),
        ({"application": PY_APP, "spec_overrides": {}}, "arguments"),
    ],
)
def test_the_crd_check_names_the_layer_most_likely_at_fault(monkeypatch, arguments, expected):
    seen = []
    monkeypatch.setattr(
        spark_spec, "validate_against_crd", lambda resource, manifest, argument: seen.append(argument)
    )

    build_spark_application(settings=CONNECTION, **arguments)

    assert seen == [expected]


def test_importing_the_builder_loads_no_kubernetes_client():
    code = (
        "import sys, moka_provider.engines.spark_spec; "
        "print(sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')))"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
