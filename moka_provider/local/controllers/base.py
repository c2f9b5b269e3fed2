"""What the local operator controllers share: the watch loop, status writes and pod handling.

A controller keeps the latest copy of every object of its resource in the jobs namespace (from a
watch, which its client resumes after drops and 410s, as an operator configured to watch that
namespace does) and reconciles an object whenever it
changes and on a short tick, so that changes it does not watch (its pods' phases, retry
intervals, TTLs) are noticed too. ``reconcile`` must be idempotent: everything it needs is in the
object's status and its pods, which is what makes a restarted controller pick up where it was.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from moka_provider.exceptions import MokaApiError
from moka_provider.local.controllers.client import ControllerClient
from moka_provider.resources import CustomResource

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5

#: Objects with this label set to ``off`` are left to someone else (a test writing the statuses an
#: operator would), as a cluster's operator leaves objects outside its namespaces or label filter.
LEFT_ALONE_LABEL = "local.moka.dev/controller"

Key = tuple[str, str]


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def timestamp(when: datetime.datetime | None = None) -> str:
    return (when or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def key_of(obj: dict[str, Any]) -> Key:
    return obj["metadata"]["namespace"], obj["metadata"]["name"]


class Controller(ABC):
    """Base of one engine's controller: subclasses say which resource and how to reconcile it."""

    resource: ClassVar[CustomResource]

    def __init__(self, hook: ControllerClient, core: Any, node_name: str) -> None:
        self.hook = hook
        self.core = core  # kubernetes_asyncio CoreV1Api
        self.node_name = node_name
        self.objects: dict[Key, dict[str, Any]] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    # -- to implement ----------------------------------------------------------------------

    @abstractmethod
    async def reconcile(self, obj: dict[str, Any]) -> None:
        """Move ``obj`` one or more steps through its operator's state machine."""

    @abstractmethod
    async def cleanup(self, namespace: str, name: str) -> None:
        """The object is gone: remove what it started."""

    def needs_attention(self, obj: dict[str, Any]) -> bool:
        """Whether the tick should reconcile ``obj`` (false once it is finished for good)."""
        return True

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.gather(self._watch(), self._tick())

    async def _watch(self) -> None:
        # The hook resumes a watch by itself but gives up after repeated failures (an overloaded
        # API server, say); an operator keeps going: start over, re-listing everything.
        while True:
            try:
                async for event in self.hook.watch(self.resource):
                    key = key_of(event.object)
                    if event.type == "DELETED":
                        self.objects.pop(key, None)
                        await self._guarded(key, self.cleanup(*key))
                    else:
                        self.objects[key] = event.object
                        await self._guarded(key, self._reconcile_latest(key))
            except MokaApiError as error:
                log.warning("watching %s failed (%s); watching again", self.resource.kind, error)
                await asyncio.sleep(1)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for key, obj in list(self.objects.items()):
                if self.needs_attention(obj):
                    await self._guarded(key, self._reconcile_latest(key))

    async def _reconcile_latest(self, key: Key) -> None:
        obj = self.objects.get(key)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        if (obj["metadata"].get("labels") or {}).get(LEFT_ALONE_LABEL) != "off":
            await self.reconcile(obj)

    async def _guarded(self, key: Key, work: Any) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                await work
            except MokaApiError as error:
                if not (error.not_found or error.status == 409):
                    log.warning("%s: %s", "/".join(key), error)
            except Exception:
                log.exception("reconciling %s %s failed", self.resource.kind, "/".join(key))

    # -- helpers for subclasses ------------------------------------------------------------

    async def set_status(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch the object's status; keep the result as the latest copy."""
        namespace, name = key_of(obj)
        updated: dict[str, Any] = await self.hook.patch_status(self.resource, name, status, namespace)
        current = self.objects.get((namespace, name))
        if current is None or int(current["metadata"]["resourceVersion"]) < int(
            updated["metadata"]["resourceVersion"]
        ):
            self.objects[(namespace, name)] = updated
        return updated

    async def create_pod(
        self,
        owner: dict[str, Any],
        name: str,
        labels: dict[str, str],
        container: dict[str, Any],
        *,
        annotations: dict[str, str] | None = None,
    ) -> None:
        """Create a pod of ``owner`` (one container, never restarted) on the local Node; an
        existing pod of that name is left as it is, which makes a repeated step harmless."""
        from kubernetes_asyncio.client.exceptions import ApiException

        metadata: dict[str, Any] = {
            "name": name,
            "labels": labels,
            "ownerReferences": [owner_reference(owner)],
        }
        if annotations:
            metadata["annotations"] = annotations
        pod = {
            "metadata": metadata,
            "spec": {"nodeName": self.node_name, "restartPolicy": "Never", "containers": [container]},
        }
        try:
            await self.core.create_namespaced_pod(owner["metadata"]["namespace"], pod)
        except ApiException as error:
            if error.status != 409:
                raise

    async def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            response = await self.core.read_namespaced_pod(name, namespace, _preload_content=False)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        # Without preloading, the client returns error responses instead of raising them.
        if response.status == 404:
            return None
        if not 200 <= response.status <= 299:
            raise ApiException(status=response.status, reason=response.reason)
        pod: dict[str, Any] = json.loads(await response.read())
        return pod

    async def find_pod(self, owner: dict[str, Any], label_selector: str) -> dict[str, Any] | None:
        """The newest pod of ``owner`` matching ``label_selector`` (pods whose names the API server
        generated are found by their labels, as the operators find them)."""
        from kubernetes_asyncio.client.exceptions import ApiException

        response = await self.core.list_namespaced_pod(
            owner["metadata"]["namespace"], label_selector=label_selector, _preload_content=False
        )
        if not 200 <= response.status <= 299:  # returned, not raised, without preloading
            raise ApiException(status=response.status, reason=response.reason)
        pods = json.loads(await response.read()).get("items") or []
        owned = [pod for pod in pods if owned_by(pod, owner)]
        return max(owned, key=lambda pod: pod["metadata"].get("creationTimestamp") or "", default=None)

    async def record_event(self, event: dict[str, Any]) -> None:
        """Create an Event built by :mod:`.events`; an Event of that name already there is counted
        once more (the Flink operator's ``EventUtils#createOrUpdateEventWithLabels``). Events are
        best effort, as for the operators: a failure is logged, not raised."""
        from kubernetes_asyncio import client
        from kubernetes_asyncio.client.exceptions import ApiException

        namespace, name = event["metadata"]["namespace"], event["metadata"]["name"]
        try:
            if event["apiVersion"] == "events.k8s.io/v1":
                events_api: Any = client.EventsV1Api(self.core.api_client)
                await events_api.create_namespaced_event(namespace, event)
                return
            try:
                await self.core.create_namespaced_event(namespace, event)
            except ApiException as error:
                if error.status != 409:
                    raise
                existing = await self.core.read_namespaced_event(name, namespace)
                update = {"count": (existing.count or 1) + 1, "lastTimestamp": event["lastTimestamp"]}
                await self.core.patch_namespaced_event(
                    name, namespace, {**update, "message": event["message"]}
                )
        except ApiException as error:
            log.warning("recording event %s %s/%s failed: %s", event["reason"], namespace, name, error)

    async def delete_pods(self, namespace: str, label_selector: str) -> int:
        """Delete the pods matching ``label_selector``; returns how many were still there."""
        from kubernetes_asyncio.client.exceptions import ApiException

        pods = await self.core.list_namespaced_pod(namespace, label_selector=label_selector)
        for pod in pods.items:
            if not pod.metadata.deletion_timestamp:
                try:
                    await self.core.delete_namespaced_pod(pod.metadata.name, namespace)
                except ApiException as error:
                    if error.status != 404:  # gone since the list: what was asked for
                        raise
        return len(pods.items)

    async def log_tail(self, namespace: str, pod: str, lines: int = 20) -> list[str]:
        try:
            text = await self.core.read_namespaced_pod_log(pod, namespace, tail_lines=lines)
        except Exception:
            return []
        return str(text).splitlines()


def owner_reference(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
    }


def owned_by(pod: dict[str, Any], owner: dict[str, Any]) -> bool:
    owners = pod["metadata"].get("ownerReferences") or []
    return any(reference.get("uid") == owner["metadata"]["uid"] for reference in owners)


def container_termination(pod: dict[str, Any]) -> dict[str, Any] | None:
    """The first container's ``terminated`` state, if it ended."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated:
            return dict(terminated)
    return None
