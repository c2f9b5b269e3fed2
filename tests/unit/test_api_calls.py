"""The ApiCall descriptions both hooks execute."""

from __future__ import annotations

from typing import Any

from moka_provider.hooks import api_calls
from moka_provider.local.controllers.client import status_patch
from moka_provider.resources import FLINK_DEPLOYMENT, RAY_JOB, SPARK_APPLICATION

CR_ARGS = {
    "group": "sparkoperator.k8s.io",
    "version": "v1beta2",
    "namespace": "moka",
    "plural": "sparkapplications",
}


def test_create_object():
    body = {"apiVersion": "sparkoperator.k8s.io/v1beta2", "metadata": {"name": "pi"}, "spec": {}}

    call = api_calls.create_object(SPARK_APPLICATION, "moka", body)

    assert call.api == "custom"
    assert call.method == "create_namespaced_custom_object"
    assert call.kwargs == {**CR_ARGS, "body": body}
    assert call.kwargs["body"] is not body  # a copy
    assert call.operation == "create SparkApplication moka/pi"
    assert not call.stream


def test_get_object():
    call = api_calls.get_object(RAY_JOB, "jobs", "r1")

    assert call.method == "get_namespaced_custom_object"
    assert call.kwargs == {
        "group": "ray.io",
        "version": "v1",
        "namespace": "jobs",
        "plural": "rayjobs",
        "name": "r1",
    }
    assert call.operation == "get RayJob jobs/r1"


def test_list_objects_only_passes_given_selectors():
    plain = api_calls.list_objects(SPARK_APPLICATION, "moka")
    selected = api_calls.list_objects(
        SPARK_APPLICATION, "moka", label_selector="team=a", field_selector="metadata.name=pi"
    )

    assert plain.kwargs == CR_ARGS
    assert selected.kwargs == {**CR_ARGS, "label_selector": "team=a", "field_selector": "metadata.name=pi"}
    assert plain.operation == "list SparkApplication in moka"


def test_watch_objects():
    call = api_calls.watch_objects(FLINK_DEPLOYMENT, "flink", "123", label_selector="a=b", timeout_seconds=60)

    assert call.method == "list_namespaced_custom_object"
    assert call.stream
    assert call.kwargs == {
        "group": "flink.apache.org",
        "version": "v1beta1",
        "namespace": "flink",
        "plural": "flinkdeployments",
        "label_selector": "a=b",
        "watch": True,
        "resource_version": "123",
        "allow_watch_bookmarks": True,
        "timeout_seconds": 60,
        "_request_timeout": (api_calls.CONNECT_SECONDS, 60 + api_calls.WATCH_CLIENT_GRACE_SECONDS),
    }


def test_a_watch_may_stay_quiet_longer_than_its_server_timeout():
    """The client gives up on a quiet watch only after the server would have ended it."""
    call = api_calls.watch_objects(SPARK_APPLICATION, "moka", "1")
    connect, read = call.kwargs["_request_timeout"]

    assert call.kwargs["timeout_seconds"] == api_calls.WATCH_REQUEST_SECONDS
    assert read > api_calls.WATCH_REQUEST_SECONDS and connect <= 60


def test_a_status_patch_is_a_merge_patch_of_the_status_subresource():
    call = status_patch(SPARK_APPLICATION, "moka", "pi", {"applicationState": {"state": "RUNNING"}})

    assert call.method == "patch_namespaced_custom_object_status"
    assert call.kwargs == {
        **CR_ARGS,
        "name": "pi",
        "body": {"status": {"applicationState": {"state": "RUNNING"}}},
        "_content_type": "application/merge-patch+json",
    }
    assert call.operation == "patch status of SparkApplication moka/pi"


def test_delete_object_propagates_in_the_background():
    call = api_calls.delete_object(RAY_JOB, "jobs", "r1")

    assert call.method == "delete_namespaced_custom_object"
    assert call.kwargs["propagation_policy"] == "Background"
    assert call.kwargs["name"] == "r1"
    assert call.operation == "delete RayJob jobs/r1"


def test_delete_object_other_propagation():
    call = api_calls.delete_object(RAY_JOB, "jobs", "r1", propagation_policy="Foreground")

    assert call.kwargs["propagation_policy"] == "Foreground"


def test_read_pod_log_minimal():
    call = api_calls.read_pod_log("moka", "pi-driver")

    assert call.api == "core"
    assert call.method == "read_namespaced_pod_log"
    assert call.stream
    assert call.kwargs == {"name": "pi-driver", "namespace": "moka", "follow": False}
    assert call.operation == "read log of pod moka/pi-driver"


def test_read_pod_log_includes_only_given_options():
    call = api_calls.read_pod_log("moka", "pi-driver", container="spark-kubernetes-driver", tail_lines=0)

    assert call.kwargs == {
        "name": "pi-driver",
        "namespace": "moka",
        "follow": False,
        "container": "spark-kubernetes-driver",
        "tail_lines": 0,
    }


def test_read_pod_log_all_options():
    call = api_calls.read_pod_log(
        "moka", "pi-driver", container="c", tail_lines=100, since_seconds=60, follow=True
    )

    assert call.kwargs == {
        "name": "pi-driver",
        "namespace": "moka",
        "follow": True,
        "_request_timeout": (api_calls.CONNECT_SECONDS, None),
        "container": "c",
        "tail_lines": 100,
        "since_seconds": 60,
    }


def test_list_events_by_name():
    call = api_calls.list_events("moka", involved_name="pi")

    assert call.api == "core"
    assert call.method == "list_namespaced_event"
    assert call.kwargs == {"namespace": "moka", "field_selector": "involvedObject.name=pi"}
    assert call.operation == "list events of object moka/pi"


def test_list_events_by_name_and_kind():
    call = api_calls.list_events("moka", involved_name="pi", involved_kind="SparkApplication")

    assert call.kwargs["field_selector"] == "involvedObject.name=pi,involvedObject.kind=SparkApplication"
    assert call.operation == "list events of SparkApplication moka/pi"


def test_list_events_of_one_object_by_uid():
    call = api_calls.list_events(
        "moka", involved_name="pi", involved_kind="SparkApplication", involved_uid="u-1"
    )

    assert call.kwargs["field_selector"] == (
        "involvedObject.name=pi,involvedObject.kind=SparkApplication,involvedObject.uid=u-1"
    )


def test_list_pods_by_labels():
    call = api_calls.list_pods("moka", label_selector="app=wc,component=jobmanager")

    assert (call.api, call.method) == ("core", "list_namespaced_pod")
    assert call.kwargs == {"namespace": "moka", "label_selector": "app=wc,component=jobmanager"}


def test_events_are_ordered_by_when_they_last_happened_a_series_by_its_last_observation():
    def event(reason: str, version: str, **times: Any) -> dict[str, Any]:
        return {"reason": reason, "metadata": {"resourceVersion": version}, **times}

    events: list[dict[str, Any]] = [
        event(
            "Submitted",
            "10",
            eventTime="2026-01-01T00:00:01.000001Z",
            series={"lastObservedTime": "2026-01-01T00:05:00.000000Z"},
        ),
        event("DriverCompleted", "31", lastTimestamp="2026-01-01T00:02:00Z"),
        event("DriverRunning", "30", lastTimestamp="2026-01-01T00:02:00Z"),  # the same second: stored first
        event("Old", "5", lastTimestamp="2026-01-01T00:01:00Z"),
    ]

    ordered = sorted(events, key=api_calls.event_order)

    assert [item["reason"] for item in ordered] == ["Old", "DriverRunning", "DriverCompleted", "Submitted"]
