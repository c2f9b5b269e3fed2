"""The Kubernetes requests Moka makes, described once for the sync and the async hook.

Both hooks run the same kubernetes-client method names with the same arguments (the ``kubernetes``
and ``kubernetes_asyncio`` packages are generated from one OpenAPI spec); only ``await`` differs.
So each operation is built here as an :class:`ApiCall` and the hooks merely execute it, which keeps
argument handling, error labels and the Role they need in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from moka_provider.resources import CustomResource

ApiName = Literal["custom", "core"]

#: Server-side limit of one watch request; the hooks resume after it with the last resourceVersion.
WATCH_REQUEST_SECONDS = 290

#: Seconds a streamed request may take to connect to the API server.
CONNECT_SECONDS = 30

#: How much longer than its server-side limit the client lets a watch request be quiet. Without an
#: explicit client timeout the cncf.kubernetes API client applies its 60 s default to every call (it
#: looks for ``timeout_seconds`` among the call's keyword arguments, where the generated clients
#: never put it), which cut every quiet watch of a long job after a minute.
WATCH_CLIENT_GRACE_SECONDS = 30

#: (connect, read) timeout of a followed log stream: no read timeout, as a quiet job may log nothing
#: for a long time (TCP keepalive, on by default in the cncf.kubernetes hooks, notices a dead peer).
FOLLOW_REQUEST_TIMEOUT = (CONNECT_SECONDS, None)


@dataclass(frozen=True)
class ApiCall:
    """One request: which API class, which method, which arguments, and what to call it in errors."""

    api: ApiName
    method: str
    kwargs: Mapping[str, Any]
    operation: str
    stream: bool = field(default=False)


def custom_object_args(resource: CustomResource, namespace: str) -> dict[str, Any]:
    """The arguments that name a custom resource's collection in a namespace."""
    return {
        "group": resource.group,
        "version": resource.version,
        "namespace": namespace,
        "plural": resource.plural,
    }


def create_object(resource: CustomResource, namespace: str, body: Mapping[str, Any]) -> ApiCall:
    name = body.get("metadata", {}).get("name")
    return ApiCall(
        "custom",
        "create_namespaced_custom_object",
        {**custom_object_args(resource, namespace), "body": dict(body)},
        f"create {resource.describe(namespace, name)}",
    )


def get_object(resource: CustomResource, namespace: str, name: str) -> ApiCall:
    return ApiCall(
        "custom",
        "get_namespaced_custom_object",
        {**custom_object_args(resource, namespace), "name": name},
        f"get {resource.describe(namespace, name)}",
    )


def list_objects(
    resource: CustomResource,
    namespace: str,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    limit: int | None = None,
    continue_token: str | None = None,
) -> ApiCall:
    """A list, or one page of it (``limit`` objects, from where ``continue_token`` left off)."""
    kwargs = custom_object_args(resource, namespace)
    if label_selector:
        kwargs["label_selector"] = label_selector
    if field_selector:
        kwargs["field_selector"] = field_selector
    if limit:
        kwargs["limit"] = limit
    if continue_token:
        kwargs["_continue"] = continue_token
    return ApiCall("custom", "list_namespaced_custom_object", kwargs, f"list {resource.kind} in {namespace}")


def watch_objects(
    resource: CustomResource,
    namespace: str,
    resource_version: str,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int = WATCH_REQUEST_SECONDS,
) -> ApiCall:
    listing = list_objects(resource, namespace, label_selector=label_selector, field_selector=field_selector)
    return ApiCall(
        "custom",
        listing.method,
        {
            **listing.kwargs,
            "watch": True,
            "resource_version": resource_version,
            "allow_watch_bookmarks": True,
            "timeout_seconds": timeout_seconds,
            "_request_timeout": (CONNECT_SECONDS, timeout_seconds + WATCH_CLIENT_GRACE_SECONDS),
        },
        listing.operation.replace("list ", "watch ", 1),
        stream=True,
    )


def delete_object(
    resource: CustomResource, namespace: str, name: str, *, propagation_policy: str = "Background"
) -> ApiCall:
    return ApiCall(
        "custom",
        "delete_namespaced_custom_object",
        {**custom_object_args(resource, namespace), "name": name, "propagation_policy": propagation_policy},
        f"delete {resource.describe(namespace, name)}",
    )


def event_order(event: Mapping[str, Any]) -> tuple[str, int]:
    """Where an Event (as the API returns it) falls among a job's Events, oldest first.

    By when it last happened: a repeated Event is one object whose ``series.lastObservedTime``
    moves on (the events.k8s.io recorders of spark-operator and KubeRay, with microseconds); older
    recorders move ``lastTimestamp``, to the second (flink-kubernetes-operator). Events of the same
    second are ordered by their ``resourceVersion``, the order in which the API server stored them.
    """
    series = event.get("series") or {}
    when = str(series.get("lastObservedTime") or event.get("lastTimestamp") or event.get("eventTime") or "")
    version = str((event.get("metadata") or {}).get("resourceVersion") or "")
    return when, int(version) if version.isdigit() else 0


def list_pods(namespace: str, *, label_selector: str) -> ApiCall:
    return ApiCall(
        "core",
        "list_namespaced_pod",
        {"namespace": namespace, "label_selector": label_selector},
        f"list pods {label_selector} in {namespace}",
    )


def read_pod_log(
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    tail_lines: int | None = None,
    since_seconds: int | None = None,
    follow: bool = False,
) -> ApiCall:
    kwargs: dict[str, Any] = {"name": pod, "namespace": namespace, "follow": follow}
    if follow:
        kwargs["_request_timeout"] = FOLLOW_REQUEST_TIMEOUT
    for key, value in (
        ("container", container),
        ("tail_lines", tail_lines),
        ("since_seconds", since_seconds),
    ):
        if value is not None:
            kwargs[key] = value
    return ApiCall(
        "core", "read_namespaced_pod_log", kwargs, f"read log of pod {namespace}/{pod}", stream=True
    )


def list_events(
    namespace: str, *, involved_name: str, involved_kind: str | None = None, involved_uid: str | None = None
) -> ApiCall:
    selector = f"involvedObject.name={involved_name}"
    if involved_kind:
        selector += f",involvedObject.kind={involved_kind}"
    if involved_uid:
        selector += f",involvedObject.uid={involved_uid}"
    return ApiCall(
        "core",
        "list_namespaced_event",
        {"namespace": namespace, "field_selector": selector},
        f"list events of {involved_kind or 'object'} {namespace}/{involved_name}",
    )
