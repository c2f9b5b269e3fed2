"""What a waiter keeps of a job (``EngineAdapter.slim``) reads as the whole job does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moka_provider.engines.base import EngineAdapter
from moka_provider.engines.registry import ADAPTERS
from tests.conformance.traces import all_traces


def jobs_of_every_trace() -> list[tuple[str, dict[str, Any], str]]:
    """Each status an operator writes in the conformance traces, on a job with the trace's spec."""
    cases = []
    for trace in all_traces():
        for index, step in enumerate(trace.steps):
            if "status" not in step:
                continue
            job = {
                "apiVersion": "v1",
                "kind": "Job",
                "metadata": {
                    "name": "job-1",
                    "namespace": "moka",
                    "uid": "uid-1",
                    "resourceVersion": "7",
                    "labels": {"moka.dev/job-key": "k"},
                    "annotations": {"moka.dev/run-id": "manual__1"},
                    "managedFields": [{"manager": "operator", "fieldsV1": {"f:status": {}}}],
                },
                "spec": {**trace.spec, "deploymentName": "session-1", "submissionMode": "SidecarMode"},
                "status": step["status"],
            }
            cases.append((f"{trace.key}[{index}]", job, trace.engine))
    return cases


CASES = jobs_of_every_trace()


def cost_or_error(adapter: EngineAdapter, job: dict[str, Any]) -> object:
    """The job's cost, or the text of the error that says it cannot be told (a trace's spec may
    leave a size out)."""
    try:
        return adapter.cost(job)
    except ValueError as error:
        return str(error)


@pytest.mark.parametrize(("case", "job", "engine"), CASES, ids=[case for case, _, _ in CASES])
def test_the_slim_job_reads_as_the_whole(case: str, job: dict[str, Any], engine: str) -> None:
    adapters = [adapter for adapter in ADAPTERS.values() if adapter.engine.startswith(engine)]
    for adapter in adapters:
        slim = adapter.slim(job)

        assert adapter.status(slim) == adapter.status(job)
        assert adapter.log_pods(slim) == adapter.log_pods(job)
        assert adapter.link_params(slim) == adapter.link_params(job)
        assert adapter.result(slim) == adapter.result(job)
        assert cost_or_error(adapter, slim) == cost_or_error(adapter, job)
        assert "managedFields" not in slim["metadata"] and "annotations" not in slim["metadata"]
        assert len(json.dumps(slim)) <= len(json.dumps(job))


def test_a_spark_job_with_thousands_of_executors_stays_small() -> None:
    adapter = ADAPTERS["spark"]
    executors = {f"pi-exec-{n}": "COMPLETED" for n in range(5000)}
    job = {
        "metadata": {"name": "pi"},
        "status": {"applicationState": {"state": "COMPLETED"}, "executorState": executors},
    }

    slim = adapter.slim(job)

    assert adapter.result(slim)["executor_count"] == 5000
    assert len(json.dumps(slim)) < 300
