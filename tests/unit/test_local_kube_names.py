"""What `moka local`'s controllers name like Kubernetes and the operators do: generated names,
ReplicaSet hashes and the Events' names and messages."""

from __future__ import annotations

import re

from moka_provider.local.controllers import events, kube_names

RESOURCE = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkDeployment",
    "metadata": {"name": "etl", "namespace": "moka", "uid": "0b5f6a3e-uid", "resourceVersion": "7"},
}


def test_generated_names_are_the_api_servers():
    assert re.fullmatch(r"etl-[bcdfghjklmnpqrstvwxz2456789]{5}", kube_names.generated_name("etl-"))
    assert len(kube_names.generated_name("x" * 80)) == 63


def test_pod_template_hashes_are_stable_and_safely_encoded():
    value = kube_names.pod_template_hash("uid/1")
    assert value == kube_names.pod_template_hash("uid/1") != kube_names.pod_template_hash("uid/2")
    assert re.fullmatch(r"[456789bcdf]{1,10}", value)  # decimal digits, safely encoded
    name = kube_names.replica_set_pod_name("etl", value)
    assert re.fullmatch(rf"etl-{value}-[{kube_names.ALPHANUMS}]{{5}}", name)


def test_java_string_hash():
    assert events.java_string_hash("hello") == 99162322
    assert events.java_string_hash("polygenelubricants") == -(2**31)  # overflow, signed


def test_flink_events_are_named_by_their_content():
    event = events.flink_event(RESOURCE, "Normal", "Submit", "Starting deployment", "JobManagerDeployment")
    assert event["metadata"]["name"] == events.flink_event_name(
        RESOURCE, "Normal", "Submit", "Starting deployment", "JobManagerDeployment"
    )
    assert re.fullmatch(r"JobManagerDeployment\.\d+", event["metadata"]["name"])
    assert event["involvedObject"] == {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "name": "etl",
        "namespace": "moka",
        "uid": "0b5f6a3e-uid",
    }
    assert (event["source"], event["count"]) == ({"component": "JobManagerDeployment"}, 1)


def test_recorder_events_are_client_gos():
    event = events.recorder_event(RESOURCE, "Normal", "Reason", "Create", "a note", "some-controller")
    assert event["apiVersion"] == "events.k8s.io/v1"
    assert re.fullmatch(r"etl\.[0-9a-f]+", event["metadata"]["name"])
    assert event["reportingInstance"].startswith("some-controller-")
    assert event["regarding"]["uid"] == "0b5f6a3e-uid"


def test_extra_arguments_of_a_note_without_verbs_are_appended_as_go_does():
    assert events.go_extra("app") == "app"
    assert events.go_extra("app", "boom") == "app%!(EXTRA string=boom)"
    assert events.go_extra("pod", "10s", go_type="time.Duration") == "pod%!(EXTRA time.Duration=10s)"
