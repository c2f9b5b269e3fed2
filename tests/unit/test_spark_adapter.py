"""SparkAdapter: log pod, link parameters, engine links and the XCom facts of a SparkApplication."""

from __future__ import annotations

from typing import Any

import pytest

from moka_provider.engines.base import LogPods, Phase
from moka_provider.engines.registry import ADAPTERS, adapter_for
from moka_provider.engines.spark import SparkAdapter
from moka_provider.resources import SPARK_APPLICATION
from moka_provider.settings import MokaSettings

ADAPTER = SparkAdapter()


def spark_job(status: dict[str, Any] | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"metadata": {"name": "pi-1a2b3c4d", "namespace": "moka", "uid": "u"}}
    if status is not None:
        job["status"] = status
    return job


# --- log pod ------------------------------------------------------------------------------------------


def test_the_log_is_the_drivers_of_the_current_submission():
    # submission.go driverConfOption labels the driver with the app's name and the submission id;
    # a rerun reuses the driver's name with a new submissionID.
    job = spark_job({"submissionID": "6f1c", "driverInfo": {"podName": "custom-driver-pod"}})

    assert ADAPTER.log_pods(job) == LogPods(
        "spark-role=driver,sparkoperator.k8s.io/app-name=pi-1a2b3c4d,sparkoperator.k8s.io/submission-id=6f1c",
        "spark-kubernetes-driver",
        "custom-driver-pod",
    )


@pytest.mark.parametrize(
    "status",
    [None, {}, {"driverInfo": {}}, {"driverInfo": {"podName": ""}}, {"driverInfo": None}],
    ids=["no-status", "empty-status", "no-pod-name", "empty-pod-name", "null-driver-info"],
)
def test_before_a_submission_any_driver_of_the_app_and_the_operators_driver_name(
    status: dict[str, Any] | None,
):
    pods = ADAPTER.log_pods(spark_job(status))

    assert pods.selector == "spark-role=driver,sparkoperator.k8s.io/app-name=pi-1a2b3c4d"
    assert pods.name == "pi-1a2b3c4d-driver"


# --- link parameters and links ----------------------------------------------------------------------


def test_link_params_from_the_status():
    job = spark_job({"sparkApplicationId": "spark-0123abcd", "driverInfo": {"podName": "pi-driver"}})

    assert ADAPTER.link_params(job) == {"spark_app_id": "spark-0123abcd", "pod": "pi-driver"}


def test_link_params_before_the_driver_started():
    assert ADAPTER.link_params(spark_job()) == {"spark_app_id": None, "pod": "pi-1a2b3c4d-driver"}


@pytest.mark.parametrize(
    ("phase", "kind"),
    [
        (Phase.PENDING, "spark_ui"),
        (Phase.RUNNING, "spark_ui"),
        (Phase.SUCCEEDED, "spark_history"),
        (Phase.FAILED, "spark_history"),
    ],
)
def test_engine_links_use_the_live_ui_while_running_and_the_history_server_after(phase: Phase, kind: str):
    calls: list[tuple[str, dict[str, Any]]] = []

    def link(requested: str, **params: Any) -> str:
        calls.append((requested, params))
        return f"url-of-{requested}"

    params = {"name": "pi", "spark_app_id": "spark-1"}
    links = ADAPTER.engine_links(link, phase, params)

    assert links == {"spark_ui": f"url-of-{kind}"}
    assert calls == [(kind, params)]
    assert set(links) == set(ADAPTER.link_buttons)


def test_engine_links_with_connection_templates():
    settings = MokaSettings.from_extras(
        {
            "spark_ui_url": "https://spark.test/{namespace}/{name}/",
            "spark_history_url": "https://history.test/history/{spark_app_id}/",
        }
    )
    params = {"namespace": "moka", "name": "pi", "spark_app_id": "spark-1"}

    assert ADAPTER.engine_links(settings.link, Phase.RUNNING, params) == {
        "spark_ui": "https://spark.test/moka/pi/"
    }
    assert ADAPTER.engine_links(settings.link, Phase.SUCCEEDED, params) == {
        "spark_ui": "https://history.test/history/spark-1/"
    }
    # Without an application id the History Server link would be broken: none rather than that.
    no_id = {**params, "spark_app_id": None}
    assert ADAPTER.engine_links(settings.link, Phase.FAILED, no_id) == {"spark_ui": None}


# --- result -------------------------------------------------------------------------------------------


def test_result_counts_executors():
    job = spark_job(
        {
            "sparkApplicationId": "spark-0123abcd",
            "driverInfo": {"podName": "pi-driver"},
            "executorState": {"pi-exec-1": "COMPLETED", "pi-exec-2": "COMPLETED", "pi-exec-3": "FAILED"},
        }
    )

    assert ADAPTER.result(job) == {
        "spark_application_id": "spark-0123abcd",
        "executor_count": 3,
        "driver_pod": "pi-driver",
    }


def test_result_without_status():
    assert ADAPTER.result(spark_job()) == {
        "spark_application_id": None,
        "executor_count": 0,
        "driver_pod": "pi-1a2b3c4d-driver",
    }


# --- class facts and registry -------------------------------------------------------------------------


def test_names_leave_room_for_driver_and_ui_service_suffixes():
    assert ADAPTER.resource is SPARK_APPLICATION
    assert set(ADAPTER.name_suffixes) == {"-driver", "-ui-svc"}
    assert ADAPTER.max_name_length == 63 - len("-ui-svc")


def test_status_message_is_none_when_empty():
    job = spark_job({"applicationState": {"state": "FAILED", "errorMessage": ""}})

    assert ADAPTER.status(job).message is None
    assert ADAPTER.status(job).phase is Phase.FAILED


def test_registry_finds_spark_and_names_the_engines_it_knows():
    assert isinstance(adapter_for("spark"), SparkAdapter)
    assert ADAPTERS["spark"].engine == "spark"
    with pytest.raises(ValueError, match="spark"):
        adapter_for("hadoop")
