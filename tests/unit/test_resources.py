"""The custom resources Moka runs, and their shipped CRDs."""

from __future__ import annotations

import pytest

from moka_provider.resources import (
    ALL_RESOURCES,
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    RAY_JOB,
    SPARK_APPLICATION,
    CustomResource,
    UnknownResourceError,
    resource_for,
)


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("sparkoperator.k8s.io/v1beta2", "SparkApplication", SPARK_APPLICATION),
        ("flink.apache.org/v1beta1", "FlinkDeployment", FLINK_DEPLOYMENT),
        ("flink.apache.org/v1beta1", "FlinkSessionJob", FLINK_SESSION_JOB),
        ("ray.io/v1", "RayJob", RAY_JOB),
    ],
)
def test_resource_for_finds_each_resource(api_version, kind, expected):
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {}}

    assert resource_for(manifest) is expected


def test_all_resources_are_the_four():
    assert [r.kind for r in ALL_RESOURCES] == [
        "SparkApplication",
        "FlinkDeployment",
        "FlinkSessionJob",
        "RayJob",
    ]


def test_resource_for_rejects_a_config_map():
    with pytest.raises(UnknownResourceError) as caught:
        resource_for({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})

    assert "'ConfigMap'" in str(caught.value)
    assert "'v1'" in str(caught.value)
    assert "sparkoperator.k8s.io/v1beta2 SparkApplication" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "manifest",
    [
        {"apiVersion": "sparkoperator.k8s.io/v1beta1", "kind": "SparkApplication"},  # other version
        {"apiVersion": "ray.io/v1", "kind": "RayCluster"},
        {"apiVersion": "flink.apache.org/v1beta1", "kind": "flinkdeployment"},
        {"kind": "RayJob"},
        {},
    ],
)
def test_resource_for_needs_exact_api_version_and_kind(manifest):
    with pytest.raises(UnknownResourceError):
        resource_for(manifest)


def test_names():
    assert SPARK_APPLICATION.api_version == "sparkoperator.k8s.io/v1beta2"
    assert SPARK_APPLICATION.crd_name == "sparkapplications.sparkoperator.k8s.io"
    assert RAY_JOB.crd_name == "rayjobs.ray.io"


@pytest.mark.parametrize(
    ("namespace", "name", "expected"),
    [
        ("moka", "spark-pi", "SparkApplication moka/spark-pi"),
        ("moka", None, "SparkApplication moka"),
        (None, "spark-pi", "SparkApplication spark-pi"),
        (None, None, "SparkApplication"),
    ],
)
def test_describe(namespace, name, expected):
    assert SPARK_APPLICATION.describe(namespace, name) == expected


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.kind)
def test_crd_matches_the_resource(resource: CustomResource):
    crd = resource.crd()

    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == resource.crd_name
    assert crd["spec"]["group"] == resource.group
    assert crd["spec"]["names"]["plural"] == resource.plural
    assert crd["spec"]["names"]["kind"] == resource.kind
    assert resource.version in [version["name"] for version in crd["spec"]["versions"]]


def test_the_old_import_path_still_gives_the_same_objects():
    import moka_provider.engines.resources as old
    import moka_provider.resources as new

    public = {
        name
        for name, value in vars(new).items()
        if not name.startswith("_")
        and (getattr(value, "__module__", None) == new.__name__ or isinstance(value, tuple))
    }
    assert set(old.__all__) == public
    for name in old.__all__:
        assert getattr(old, name) is getattr(new, name)
