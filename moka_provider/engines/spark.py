"""Spark on Moka: how a SparkApplication's status reads (spark-operator's state machine).

States from the kubeflow spark-operator (``status.applicationState.state``): ``COMPLETED`` is
success and ``FAILED`` failure; everything else is still on its way, including
``SUBMISSION_FAILED`` / ``FAILING`` (the operator may retry per ``restartPolicy``) and the
rerun / suspend states. Before the driver runs, a job is pending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, JobStatus, LogPods, Phase
from moka_provider.engines.cost import JobCost
from moka_provider.engines.spark_cost import spark_cost
from moka_provider.resources import SPARK_APPLICATION

DRIVER_ROLE = "spark-role=driver"
APP_NAME_LABEL = "sparkoperator.k8s.io/app-name"
SUBMISSION_ID_LABEL = "sparkoperator.k8s.io/submission-id"
#: Spark's name for the driver's container (``spark.kubernetes.driver.podTemplateContainerName``).
DRIVER_CONTAINER = "spark-kubernetes-driver"

_RUNNING_STATES = frozenset({"RUNNING", "SUCCEEDING", "FAILING", "INVALIDATING"})
#: Where :meth:`SparkAdapter.slim_status` keeps the number of ``executorState`` entries (not a
#: field of the CRD: the provider's own).
EXECUTOR_COUNT_FIELD = "mokaExecutorCount"


class SparkAdapter(EngineAdapter):
    engine = "spark"
    resource = SPARK_APPLICATION
    # The operator names the driver pod "<name>-driver" and the UI service "<name>-ui-svc".
    name_suffixes = ("-driver", "-ui-svc")
    link_buttons = ("spark_ui",)
    # What cost() reads (engines/spark_cost.py).
    spec_fields = (
        "type",
        "driver",
        "executor",
        "sparkConf",
        "dynamicAllocation",
        "memoryOverheadFactor",
        "batchSchedulerOptions",
    )
    # Reasons from pkg/common/event.go, recorded by internal/controller/sparkapplication/controller.go
    # (submitSparkApplication, reconcilePendingRerunSparkApplication,
    # reconcileFailedSubmissionSparkApplication, recordDriverEvent from updateDriverState). At
    # 38082f3 nothing records SparkApplicationCompleted: a success shows as SparkDriverCompleted.
    event_phases = {
        "SparkApplicationAdded": Phase.PENDING,
        "SparkApplicationSubmitted": Phase.PENDING,
        "SparkApplicationPendingRerun": Phase.PENDING,
        "SparkDriverRunning": Phase.RUNNING,
        "SparkDriverCompleted": Phase.SUCCEEDED,
        "SparkApplicationCompleted": Phase.SUCCEEDED,
        "SparkDriverFailed": Phase.FAILED,
        "SparkDriverNotFound": Phase.FAILED,
        "SparkApplicationFailed": Phase.FAILED,
    }

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

    def log_pods(self, job: Mapping[str, Any]) -> LogPods:
        """The driver of the current submission.

        Spark labels its driver ``spark-role=driver``; spark-operator adds the application's name
        and the submission's id (``internal/controller/sparkapplication/submission.go``
        ``driverConfOption``; label names in ``pkg/common/spark.go``). A rerun under
        ``restartPolicy: OnFailure`` gets a new ``status.submissionID`` and a driver of the same
        name, so the id is what tells the current attempt's driver from the last one's.
        """
        status = job.get("status") or {}
        selector = f"{DRIVER_ROLE},{APP_NAME_LABEL}={job['metadata']['name']}"
        if status.get("submissionID"):
            selector += f",{SUBMISSION_ID_LABEL}={status['submissionID']}"
        driver = (status.get("driverInfo") or {}).get("podName")
        return LogPods(selector, DRIVER_CONTAINER, driver or f"{job['metadata']['name']}-driver")

    def link_params(self, job: Mapping[str, Any]) -> dict[str, str | None]:
        return {
            "spark_app_id": (job.get("status") or {}).get("sparkApplicationId"),
            "pod": self.log_pods(job).name,
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
            "executor_count": executor_count(status),
            "driver_pod": self.log_pods(job).name,
        }

    def cost(self, job: Mapping[str, Any]) -> JobCost | None:
        return spark_cost(job, executor_count(job.get("status") or {}))

    def slim_status(self, status: Mapping[str, Any]) -> dict[str, Any]:
        # executorState names every executor the application ever had (thousands, with dynamic
        # allocation over hours); the slim form keeps their number only.
        slim = {key: value for key, value in status.items() if key != "executorState"}
        if "executorState" in status:
            slim[EXECUTOR_COUNT_FIELD] = len(status["executorState"] or {})
        return slim


def executor_count(status: Mapping[str, Any]) -> int:
    """How many executors the application had, from a whole or a slim status."""
    if "executorState" in status:
        return len(status["executorState"] or {})
    return int(status.get(EXECUTOR_COUNT_FIELD) or 0)
