"""What a finished job reserved, per engine, against values computed by hand (docs/design.md 6.7)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from moka_provider.engines.cost import JobCost, PodGroup
from moka_provider.engines.flink_cost import flink_size_gib
from moka_provider.engines.registry import ADAPTERS
from moka_provider.engines.spark_cost import spark_size_mib
from moka_provider.jobs.reporting import JobReporter
from moka_provider.jobs.tracking import Outcome, Verdict

START, END_10_MIN = "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z"


def cost(engine: str, spec: dict[str, Any], status: dict[str, Any], **metadata: Any) -> JobCost | None:
    job = {"metadata": {"name": "j", "namespace": "m", **metadata}, "spec": spec, "status": status}
    return ADAPTERS[engine].cost(job)


def totals(found: JobCost | None) -> tuple[float, float]:
    assert found is not None
    return round(found.core_seconds, 6), round(found.memory_gib_seconds, 6)


# -- the arithmetic ---------------------------------------------------------------------------------


def test_core_and_memory_seconds_add_up_every_pod() -> None:
    found = JobCost((PodGroup("driver", 1, 2, 1.5), PodGroup("executors", 3, 0.5, 2)), 100, queue="q")

    assert (found.core_seconds, found.memory_gib_seconds) == (350, 750)
    assert found.as_dict() == {
        "core_seconds": 350,
        "memory_gib_seconds": 750,
        "seconds": 100,
        "method": "spec",
        "queue": "q",
        "pods": [
            {"role": "driver", "pods": 1, "cores": 2, "memory_gib": 1.5},
            {"role": "executors", "pods": 3, "cores": 0.5, "memory_gib": 2},
        ],
    }
    assert found.summary() == (
        "reserved 0.0972 core-hours (350 core-seconds) and 0.208 GiB-hours of memory (750 GiB-seconds) "
        "over 100 s: driver 1 x (2 CPU, 1.5 GiB), executors 3 x (0.5 CPU, 2 GiB); method spec"
    )


# -- Spark ------------------------------------------------------------------------------------------

SPARK_RAN = {"lastSubmissionAttemptTime": START, "terminationTime": END_10_MIN}


def test_spark_defaults_are_the_operators() -> None:
    """A Scala application with nothing sized: 1 core and 1g each, overhead max(10%, 384 MiB)."""
    found = cost("spark", {}, SPARK_RAN)

    assert found is not None
    assert [(g.role, g.pods, g.cores, g.memory_gib) for g in found.groups] == [
        ("driver", 1, 1, 1408 / 1024),  # 1024 MiB + 384 MiB
        ("executors", 1, 1, 1408 / 1024),
    ]
    assert totals(found) == (600 * 2, 600 * 2.75)
    assert found.method == "spec" and found.queue is None


def test_spark_python_application_with_requests_overheads_and_pyspark_memory() -> None:
    spec = {
        "type": "Python",
        "driver": {"cores": 2, "memory": "4g"},  # overhead 40% (Python): 1638 MiB
        "executor": {"instances": 3, "coreRequest": "500m", "memory": "2048m", "memoryOverhead": "1g"},
        "sparkConf": {"spark.executor.pyspark.memory": "512"},  # MiB
        "batchSchedulerOptions": {"queue": "root.etl"},
    }
    found = cost(
        "spark", spec, {"lastSubmissionAttemptTime": START, "terminationTime": "2026-01-01T00:01:40Z"}
    )

    # driver 4096 + 1638 = 5734 MiB; executors 2048 + 1024 + 512 = 3584 MiB = 3.5 GiB
    assert totals(found) == (100 * (2 + 3 * 0.5), round(100 * (5734 / 1024 + 3 * 3.5), 6))
    assert found is not None and found.queue == "root.etl"


def test_spark_properties_fill_what_the_spec_leaves_out() -> None:
    conf = {
        "spark.driver.cores": "3",
        "spark.executor.memory": "3g",
        "spark.executor.memoryOverheadFactor": "0.2",  # 614 MiB of 3072
        "spark.memory.offHeap.enabled": "true",
        "spark.memory.offHeap.size": "1g",
        "spark.executor.instances": "2",
    }
    found = cost(
        "spark",
        {"sparkConf": conf},
        {"lastSubmissionAttemptTime": START, "terminationTime": "2026-01-01T00:00:10Z"},
    )

    # driver 3 cores, 1408 MiB; 2 executors of 1 core, 3072 + 614 + 1024 = 4710 MiB
    assert totals(found) == (10 * (3 + 2), round(10 * (1408 + 2 * 4710) / 1024, 6))


def test_spark_spec_fields_win_over_properties() -> None:
    spec = {"driver": {"cores": 1}, "sparkConf": {"spark.driver.cores": "8"}, "executor": {"instances": 0}}

    assert totals(cost("spark", spec, SPARK_RAN))[0] == 600 * 1


@pytest.mark.parametrize(
    ("status", "executors"),
    [
        ({**SPARK_RAN, "executorState": {f"e{n}": "COMPLETED" for n in range(10)}}, 4),  # capped at max
        ({**SPARK_RAN, "mokaExecutorCount": 2}, 2),  # the slim form's count
    ],
)
def test_spark_dynamic_allocation_counts_the_executors_the_status_lists(
    status: dict[str, Any], executors: int
) -> None:
    found = cost("spark", {"dynamicAllocation": {"enabled": True, "maxExecutors": 4}}, status)

    assert found is not None and found.method == "executors_seen"
    assert found.groups[1].pods == executors
    assert totals(found) == (600 * (1 + executors), 600 * 1.375 * (1 + executors))


def test_spark_dynamic_allocation_from_the_properties() -> None:
    conf = {"spark.dynamicAllocation.enabled": "true", "spark.executor.instances": "9"}
    found = cost("spark", {"sparkConf": conf}, {**SPARK_RAN, "mokaExecutorCount": 3})

    assert found is not None and found.method == "executors_seen" and found.groups[1].pods == 3


def test_a_spark_application_that_never_ran_has_no_cost() -> None:
    assert cost("spark", {}, {"lastSubmissionAttemptTime": START}) is None


@pytest.mark.parametrize(
    ("size", "mib"), [("512m", 512), ("2g", 2048), ("1024", 1024), ("1536k", 1), ("1t", 2**20)]
)
def test_spark_sizes(size: str, mib: int) -> None:
    assert spark_size_mib(size) == mib


def test_a_size_spark_would_not_read_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Spark size"):
        cost("spark", {"driver": {"memory": "4Gi"}}, SPARK_RAN)


# -- Flink ------------------------------------------------------------------------------------------

FLINK_RAN = {"jobStatus": {"state": "FINISHED", "startTime": "1767225600000", "updateTime": "1767225660500"}}


def test_flink_as_the_spec_builder_sizes_it() -> None:
    """1 CPU and 2048m for JobManager and TaskManager; parallelism 1 on 1 slot: one TaskManager."""
    spec = {
        "jobManager": {"resource": {"cpu": 1, "memory": "2048m"}},
        "taskManager": {"resource": {"cpu": 1, "memory": "2048m"}},
        "job": {"parallelism": 1},
        "podTemplate": {"metadata": {"labels": {"yunikorn.apache.org/queue": "root.flink"}}},
    }
    found = cost("flink", spec, FLINK_RAN)

    assert totals(found) == (60.5 * 2, 60.5 * 4)
    assert found is not None and found.queue == "root.flink" and found.method == "spec"


def test_flink_resources_slots_and_parallelism() -> None:
    spec = {
        "jobManager": {"replicas": 2, "resource": {"memory": "1g"}},  # CPU: Flink's default, 1
        "taskManager": {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2}}},
        "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
        "job": {"parallelism": 5},  # 3 TaskManagers of 2 slots
    }
    found = cost("flink", spec, {"jobStatus": {"startTime": "1000", "updateTime": "101000"}})

    assert totals(found) == (100 * (2 * 1 + 3 * 0.5), 100 * (2 * 1 + 3 * 1))


def test_flink_replicas_and_configuration() -> None:
    spec = {
        "taskManager": {"replicas": 4, "resource": {"memory": "1536m"}},  # CPU: its slots, 2
        "flinkConfiguration": {
            "taskmanager": {"numberOfTaskSlots": 2},
            "jobmanager.memory.process.size": "1024m",
            "kubernetes.jobmanager.cpu.amount": "0.5",
        },
        "job": {"parallelism": 99},
    }
    found = cost("flink", spec, {"jobStatus": {"startTime": "1000", "updateTime": "11000"}})

    assert totals(found) == (10 * (0.5 + 4 * 2), 10 * (1 + 4 * 1.5))


@pytest.mark.parametrize(
    ("size", "gib"), [("2G", 2), ("2Gi", 2), ("2048m", 2), ("1073741824", 1), ("1536 mb", 1.5)]
)
def test_flink_sizes(size: str, gib: float) -> None:
    """Flink's own sizes first (its ``g`` is GiB), Kubernetes quantities for the rest."""
    assert flink_size_gib(size) == gib


