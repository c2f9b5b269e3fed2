"""The hooks work under the shipped least-privilege Role, and nothing secret reaches a log line."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml

from moka_provider.exceptions import MokaApiError
from moka_provider.local.controllers.base import LEFT_ALONE_LABEL
from moka_provider.resources import SPARK_APPLICATION
from tests.integration.conftest import SyncOrAsync, spark_app


def test_the_connection_identity_is_the_airflow_service_account(moka_local: Any) -> None:
    paths, state = moka_local
    config = yaml.safe_load(paths.kubeconfig.read_text())
    assert config["users"][0]["name"] == f"moka-airflow@{state.namespace}"
    from kubernetes import client
    from kubernetes import config as kube_config

    api = kube_config.new_client_from_config(config_file=str(paths.kubeconfig))
    with api:
        review = client.AuthorizationV1Api(api).create_self_subject_rules_review(
            {"spec": {"namespace": state.namespace}}
        )
    granted = {
        (group, resource, verb)
        for rule in review.status.resource_rules
        for group in rule.api_groups or [""]
        for resource in rule.resources or []
        for verb in rule.verbs
    }
    assert ("sparkoperator.k8s.io", "sparkapplications", "create") in granted
    assert ("", "pods/log", "get") in granted
    assert not any(resource in ("secrets", "*") for _, resource, _ in granted)
    assert not any(verb in ("*", "update", "deletecollection") for _, _, verb in granted)


def test_a_verb_outside_the_role_is_refused_with_a_clear_message(hook: SyncOrAsync) -> None:
    with pytest.raises(MokaApiError) as error:
        hook.list_events("anything", namespace="kube-system")
    text = str(error.value)
    assert error.value.status == 403 and error.value.reason == "Forbidden"
    assert 'cannot list resource "events"' in text and 'in the namespace "kube-system"' in text
    assert "system:serviceaccount:moka:airflow" in text
    assert "airflow-role.yaml" in text  # says where the needed permission comes from
    with pytest.raises(MokaApiError) as other_namespace:
        hook.create(SPARK_APPLICATION, spark_app("not-here"), namespace="default")
    assert other_namespace.value.status == 403


def test_events_of_a_job(hook: SyncOrAsync, admin_api: Any, unique_name: str) -> None:
    from kubernetes import client

    manifest = spark_app(unique_name)
    manifest["metadata"]["labels"][LEFT_ALONE_LABEL] = "off"  # only the Events written here
    created = hook.create(SPARK_APPLICATION, manifest)
    core = client.CoreV1Api(admin_api)
    for index, reason in enumerate(["SparkApplicationSubmitted", "SparkDriverRunning"]):
        core.create_namespaced_event(
            "moka",
            {
                "metadata": {"name": f"{unique_name}.{index}"},
                "involvedObject": {
                    "apiVersion": SPARK_APPLICATION.api_version,
                    "kind": "SparkApplication",
                    "name": unique_name,
                    "namespace": "moka",
                    "uid": created["metadata"]["uid"],
                },
                "reason": reason,
                "message": f"{reason} for {unique_name}",
                "type": "Normal",
                "firstTimestamp": f"2026-01-01T00:00:0{index}Z",
                "lastTimestamp": f"2026-01-01T00:00:0{index}Z",
            },
        )
    try:
        events = hook.list_events(unique_name, kind="SparkApplication")
        assert [event["reason"] for event in events] == ["SparkApplicationSubmitted", "SparkDriverRunning"]
        assert hook.list_events(unique_name, kind="Pod") == []
    finally:
        hook.delete(SPARK_APPLICATION, unique_name)


def test_a_job_its_operator_deleted_after_it_ended_is_judged_by_its_events(
    hook: SyncOrAsync, admin_api: Any, unique_name: str
) -> None:
    """spark-operator's TTL removed the job before the trigger's first look: the Event of its
    driver's end (by the job's uid) is what tells; a namesake's Events are not ours."""
    import asyncio

    from kubernetes import client

    from moka_provider.triggers.job import MokaJobTrigger

    manifest = spark_app(unique_name)
    manifest["metadata"]["labels"][LEFT_ALONE_LABEL] = "off"
    created = hook.create(SPARK_APPLICATION, manifest)
    core = client.CoreV1Api(admin_api)
    for uid, reason in (
        (created["metadata"]["uid"], "SparkDriverCompleted"),
        ("another-uid", "SparkDriverFailed"),
    ):
        core.create_namespaced_event(
            "moka",
            {
                "metadata": {"generateName": f"{unique_name}."},
                "involvedObject": {
                    "apiVersion": SPARK_APPLICATION.api_version,
                    "kind": "SparkApplication",
                    "name": unique_name,
                    "namespace": "moka",
                    "uid": uid,
                },
                "reason": reason,
                "message": f"{unique_name}-driver",
                "type": "Normal",
                "firstTimestamp": "2026-01-01T00:00:00Z",
                "lastTimestamp": "2026-01-01T00:00:00Z",
            },
        )
    hook.delete(SPARK_APPLICATION, unique_name)
    events = hook.list_events(unique_name, kind="SparkApplication", uid=created["metadata"]["uid"])
    assert [event["reason"] for event in events] == ["SparkDriverCompleted"]

    trigger = MokaJobTrigger(
        engine="spark", name=unique_name, namespace="moka", uid=created["metadata"]["uid"]
    )

    async def first() -> Any:
        async for event in trigger.run():
            return event.payload

    payload = asyncio.run(asyncio.wait_for(first(), 30))
    assert payload["verdict"] == "succeeded"
    assert payload["status"]["state"] == "SparkDriverCompleted"


