"""MokaHook and MokaAsyncHook against the real API server: the custom-object operations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.resources import (
    ALL_RESOURCES,
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    RAY_JOB,
    SPARK_APPLICATION,
    CustomResource,
    resource_for,
)
from tests.integration.conftest import SyncOrAsync, manifests, spark_app


def example_of(resource: CustomResource, shared_dir: Path) -> dict[str, Any]:
    """An upstream example manifest of ``resource``."""
    folder = {
        SPARK_APPLICATION: "spark",
        FLINK_DEPLOYMENT: "flink",
        FLINK_SESSION_JOB: "flink",
        RAY_JOB: "ray",
    }
    for path in sorted((shared_dir / "upstream-examples" / folder[resource]).glob("*.yaml")):
        for doc in manifests(path):
            if doc.get("kind") == resource.kind:
                return doc
    raise AssertionError(f"no upstream example of {resource.kind}")


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.kind)
def test_create_get_list_patch_delete(
    hook: SyncOrAsync, resource: CustomResource, shared_dir: Path, unique_name: str
) -> None:
    body = example_of(resource, shared_dir)
    body["metadata"] = {"name": unique_name, "labels": {"moka.test/case": unique_name}}

    created = hook.create(resource, body)
    assert created["metadata"]["name"] == unique_name
    assert created["metadata"]["namespace"] == "moka"  # the connection's default namespace

    fetched = hook.get(resource, unique_name)
    assert fetched["spec"] == created["spec"]

    listed = hook.list(resource, label_selector=f"moka.test/case={unique_name}")
    assert [item["metadata"]["name"] for item in listed] == [unique_name]
    assert hook.list(resource, label_selector="moka.test/case=nothing-has-this") == []

    assert hook.delete(resource, unique_name) is True
    with pytest.raises(MokaApiError) as gone:
        hook.get(resource, unique_name)
    assert gone.value.not_found
    assert hook.delete(resource, unique_name, missing_ok=True) is False


def test_get_missing_is_a_readable_404(hook: SyncOrAsync) -> None:
    with pytest.raises(MokaApiError) as error:
        hook.get(SPARK_APPLICATION, "no-such-app")
    assert error.value.status == 404 and error.value.not_found
    assert str(error.value).startswith("get SparkApplication moka/no-such-app failed (HTTP 404 NotFound)")
    assert '"no-such-app" not found' in str(error.value)


def test_create_twice_is_409_already_exists(hook: SyncOrAsync, unique_name: str) -> None:
    hook.create(SPARK_APPLICATION, spark_app(unique_name))
    try:
        with pytest.raises(MokaApiError) as error:
            hook.create(SPARK_APPLICATION, spark_app(unique_name))
        assert error.value.already_exists
        assert error.value.status == 409
        assert "already exists" in str(error.value)
    finally:
        hook.delete(SPARK_APPLICATION, unique_name)


def test_type_broken_spec_is_a_readable_422_naming_the_fields(hook: SyncOrAsync, unique_name: str) -> None:
    body = spark_app(unique_name)
    body["spec"]["driver"]["cores"] = "one"  # integer in the CRD
    body["spec"]["mode"] = 7  # string in the CRD
    with pytest.raises(MokaApiError) as error:
        hook.create(SPARK_APPLICATION, body)
    problems = {problem.field: problem.message for problem in error.value.problems}
    assert error.value.status == 422 and error.value.reason == "Invalid"
    assert set(problems) == {"spec.driver.cores", "spec.mode"}
    assert problems["spec.driver.cores"] == "must be of type integer, got string"
    assert 'supported values: "cluster", "client"' in problems["spec.mode"]
    text = str(error.value)
    assert "  - spec.driver.cores: " in text and "  - spec.mode: " in text
    assert "spec.driver.cores in body" not in text  # said once, in plain words
    with pytest.raises(MokaApiError) as missing:
        hook.get(SPARK_APPLICATION, unique_name)
    assert missing.value.not_found  # nothing half-created


def test_every_upstream_example_is_accepted(shared_dir: Path, moka_local: Any, unique_name: str) -> None:
    """All operator examples (bad-* too: they fail at run time, not at admission) pass the server."""
    hook = SyncOrAsync("sync").hook
    accepted: list[tuple[str, str]] = []
    for path in sorted((shared_dir / "upstream-examples").glob("*/*.yaml")):
        for doc in manifests(path):
            if doc.get("kind") == "ConfigMap":
                continue  # RayJob samples ship the script they run as a ConfigMap
            resource = resource_for(doc)
            doc["metadata"].pop("namespace", None)
            doc["metadata"]["name"] = f"{unique_name}-{len(accepted)}"
            created = hook.create(resource, doc)
            accepted.append((path.name, resource.kind))
            assert hook.get(resource, created["metadata"]["name"])["spec"] == created["spec"]
            hook.delete(resource, created["metadata"]["name"])
    assert len({name for name, _ in accepted}) == len(
        list((shared_dir / "upstream-examples").glob("*/*.yaml"))
    )
    assert {kind for _, kind in accepted} == {r.kind for r in ALL_RESOURCES}
