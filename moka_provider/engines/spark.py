"""Spark on Moka: how a SparkApplication's status reads (spark-operator's state machine).

States from the kubeflow spark-operator (``status.applicationState.state``): ``COMPLETED`` is
success and ``FAILED`` failure; everything else is still on its way, including
``SUBMISSION_FAILED`` / ``FAILING`` (the operator may retry per ``restartPolicy``) and the
rerun / suspend states. Before the driver runs, a job is pending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, Phase
from moka_provider.engines.resources import SPARK_APPLICATION

_RUNNING_STATES = frozenset({"RUNNING", "SUCCEEDING", "FAILING", "INVALIDATING"})


class SparkAdapter(EngineAdapter):
    engine = "spark"
    resource = SPARK_APPLICATION
    # The operator names the driver pod "<name>-driver" and the UI service "<name>-ui-svc".
    name_suffixes = ("-driver", "-ui-svc")
    link_buttons = ("spark_ui",)
    # internal/controller/sparkapplication/controller.go recordSparkApplicationEvent (reasons from
    # pkg/common/event.go), recorded as the state is written, so before a TTL deletion.
    end_event_reasons = {"SparkApplicationCompleted": Phase.SUCCEEDED, "SparkApplicationFailed": Phase.FAILED}

    def status(self, job: Mapping[str, Any]) -> JobStatus:
        status = job.get("status") or {}
        application_state = status.get("applicationState") or {}
        state = application_state.get("state") or ""
        message = application_state.get("errorMessage") or None
        if state == "COMPLETED":
            return JobStatus(Phase.SUCCEEDED, state, message)
        if state == "FAILED":
            return JobStatus(Phase.FAILED, state, message)
        if state in _RUNNING_STATES:
            return JobStatus(Phase.RUNNING, state, message)
        return JobStatus(Phase.PENDING, state, message)

    def log_pod(self, job: Mapping[str, Any]) -> str | None:
        driver = ((job.get("status") or {}).get("driverInfo") or {}).get("podName")
        return driver or f"{job['metadata']['name']}-driver"

    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        return {
            "spark_app_id": (job.get("status") or {}).get("sparkApplicationId"),
            "pod": self.log_pod(job),
        }

    def engine_links(
        self, link: Callable[..., str | None], phase: Phase, params: Mapping[str, str | None]
    ) -> dict[str, str | None]:
        # The live UI lives as long as the driver; afterwards the History Server has the application.
        kind = "spark_history" if phase.terminal else "spark_ui"
        return {"spark_ui": link(kind, **params)}

    def result(self, job: Mapping[str, Any]) -> dict[str, Any]:
        status = job.get("status") or {}
        return {
            "spark_application_id": status.get("sparkApplicationId"),
            "executor_count": len(status.get("executorState") or {}),
            "driver_pod": self.log_pod(job),
        }