def test_log_of_a_pod_that_never_ran_is_empty_and_of_no_pod_a_404(
    hook: SyncOrAsync, admin_api: Any, unique_name: str
) -> None:
    from kubernetes import client

    client.CoreV1Api(admin_api).create_namespaced_pod(
        "moka",
        {"metadata": {"name": unique_name}, "spec": {"containers": [{"name": "driver", "image": "spark"}]}},
    )
    try:
        assert hook.read_pod_log(unique_name, tail_lines=10) == []  # the server answers 204: nothing yet
    finally:
        client.CoreV1Api(admin_api).delete_namespaced_pod(unique_name, "moka", grace_period_seconds=0)
    with pytest.raises(MokaApiError) as error:
        hook.read_pod_log(unique_name)
    assert error.value.not_found
    assert f"read log of pod moka/{unique_name} failed (HTTP 404 NotFound)" in str(error.value)


def test_no_token_or_kubeconfig_in_logs_or_errors(
    moka_local: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, unique_name: str
) -> None:
    """Inline kubeconfig, debug logging, failures and retries: the token appears nowhere."""
    import json

    paths, _state = moka_local
    kubeconfig = yaml.safe_load(paths.kubeconfig.read_text())
    token = kubeconfig["users"][0]["user"]["token"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOKA_INLINE",
        json.dumps(
            {"conn_type": "moka", "extra": {"kube_config": json.dumps(kubeconfig), "namespace": "moka"}}
        ),
    )
    caplog.set_level(logging.DEBUG)
    problems: list[str] = []
    for style in ("sync", "async"):
        hook = SyncOrAsync(style, conn_id="moka_inline")
        hook.create(SPARK_APPLICATION, spark_app(f"{unique_name}-{style}"))
        hook.delete(SPARK_APPLICATION, f"{unique_name}-{style}")
        with pytest.raises(MokaApiError) as missing:
            hook.get(SPARK_APPLICATION, "missing")
        with pytest.raises(MokaApiError) as forbidden:
            hook.list_events("x", namespace="kube-system")
        problems += [str(error.value) + repr(error.value) for error in (missing, forbidden)]
    assert caplog.records, "debug logging was captured"
    assert token not in caplog.text
    assert token[-20:] not in caplog.text
    assert not any(token in text for text in problems)
