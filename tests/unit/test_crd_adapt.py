"""Adapting the official CRDs to a v1.20 API server."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from moka_provider.local.crd_adapt import adapt_crd, needs_adaptation
from moka_provider.resources import ALL_RESOURCES, CustomResource


def crd_with(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.invalid"},
        "spec": {
            "group": "example.invalid",
            "names": {"kind": "Thing", "plural": "things"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
            ],
        },
    }


def adapted_schema(schema: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = adapt_crd(crd_with(schema))["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return result


def ports(key_schema: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    """A spec.ports list-map keyed by ``name``, whose key property schema is ``key_schema``."""
    items: dict[str, Any] = {
        "type": "object",
        "properties": {"name": key_schema, "port": {"type": "integer"}},
    }
    if required is not None:
        items["required"] = required
    return {
        "type": "object",
        "properties": {
            "ports": {
                "type": "array",
                "items": items,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
            }
        },
    }


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


@pytest.mark.parametrize(
    ("major", "minor", "expected"),
    [(1, 20, True), (1, 24, True), (1, 25, False), (1, 30, False), (2, 0, False)],
)
def test_needs_adaptation(major, minor, expected):
    assert needs_adaptation(major, minor) is expected


def test_cel_rules_are_dropped_everywhere():
    schema = {
        "type": "object",
        "x-kubernetes-validations": [{"rule": "self.a < 3"}],
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [{"rule": "has(self.b)", "message": "b is required"}],
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {"type": "object", "x-kubernetes-validations": [{"rule": "true"}]},
                    }
                },
            }
        },
    }

    adapted = adapted_schema(schema)

    assert all("x-kubernetes-validations" not in node for node in walk(adapted))
    assert adapted["properties"]["spec"]["properties"]["items"]["items"] == {"type": "object"}


def test_empty_string_defaults_are_dropped_and_others_kept():
    schema = {
        "type": "object",
        "properties": {
            "empty": {"type": "string", "default": ""},
            "text": {"type": "string", "default": "Always"},
            "zero": {"type": "integer", "default": 0},
            "no": {"type": "boolean", "default": False},
            "list": {"type": "array", "default": [], "items": {"type": "string", "default": ""}},
        },
    }

    properties = adapted_schema(schema)["properties"]

    assert properties["empty"] == {"type": "string"}
    assert properties["text"]["default"] == "Always"
    assert properties["zero"]["default"] == 0
    assert properties["no"]["default"] is False
    assert properties["list"]["default"] == []
    assert properties["list"]["items"] == {"type": "string"}


def test_list_map_with_required_key_stays_a_map():
    ports_schema = adapted_schema(ports({"type": "string"}, required=["name"]))["properties"]["ports"]

    assert ports_schema["x-kubernetes-list-type"] == "map"
    assert ports_schema["x-kubernetes-list-map-keys"] == ["name"]


def test_list_map_with_defaulted_key_stays_a_map():
    ports_schema = adapted_schema(ports({"type": "string", "default": "http"}))["properties"]["ports"]

    assert ports_schema["x-kubernetes-list-type"] == "map"
    assert ports_schema["x-kubernetes-list-map-keys"] == ["name"]
    assert ports_schema["items"]["properties"]["name"]["default"] == "http"


def test_list_map_whose_key_only_had_an_empty_default_becomes_atomic():
    ports_schema = adapted_schema(ports({"type": "string", "default": ""}))["properties"]["ports"]

    assert ports_schema["x-kubernetes-list-type"] == "atomic"
    assert "x-kubernetes-list-map-keys" not in ports_schema
    assert ports_schema["items"]["properties"]["name"] == {"type": "string"}


def test_list_map_whose_key_is_neither_required_nor_defaulted_becomes_atomic():
    ports_schema = adapted_schema(ports({"type": "string"}, required=["port"]))["properties"]["ports"]

    assert ports_schema["x-kubernetes-list-type"] == "atomic"
    assert "x-kubernetes-list-map-keys" not in ports_schema


def test_list_map_with_two_keys_needs_both_covered():
    schema = ports({"type": "string"}, required=["name"])
    ports_node = schema["properties"]["ports"]
    ports_node["x-kubernetes-list-map-keys"] = ["name", "protocol"]
    ports_node["items"]["properties"]["protocol"] = {"type": "string", "default": "TCP"}
    covered = copy.deepcopy(schema)
    ports_node["items"]["properties"]["protocol"]["default"] = ""

    assert adapted_schema(covered)["properties"]["ports"]["x-kubernetes-list-type"] == "map"
    assert adapted_schema(schema)["properties"]["ports"]["x-kubernetes-list-type"] == "atomic"


def test_other_list_types_are_untouched():
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        },
    }

    assert adapted_schema(schema) == schema


def test_a_property_named_default_is_kept():
    schema = {
        "type": "object",
        "properties": {
            "default": {
                "type": "object",
                "properties": {"image": {"type": "string", "default": ""}},
            },
            "fallback": {"type": "string", "default": ""},
        },
    }

    properties = adapted_schema(schema)["properties"]

    assert set(properties) == {"default", "fallback"}
    assert properties["default"] == {"type": "object", "properties": {"image": {"type": "string"}}}
    assert properties["fallback"] == {"type": "string"}


def test_versions_without_schema_are_left_alone():
    crd = crd_with({"type": "object", "x-kubernetes-validations": [{"rule": "true"}]})
    crd["spec"]["versions"].append({"name": "v0", "served": False, "storage": False})

    adapted = adapt_crd(crd)

    assert adapted["spec"]["versions"][1] == {"name": "v0", "served": False, "storage": False}
    assert adapted["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == {"type": "object"}


def test_hand_written_crd_is_not_mutated():
    crd = crd_with(ports({"type": "string", "default": ""}))
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-validations"] = [{"rule": "1 == 1"}]
    before = copy.deepcopy(crd)

    adapted = adapt_crd(crd)

    assert crd == before
    assert adapted != before


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.kind)
def test_real_crd_is_adapted(resource: CustomResource):
    crd = resource.crd()
    before = copy.deepcopy(crd)

    adapted = adapt_crd(crd)

    assert crd == before, "adapt_crd mutated its argument (the cached, shared CRD)"
    assert resource.crd() == before
    nodes = list(walk(adapted["spec"]["versions"]))
    assert all("x-kubernetes-validations" not in node for node in nodes)
    assert all(node.get("default") != "" for node in nodes)
    for node in nodes:
        if node.get("x-kubernetes-list-type") == "map":
            items = node["items"]
            for key in node["x-kubernetes-list-map-keys"]:
                assert key in items.get("required", []) or "default" in items["properties"][key]
    # Everything but the schemas is unchanged.
    assert {k: v for k, v in adapted.items() if k != "spec"} == {
        k: v for k, v in before.items() if k != "spec"
    }
    assert adapted["spec"]["names"] == before["spec"]["names"]
