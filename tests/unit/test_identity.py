"""JobIdentity: deterministic job names, labels and annotations of a task instance."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.jobs.identity import (
    ATTEMPT_LABEL,
    JOB_KEY_LABEL,
    JobIdentity,
    attempt_of,
    dns_safe,
    label_value,
)
from tests.conftest import REPO

# Kubernetes' own validation rules (apimachinery IsDNS1123Label, IsValidLabelValue, IsQualifiedName).
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

BASE = JobIdentity("etl_daily", "load.orders", "scheduled__2024-01-01T00:00:00+00:00", -1)

ODD_TASK_IDS = [
    "group.sub_group.Load_Orders",  # task groups put dots in task ids
    "UPPER_CASE_TASK",
    "__leading_and_trailing__",
    "a" * 250,
    "x." * 125,
    "Mixed-Case.with__many___underscores.and.dots" * 5,
    "9_starts_with_a_digit",
    "___",  # nothing DNS-safe at all
    "données.été",  # Airflow accepts unicode word characters
    "a" * 50 + "-" * 10 + "b" * 190,  # a cut could end on '-'
]

RUN_IDS = [
    "scheduled__2024-01-01T00:00:00+00:00",
    "manual__2024-05-05T10:11:12.123456+00:00",
    "asset_triggered__2024-05-05T10:11:12+02:00",
    "backfill__2024-01-01T00:00:00+00:00",
    "my run:with+odd/chars",
]


def assert_valid_label_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    assert LABEL_NAME.match(name) and len(name) <= 63, key
    if prefix:
        assert DNS_1123_SUBDOMAIN.match(prefix) and len(prefix) <= 253, key


def assert_valid_label_value(value: str) -> None:
    assert len(value) <= 63, value
    assert LABEL_VALUE.match(value), value


# --- names ------------------------------------------------------------------------------------------


def test_same_inputs_give_the_same_name():
    again = JobIdentity(BASE.dag_id, BASE.task_id, BASE.run_id, BASE.map_index)

    assert again.job_name(56) == BASE.job_name(56)
    assert again.job_name(56, "spark-pi", 3) == BASE.job_name(56, "spark-pi", 3)
    assert again.key == BASE.key


@pytest.mark.parametrize(
    "changed",
    [
        JobIdentity("etl_daily2", BASE.task_id, BASE.run_id, BASE.map_index),
        JobIdentity(BASE.dag_id, "load.orders2", BASE.run_id, BASE.map_index),
        JobIdentity(BASE.dag_id, BASE.task_id, "scheduled__2024-01-02T00:00:00+00:00", BASE.map_index),
        JobIdentity(BASE.dag_id, BASE.task_id, BASE.run_id, 0),
        JobIdentity(BASE.dag_id, BASE.task_id, BASE.run_id, 1),
    ],
    ids=["dag_id", "task_id", "run_id", "map_index_0", "map_index_1"],
)
def test_any_part_of_the_task_instance_changes_name_and_key(changed: JobIdentity):
    assert changed.key != BASE.key
    assert changed.selector != BASE.selector
    assert changed.job_name(56, "spark-pi") != BASE.job_name(56, "spark-pi")


def test_parts_are_not_confused_by_concatenation():
    # "a" + "bc" and "ab" + "c" must be different task instances.
    assert JobIdentity("a", "bc", "r").key != JobIdentity("ab", "c", "r").key
    assert JobIdentity("d", "t", "r1", 1).key != JobIdentity("d", "t", "r", 11).key


def test_name_does_not_depend_on_the_process():
    """Another interpreter (another hash seed) names the same task instance identically."""
    code = (
        "from moka_provider.jobs.identity import JobIdentity;"
        f"print(JobIdentity({BASE.dag_id!r}, {BASE.task_id!r}, {BASE.run_id!r}, 4).job_name(56))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    here = JobIdentity(BASE.dag_id, BASE.task_id, BASE.run_id, 4).job_name(56)

    assert other.stdout.strip() == here


def test_name_shape_and_attempt_suffix():
    first = BASE.job_name(56)
    second = BASE.job_name(56, attempt=2)

    assert first == f"load-orders-{BASE.key[:8]}"
    assert second == f"{first}-2"
    assert BASE.job_name(56, "spark-pi", 1) == f"spark-pi-{BASE.key[:8]}"
    assert BASE.job_name(56, "spark-pi", 99) == f"spark-pi-{BASE.key[:8]}-99"


@pytest.mark.parametrize("max_length", [63, 56])
@pytest.mark.parametrize("task_id", ODD_TASK_IDS)
def test_derived_names_are_dns_labels_within_the_limit_for_every_attempt(task_id: str, max_length: int):
    identity = JobIdentity("dag", task_id, RUN_IDS[0], 7)
    names = [identity.job_name(max_length, attempt=attempt) for attempt in range(1, 100)]

    for name in names:
        assert len(name) <= max_length, name
        assert DNS_1123_LABEL.match(name), name
    assert len(set(names)) == 99  # each attempt its own name


def test_spark_names_leave_room_for_the_operators_suffixes():
    adapter = SparkAdapter()
    for task_id in ODD_TASK_IDS:
        name = JobIdentity("dag", task_id, RUN_IDS[0]).job_name(adapter.max_name_length, attempt=99)
        for suffix in adapter.name_suffixes:
            assert len(name + suffix) <= 63
            assert DNS_1123_LABEL.match(name + suffix)


def test_long_task_ids_differing_only_at_the_end_get_different_names():
    one = JobIdentity("dag", "a" * 249 + "1", "run").job_name(56)
    two = JobIdentity("dag", "a" * 249 + "2", "run").job_name(56)

    assert one != two
    assert one.startswith("a" * 40) and two.startswith("a" * 40)


def test_task_id_without_dns_safe_characters_gets_a_fallback_base():
    name = JobIdentity("dag", "___", "run").job_name(63)

    assert name == f"job-{JobIdentity('dag', '___', 'run').key[:8]}"


@pytest.mark.parametrize("max_length", [63, 56])
@pytest.mark.parametrize("task_id", ODD_TASK_IDS)
def test_derived_names_start_with_a_letter(task_id: str, max_length: int):
    """spark-operator names the UI Service '<name>-ui-svc'; Service names are DNS-1035 labels."""
    identity = JobIdentity("dag", task_id, RUN_IDS[0])

    for attempt in (1, 2, 99):
        name = identity.job_name(max_length, attempt=attempt)
        assert DNS_1035_LABEL.match(name), name
        assert DNS_1035_LABEL.match(name + "-ui-svc"), name


def test_task_id_starting_with_a_digit_gets_a_job_prefix():
    identity = JobIdentity("dag", "9_starts_with_a_digit", "run")

    assert (
        identity.job_name(SparkAdapter().max_name_length) == f"job-9-starts-with-a-digit-{identity.key[:8]}"
    )
    assert identity.job_name(63, attempt=3) == f"job-9-starts-with-a-digit-{identity.key[:8]}-3"


def test_long_task_id_starting_with_a_digit_stays_within_the_limit():
    identity = JobIdentity("dag", "1" * 250, "run")

    name = identity.job_name(56, attempt=99)

    assert name.startswith("job-111")
    assert len(name) <= 56
    assert DNS_1035_LABEL.match(name), name


@pytest.mark.parametrize("base", ["1st-job", "0", "9-lives"])
def test_user_name_starting_with_a_digit_is_rejected(base: str):
    with pytest.raises(MokaJobSpecError) as raised:
        BASE.job_name(SparkAdapter().max_name_length, base)

    assert raised.value.argument == "name"
    assert repr(base) in raised.value.problem


def test_user_name_is_not_given_the_job_prefix():
    assert BASE.job_name(56, "a1") == f"a1-{BASE.key[:8]}"


# --- a user-given name ------------------------------------------------------------------------------


@pytest.mark.parametrize(("max_length", "room"), [(63, 51), (56, 44)])
def test_user_name_at_the_limit_is_kept_whole(max_length: int, room: int):
    base = "n" * room
    for attempt in (1, 9, 10, 99):
        name = BASE.job_name(max_length, base, attempt)
        assert name.startswith(base + "-")
        assert len(name) <= max_length
        assert DNS_1123_LABEL.match(name)


@pytest.mark.parametrize(("max_length", "room"), [(63, 51), (56, 44)])
def test_user_name_too_long_is_a_spec_error_naming_the_argument(max_length: int, room: int):
    with pytest.raises(MokaJobSpecError) as raised:
        BASE.job_name(max_length, "n" * (room + 1))

    assert raised.value.argument == "name"
    assert str(room) in raised.value.problem


@pytest.mark.parametrize(
    "base", ["Spark-Pi", "spark_pi", "spark.pi", "-spark", "spark-", "", "spark pi", "spärk"]
)
def test_invalid_user_name_is_a_spec_error_naming_the_argument(base: str):
    with pytest.raises(MokaJobSpecError) as raised:
        BASE.job_name(56, base)

    assert raised.value.argument == "name"
    assert isinstance(raised.value, ValueError)


# --- labels and annotations -------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", RUN_IDS)
@pytest.mark.parametrize("task_id", ODD_TASK_IDS)
def test_labels_are_valid_kubernetes_labels(task_id: str, run_id: str):
    identity = JobIdentity("dag." + task_id, task_id, run_id, 12)
    labels = identity.labels(attempt=42)

    for key, value in labels.items():
        assert_valid_label_key(key)
        assert_valid_label_value(value)
    assert labels[JOB_KEY_LABEL] == identity.key
    assert labels[ATTEMPT_LABEL] == "42"
    assert labels["moka.dev/map-index"] == "12"
    assert identity.selector == f"{JOB_KEY_LABEL}={identity.key}"


def test_map_index_label_is_absent_when_not_mapped():
    assert "moka.dev/map-index" not in BASE.labels(1)
    assert JobIdentity("d", "t", "r", 0).labels(1)["moka.dev/map-index"] == "0"


def test_labels_keep_readable_dag_and_task_ids():
    labels = JobIdentity("etl_daily", "group.load_orders", "r").labels(1)

    assert labels["moka.dev/dag-id"] == "etl_daily"
    assert labels["moka.dev/task-id"] == "group.load_orders"
    assert labels["app.kubernetes.io/managed-by"] == "airflow-moka-provider"


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_annotations_keep_the_exact_values(run_id: str):
    identity = JobIdentity("Dag With Spaces?", "group.Task_1", run_id, -1)

    assert identity.annotations() == {
        "moka.dev/dag-id": "Dag With Spaces?",
        "moka.dev/task-id": "group.Task_1",
        "moka.dev/run-id": run_id,
        "moka.dev/map-index": "-1",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scheduled__2024-01-01T00:00:00+00:00", "scheduled__2024-01-01T00-00-00-00-00"),
        ("__x__", "x"),
        ("a" * 70, "a" * 63),
        ("a" * 62 + ".b", "a" * 62),  # cut at 63 leaves a trailing '.', which is dropped
    ],
)
def test_label_value(text: str, expected: str):
    assert label_value(text) == expected
    assert_valid_label_value(label_value(text))


def test_dns_safe():
    assert dns_safe("Group.Sub_Group..Load") == "group-sub-group-load"
    assert dns_safe("__x__") == "x"


# --- task instance and attempt -------------------------------------------------------------------


def test_from_context_reads_the_task_instance():
    ti = SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=None)
    assert JobIdentity.from_context({"ti": ti}) == JobIdentity("d", "t", "r", -1)

    mapped = SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=3)
    assert JobIdentity.from_context({"ti": mapped}) == JobIdentity("d", "t", "r", 3)


@pytest.mark.parametrize(
    ("job", "attempt"),
    [
        ({"metadata": {"labels": {ATTEMPT_LABEL: "7"}}}, 7),
        ({"metadata": {"labels": {}}}, 1),
        ({"metadata": {}}, 1),
        ({}, 1),
        ({"metadata": {"labels": {ATTEMPT_LABEL: "seven"}}}, 1),
    ],
)
def test_attempt_of(job: dict, attempt: int):
    assert attempt_of(job) == attempt
