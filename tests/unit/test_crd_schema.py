"""validate_against_crd: the CRD's spec schema, with Kubernetes' extensions, as one readable error."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
import yaml

from moka_provider.exceptions import MokaJobSpecError
from moka_provider.resources import RAY_JOB, SPARK_APPLICATION, CustomResource, resource_for
from moka_provider.schema import validate_against_crd

SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": "apache/spark:4.0.0",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
        "sparkVersion": "4.0.0",
        "driver": {"cores": 1, "memory": "512m"},
        "executor": {"instances": 1, "cores": 1, "memory": "512m"},
    },
}


def spark_pi(**spec_changes: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(SPARK_PI)
    manifest["spec"].update(spec_changes)
    return manifest


def problems_of(manifest: dict[str, Any], resource: CustomResource = SPARK_APPLICATION) -> list[str]:
    """The problem lines of the error for ``manifest`` (which must be invalid)."""
    with pytest.raises(MokaJobSpecError) as caught:
        validate_against_crd(resource, manifest, argument="spec_overrides")
    assert caught.value.argument == "spec_overrides"
    first, *lines = caught.value.problem.splitlines()
    assert first == f"the {resource.kind} does not match its CRD ({resource.api_version}):"
    assert all(line.startswith("  - ") for line in lines)
    return [line.removeprefix("  - ") for line in lines]


def upstream_documents(shared_dir, engine: str) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted((shared_dir / "upstream-examples" / engine).glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") != "ConfigMap":
                documents.append((path.name, document))
    return documents


def test_every_upstream_spark_example_is_valid(shared_dir):
    documents = upstream_documents(shared_dir, "spark")

    assert len(documents) == 7
    for name, document in documents:
        validate_against_crd(SPARK_APPLICATION, document, argument=name)


@pytest.mark.parametrize("engine", ["flink", "ray"])
def test_every_upstream_example_of_the_other_engines_is_valid(shared_dir, engine):
    documents = upstream_documents(shared_dir, engine)

    assert documents
    for name, document in documents:
        validate_against_crd(resource_for(document), document, argument=name)


def test_a_string_where_the_crd_wants_an_integer_is_reported_with_its_path():
    manifest = spark_pi(driver={"cores": "1", "memory": "512m"})

    with pytest.raises(MokaJobSpecError) as caught:
        validate_against_crd(SPARK_APPLICATION, manifest, argument="spec_overrides")

    assert caught.value.argument == "spec_overrides"
    assert "spec.driver.cores: must be of type integer, got string" in caught.value.problem
    assert str(caught.value).startswith("argument 'spec_overrides': the SparkApplication does not match")


def test_all_problems_are_listed_sorted_by_path():
    manifest = spark_pi(
        mode="local",
        timeToLiveSeconds="1h",
        sparkConf={"spark.executor.cores": 2},
        executor={"instances": 0, "cores": 1.5, "memory": 512},
    )
    del manifest["spec"]["sparkVersion"]

    assert problems_of(manifest) == [
        "spec.executor.cores: must be of type integer, got number",
        "spec.executor.instances: must be greater than or equal to 1, got 0",
        "spec.executor.memory: must be of type string, got integer",
        'spec.mode: unsupported value "local"; supported values: "cluster", "client"',
        "spec.sparkConf[spark.executor.cores]: must be of type string, got integer",
        "spec.sparkVersion: required field missing",
        "spec.timeToLiveSeconds: must be of type integer, got string",
    ]


def test_a_boolean_is_not_an_integer():
    assert problems_of(spark_pi(driver={"cores": True})) == [
        "spec.driver.cores: must be of type integer, got boolean"
    ]


@pytest.mark.parametrize("quantity", [2, "2", "500m", "1.5", "4Gi", "1e3"])
def test_int_or_string_fields_accept_both_forms(quantity):
    manifest = spark_pi(batchScheduler="volcano", batchSchedulerOptions={"resources": {"cpu": quantity}})

    validate_against_crd(SPARK_APPLICATION, manifest, argument="spec_overrides")


def test_int_or_string_deep_in_a_pod_spec_accepts_both_forms():
    env = [
        {"name": "LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": 1}}},
        {"name": "MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
    ]

    validate_against_crd(SPARK_APPLICATION, spark_pi(driver={"cores": 1, "env": env}), argument="x")


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        (True, "must be of type integer or string, got boolean"),
        (1.5, "must be of type integer or string, got number"),
        ([1], "must be of type integer or string, got array"),
        ("lots", '"lots" does not match the pattern '),
    ],
)
def test_int_or_string_fields_reject_other_values(quantity, problem):
    manifest = spark_pi(batchSchedulerOptions={"resources": {"cpu": quantity}})

    (line,) = problems_of(manifest)

    assert line.startswith(f"spec.batchSchedulerOptions.resources.cpu: {problem}")


def test_an_unknown_field_is_reported():
    manifest = spark_pi(driver={"cores": 1, "coreLimits": "2"}, sparkconf={"a": "b"})

    assert problems_of(manifest) == [
        "spec.driver.coreLimits: unknown field (the CRD does not declare it)",
        "spec.sparkconf: unknown field (the CRD does not declare it)",
    ]


def test_preserve_unknown_fields_accepts_anything_below():
    template = {"spec": {"containers": [{"name": "spark-kubernetes-driver", "anything": {"goes": 1}}]}}

    validate_against_crd(SPARK_APPLICATION, spark_pi(driver={"cores": 1, "template": template}), argument="x")


def test_free_form_maps_accept_any_key_but_check_values():
    manifest = spark_pi(driver={"labels": {"app.kubernetes.io/name": 4, "version": "4.0"}})

    assert problems_of(manifest) == [
        "spec.driver.labels[app.kubernetes.io/name]: must be of type string, got integer"
    ]


def test_missing_required_fields_are_named():
    manifest = spark_pi()
    del manifest["spec"]["driver"]
    del manifest["spec"]["type"]

    assert problems_of(manifest) == [
        "spec.driver: required field missing",
        "spec.type: required field missing",
    ]


def test_a_required_field_with_a_default_may_be_left_out():
    # Container ports are a list-map keyed by containerPort and protocol; protocol defaults to TCP.
    sidecar = {"name": "proxy", "image": "envoy", "ports": [{"containerPort": 8080}]}

    validate_against_crd(SPARK_APPLICATION, spark_pi(driver={"sidecars": [sidecar]}), argument="x")


def test_a_missing_spec_is_reported():
    manifest = {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication", "metadata": {}}

    assert problems_of(manifest) == ["spec: required field missing"]


def test_a_spec_that_is_not_an_object_is_reported():
    assert problems_of({"spec": ["type", "Scala"]}) == ["spec: must be of type object, got array"]


def test_null_values_are_pruned_as_the_api_server_does():
    manifest = spark_pi(arguments=None, sparkConf=None, driver={"cores": None, "memory": "1g"})

    validate_against_crd(SPARK_APPLICATION, manifest, argument="x")


def test_a_required_field_set_to_null_is_missing():
    assert problems_of(spark_pi(sparkVersion=None)) == ["spec.sparkVersion: required field missing"]


def test_duplicate_entries_of_a_list_map_are_reported():
    sidecar = {
        "name": "proxy",
        "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}],
        "ports": [
            {"containerPort": 80},
            {"containerPort": 80, "protocol": "TCP"},
            {"containerPort": 80, "protocol": "UDP"},
        ],
    }

    assert problems_of(spark_pi(driver={"sidecars": [sidecar]})) == [
        'spec.driver.sidecars[0].env[1]: duplicate entry with name="A"',
        'spec.driver.sidecars[0].ports[1]: duplicate entry with containerPort=80, protocol="TCP"',
    ]


def test_duplicate_items_of_a_set_are_reported():
    rules = [{"action": "Restart", "exitCodes": {"operator": "In", "values": [1, 2, 1]}}]
    sidecar = {"name": "proxy", "restartPolicyRules": rules}

    assert problems_of(spark_pi(driver={"sidecars": [sidecar]})) == [
        "spec.driver.sidecars[0].restartPolicyRules[0].exitCodes.values: must not repeat an item (a set-type list)"
    ]


def test_tuples_count_as_arrays():
    validate_against_crd(SPARK_APPLICATION, spark_pi(arguments=("a", "b")), argument="x")


def test_the_served_version_of_the_resource_is_used():
    # RayJob v1 has spec.submitterConfig; the deprecated v1alpha1 that the same CRD serves does not.
    manifest = {"spec": {"entrypoint": "python x.py", "submitterConfig": {"backoffLimit": 1}}}

    validate_against_crd(RAY_JOB, manifest, argument="x")
    v1alpha1 = CustomResource("RayJob", "ray.io", "v1alpha1", "rayjobs")
    assert problems_of(manifest, v1alpha1) == [
        "spec.submitterConfig: unknown field (the CRD does not declare it)"
    ]


def test_a_version_the_crd_does_not_serve_is_a_programming_error():
    with pytest.raises(ValueError, match="does not serve version v9"):
        validate_against_crd(CustomResource("RayJob", "ray.io", "v9", "rayjobs"), {"spec": {}}, argument="x")


@dataclass(frozen=True)
class CountingSpark(CustomResource):
    """The SparkApplication resource, counting how often its CRD is read."""

    reads: ClassVar[list[int]] = []

    def crd(self) -> dict[str, Any]:
        self.reads.append(1)
        return SPARK_APPLICATION.crd()


def test_the_validator_is_compiled_once_per_resource():
    resource = CountingSpark("SparkApplication", "sparkoperator.k8s.io", "v1beta2", "sparkapplications")

    for _ in range(3):
        validate_against_crd(resource, SPARK_PI, argument="x")
    with pytest.raises(MokaJobSpecError):
        validate_against_crd(resource, spark_pi(mode="local"), argument="x")

    assert len(CountingSpark.reads) == 1


def test_the_error_pickles_with_its_argument():
    import pickle

    with pytest.raises(MokaJobSpecError) as caught:
        validate_against_crd(SPARK_APPLICATION, spark_pi(mode="local"), argument="application_file")

    copied = pickle.loads(pickle.dumps(caught.value))
    assert (copied.argument, copied.problem) == ("application_file", caught.value.problem)