def test_flink_without_a_memory_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="jobmanager's memory is not stated"):
        cost("flink", {"taskManager": {"resource": {"memory": "1g"}}}, FLINK_RAN)


def test_flink_jobs_that_never_started_or_share_a_cluster_have_no_cost() -> None:
    assert cost("flink", {}, {"jobStatus": {"state": "FAILED", "updateTime": "5"}}) is None
    assert cost("flink_session", {"deploymentName": "s"}, FLINK_RAN) is None


# -- Ray --------------------------------------------------------------------------------------------


def container(requests: dict[str, Any] | None = None, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": "c", "resources": {"requests": requests or {}, "limits": limits or {}}}


def group(containers: list[dict[str, Any]], **counts: Any) -> dict[str, Any]:
    return {**counts, "template": {"spec": {"containers": containers}}}


RAY_CLUSTER = {
    "headGroupSpec": group(
        [
            container({"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"}),
            container(limits={"cpu": "250m", "memory": "256Mi"}),  # requests default to limits
        ]
    ),
    "workerGroupSpecs": [
        group([container({"cpu": 2, "memory": "4Gi"})], groupName="small", replicas=2, numOfHosts=2),
        group([container({"cpu": 1, "memory": "2Gi"})], groupName="clamped", replicas=5, maxReplicas=3),
        group([container({"cpu": 8, "memory": "8Gi"})], groupName="off", replicas=1, suspend=True),
    ],
}
RAY_RAN = {"startTime": START, "endTime": "2026-01-01T00:02:00Z"}


def test_ray_head_and_worker_groups() -> None:
    labels = {"yunikorn.apache.org/queue": "root.ray"}
    found = cost("ray", {"rayClusterSpec": RAY_CLUSTER}, RAY_RAN, labels=labels)

    assert found is not None
    assert [(g.role, g.pods, g.cores, g.memory_gib) for g in found.groups] == [
        ("head", 1, 1.25, 1.25),
        ("workers small", 4, 2, 4),
        ("workers clamped", 3, 1, 2),
        ("workers off", 0, 8, 8),
    ]
    assert totals(found) == (120 * (1.25 + 8 + 3), 120 * (1.25 + 16 + 6))
    assert found.method == "spec" and found.queue == "root.ray"


def test_ray_autoscaled_workers_are_an_estimate() -> None:
    found = cost("ray", {"rayClusterSpec": {**RAY_CLUSTER, "enableInTreeAutoscaling": True}}, RAY_RAN)

    assert found is not None and found.method == "initial_replicas"


def test_ray_jobs_on_a_shared_cluster_or_unfinished_have_no_cost() -> None:
    selector = {"clusterSelector": {"ray.io/cluster": "shared"}, "rayClusterSpec": RAY_CLUSTER}
    assert cost("ray", selector, RAY_RAN) is None
    assert cost("ray", {"rayClusterSpec": RAY_CLUSTER}, {"startTime": START}) is None


# -- the task's report ------------------------------------------------------------------------------


def outcome(spec: dict[str, Any]) -> Outcome:
    job = {
        "metadata": {"name": "j", "namespace": "m", "creationTimestamp": START},
        "spec": spec,
        "status": {**SPARK_RAN, "applicationState": {"state": "COMPLETED"}},
    }
    return Outcome(Verdict.SUCCEEDED, job, ADAPTERS["spark"].status(job), finished_at=0)


def test_the_task_log_says_what_the_job_reserved(caplog: pytest.LogCaptureFixture) -> None:
    reporter = JobReporter(None, ADAPTERS["spark"], logging.getLogger("t"))
    with caplog.at_level(logging.INFO):
        found = reporter.cost(outcome({}))

    assert found is not None and found.core_seconds == 1200
    assert "SparkApplication m/j reserved 0.333 core-hours (1200 core-seconds)" in caplog.text


def test_a_cost_that_cannot_be_told_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    reporter = JobReporter(None, ADAPTERS["spark"], logging.getLogger("t"))

    assert reporter.cost(outcome({"driver": {"memory": "lots"}})) is None
    assert "what SparkApplication m/j reserved cannot be told: 'lots' is not a Spark size" in caplog.text
