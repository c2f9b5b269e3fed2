"""deep_merge: mappings merge, everything else replaces, None removes, inputs stay untouched."""

from __future__ import annotations

import copy
from types import MappingProxyType

import pytest

from moka_provider.merge import deep_merge


def test_mappings_merge_recursively():
    base = {"driver": {"cores": 1, "labels": {"team": "a"}}, "image": "x"}
    overlay = {"driver": {"memory": "1g", "labels": {"tier": "b"}}}

    assert deep_merge(base, overlay) == {
        "driver": {"cores": 1, "memory": "1g", "labels": {"team": "a", "tier": "b"}},
        "image": "x",
    }


@pytest.mark.parametrize(
    ("base_value", "overlay_value"),
    [
        ([1, 2, 3], [4]),  # lists replace, never concatenate
        ("a", "b"),
        (1, 0),
        (True, False),
        ({"nested": 1}, "scalar over a mapping"),
        ("scalar", {"mapping": "over a scalar"}),
        ({"nested": 1}, []),
    ],
)
def test_anything_but_two_mappings_replaces(base_value, overlay_value):
    assert deep_merge({"key": base_value}, {"key": overlay_value}) == {"key": overlay_value}


def test_none_removes_a_key_at_any_depth():
    base = {"mode": "cluster", "driver": {"cores": 1, "memory": "1g"}}

    merged = deep_merge(base, {"mode": None, "driver": {"memory": None}})

    assert merged == {"driver": {"cores": 1}}


def test_none_for_a_missing_key_adds_nothing():
    assert deep_merge({"a": 1}, {"b": None, "c": {"d": None, "e": 2}}) == {"a": 1, "c": {"e": 2}}


def test_none_inside_a_list_is_kept_as_part_of_the_list():
    assert deep_merge({}, {"items": [None, 1]}) == {"items": [None, 1]}


def test_empty_layers():
    assert deep_merge({}, {}) == {}
    assert deep_merge({"a": {"b": 1}}, {}) == {"a": {"b": 1}}
    assert deep_merge({}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert deep_merge({"a": {"b": 1}}, {"a": {}}) == {"a": {"b": 1}}


def test_inputs_are_not_mutated():
    base = {"driver": {"labels": {"a": "1"}, "env": [{"name": "A"}]}, "gone": 1}
    overlay = {"driver": {"labels": {"b": "2"}}, "gone": None, "deps": {"jars": ["x.jar"]}}
    base_before, overlay_before = copy.deepcopy(base), copy.deepcopy(overlay)

    deep_merge(base, overlay)

    assert base == base_before
    assert overlay == overlay_before


def test_result_shares_nothing_mutable_with_the_inputs():
    base = {"driver": {"env": [{"name": "A"}]}, "untouched": {"k": "v"}}
    overlay = {"deps": {"jars": ["x.jar"]}}

    merged = deep_merge(base, overlay)
    merged["driver"]["env"][0]["name"] = "changed"
    merged["untouched"]["k"] = "changed"
    merged["deps"]["jars"].append("y.jar")

    assert base == {"driver": {"env": [{"name": "A"}]}, "untouched": {"k": "v"}}
    assert overlay == {"deps": {"jars": ["x.jar"]}}


def test_read_only_mappings_are_accepted_and_a_plain_dict_returned():
    merged = deep_merge(
        MappingProxyType({"a": {"b": 1}}), MappingProxyType({"a": MappingProxyType({"c": 2})})
    )

    assert merged == {"a": {"b": 1, "c": 2}}
    assert type(merged) is dict
    assert type(merged["a"]) is dict


def test_overlay_order_of_new_keys_follows_base_then_overlay():
    merged = deep_merge({"b": 1, "a": 2}, {"c": 3, "a": 4})

    assert list(merged) == ["b", "a", "c"]
