"""engines/values.py: the argument checks, quantities, templates and layer stacking every builder shares."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from moka_provider.engines import values
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.resources import (
    ALL_RESOURCES,
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    RAY_JOB,
    SPARK_APPLICATION,
)


def problem_of(function: Any, *arguments: Any, **keywords: Any) -> MokaJobSpecError:
    with pytest.raises(MokaJobSpecError) as caught:
        function(*arguments, **keywords)
    return caught.value


# --- plain values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "None"), (42, "42 (int)"), ("x", "'x' (str)"), ("y" * 60, "a str"), ([1], "[1] (list)")],
)
def test_kind_of(value, shown):
    assert values.kind_of(value) == shown


@pytest.mark.parametrize(
    ("value", "expected"), [("a", "a"), (True, "true"), (False, "false"), (4, "4"), (0.5, "0.5")]
)
def test_text(value, expected):
    assert values.text(value, "x") == expected


def test_text_map_names_the_key_of_a_bad_value():
    assert values.text_map({"a": 1, "b": True}, "conf") == {"a": "1", "b": "true"}
    assert problem_of(values.text_map, {"a": None}, "conf").argument == "conf['a']"
    assert problem_of(values.text_map, {"": "x"}, "conf").argument == "conf"
    assert "mapping" in problem_of(values.text_map, ["a=b"], "conf").problem


@pytest.mark.parametrize("value", ["", "  ", None, 3])
def test_required_text(value):
    error = problem_of(values.required_text, value, "image")

    assert (error.argument, "non-empty string" in error.problem) == ("image", True)


@pytest.mark.parametrize(("value", "minimum"), [(-1, 0), (0, 1), (True, 0), ("2", 0), (1.0, 0)])
def test_count_refuses(value, minimum):
    assert f">= {minimum}" in problem_of(values.count, value, "n", minimum).problem


def test_count_and_flag_accept():
    assert values.count(0, "n", 0) == 0
    assert values.flag(False, "f") is False
    assert problem_of(values.flag, "yes", "f").argument == "f"


def test_checked_keys_lists_what_is_allowed():
    allowed = {"cpu": "cpu", "memory": "memory"}

    assert values.checked_keys({"cpu": 1}, "head", allowed) == {"cpu": 1}
    assert problem_of(values.checked_keys, {"cpus": 1}, "head", allowed).problem == (
        "unknown key(s) 'cpus'; allowed: cpu, memory"
    )
    assert "expected a mapping" in problem_of(values.checked_keys, [1], "head", allowed).problem


def test_program_arguments_name_the_argument_and_index():
    assert values.program_arguments(["--n", 3, 0.5], "args") == ["--n", "3", "0.5"]
    assert problem_of(values.program_arguments, "--n 3", "args").argument == "args"
    assert problem_of(values.program_arguments, ["a", None], "entrypoint").argument == "entrypoint[1]"
    assert "'true'" in problem_of(values.program_arguments, [True], "args").problem


def test_string_list():
    assert values.string_list(("a", "b"), "deps") == ["a", "b"]
    assert "write ['a.jar']" in problem_of(values.string_list, "a.jar", "deps").problem
    assert problem_of(values.string_list, ["a", ""], "deps").argument == "deps[1]"


def test_merged_env_keeps_the_templates_other_entries_first():
    existing = [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": {"x": 1}}]

    merged = values.merged_env(existing, {"B": "2", "C": "3"})

    assert merged == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]
    assert values.merged_env(None, {"X": "1"}) == [{"name": "X", "value": "1"}]


@pytest.mark.parametrize(("value", "expected"), [("500m", "500m"), (2, "2"), (1.5, "1.5"), (" 1 ", "1")])
def test_cpu_quantity(value, expected):
    assert values.cpu_quantity(value, "cpu") == expected


@pytest.mark.parametrize("value", ["0", 0, "-1", "fast", True, None, "", [1]])
def test_cpu_quantity_refuses(value):
    assert "not a CPU quantity" in problem_of(values.cpu_quantity, value, "head['cpu']").problem


@pytest.mark.parametrize("value", ["512Mi", "4Gi", "1.5Gi", "2G", "500M", "100k", " 1Ti "])
def test_memory_quantity(value):
    assert values.memory_quantity(value, "memory") == value.strip()


@pytest.mark.parametrize("value", ["512m", "1024", 1024, "0Gi", "4GiB", "4 Gi", "lots", None, "-1Gi"])
def test_memory_quantity_refuses_units_kubernetes_reads_otherwise(value):
    error = problem_of(values.memory_quantity, value, "head['memory']")

    assert error.argument == "head['memory']"
    assert "'m' is milli" in error.problem


def test_check_architecture():
    values.check_architecture(None)
    values.check_architecture("arm64")
    assert "amd64, arm64" in problem_of(values.check_architecture, "x86_64").problem


# --- templates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda resource: resource.kind)
def test_parse_manifest_text_reads_yaml_json_and_dicts_of_each_kind(resource):
    document = {"apiVersion": resource.api_version, "kind": resource.kind, "spec": {"a": [1]}}

    assert values.parse_manifest_text(json.dumps(document), resource) == document
    assert values.parse_manifest_text(
        f"apiVersion: {resource.api_version}\nkind: {resource.kind}\n", resource
    )
    copied = values.parse_manifest_text(document, resource)
    copied["spec"]["a"].append(2)
    assert document["spec"]["a"] == [1]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("kind: [", "is not valid YAML or JSON"),
        ("a: 1\n---\nb: 2\n", "holds 2 documents; expected exactly one RayJob"),
        ("jobs/ray.yaml", "looks like a file path"),
        ("- x\n", "expected a RayJob document"),
        (b"bytes", "expected YAML or JSON text or a mapping"),
        ("apiVersion: ray.io/v1alpha1\nkind: RayJob\n", "expected apiVersion ray.io/v1 kind RayJob"),
        ("apiVersion: ray.io/v1\nkind: RayJob\nmetadata: []\n", "metadata must be a mapping"),
    ],
)
def test_parse_manifest_text_refuses(value, fragment):
    error = problem_of(values.parse_manifest_text, value, RAY_JOB, "template")

    assert error.argument == "template"
    assert fragment in error.problem


def test_parse_manifest_text_tells_a_session_job_from_a_deployment():
    text = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkSessionJob\n"

    assert values.parse_manifest_text(text, FLINK_SESSION_JOB)["kind"] == "FlinkSessionJob"
    error = problem_of(values.parse_manifest_text, text, FLINK_DEPLOYMENT)
    assert error.argument == "application_file"
    assert "kind 'FlinkSessionJob'" in error.problem


# --- stacking the layers --------------------------------------------------------------------------


def test_defaults_fill_gaps_under_the_users_layers_in_the_users_order():
    template = {"b": {"y": 1, "x": 2}, "a": 1}
    explicit = {"a": 2, "c": [1]}

    def defaults(given):
        return {"d": "connection", "a": 0, "b": {"z": 3, "x": 0}}

    spec = values.stacked_spec(template, explicit, defaults, None)

    assert spec == {"b": {"y": 1, "x": 2, "z": 3}, "a": 2, "c": [1], "d": "connection"}
    assert list(spec) == ["b", "a", "c", "d"]
    assert list(spec["b"]) == ["y", "x", "z"]


def test_defaults_see_the_overrides_and_overrides_come_last():
    seen = []

    def defaults(given):
        seen.append(given)
        return {"scheduler": "yunikorn", "queue": "q"}

    spec = values.stacked_spec({"a": 1}, {}, defaults, {"a": None, "scheduler": "volcano"})

    assert seen == [{"scheduler": "volcano"}]
    assert spec == {"scheduler": "volcano", "queue": "q"}


def test_spec_overrides_must_be_a_mapping():
    error = problem_of(values.stacked_spec, {}, {}, lambda given: {}, "mode: x")

    assert (error.argument, "expected a mapping (part of spec)" in error.problem) == ("spec_overrides", True)


def test_stacking_changes_no_input():
    template, explicit, overrides = {"a": {"b": [1]}}, {"a": {"c": 2}}, {"a": {"b": [3]}}
    before = json.dumps([template, explicit, overrides])

    values.stacked_spec(template, explicit, lambda given: {"a": {"d": 4}}, overrides)

    assert json.dumps([template, explicit, overrides]) == before


@pytest.mark.parametrize(
    ("application_file", "spec_overrides", "expected"),
    [
        (None, None, "arguments"),
        ("text", None, "application_file"),
        ("text", {}, "application_file"),
        (None, {"a": 1}, "spec_overrides"),
    ],
)
def test_blamed_argument_is_the_last_layer_given(application_file, spec_overrides, expected):
    assert values.blamed_argument(application_file, spec_overrides) == expected


def test_manifest_of_keeps_the_templates_labels_and_annotations_only():
    template = {"metadata": {"name": "n", "namespace": "x", "labels": {"a": "1"}, "annotations": {}}}

    manifest = values.manifest_of(SPARK_APPLICATION, template, {"type": "Python"})

    assert manifest == {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"labels": {"a": "1"}},
        "spec": {"type": "Python"},
    }
    manifest["metadata"]["labels"]["b"] = "2"
    assert template["metadata"]["labels"] == {"a": "1"}


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (True, None), ("3", None), (3.0, None)])
def test_as_int(value, expected):
    assert values.as_int(value) == expected


def test_importing_the_builders_loads_no_kubernetes_client():
    code = (
        "import sys, moka_provider.engines.flink_spec, moka_provider.engines.ray_spec, "
        "moka_provider.engines.registry; "
        "print(sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')))"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
