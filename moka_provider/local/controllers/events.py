"""Kubernetes Events about a custom resource, built as the operators' event recorders build them.

Two kinds of recorder are played:

- ``recorder_event``: client-go ``tools/events`` (``recorderImpl.Eventf`` and ``makeEvent``), which
  the spark-operator and KubeRay get from controller-runtime's ``GetEventRecorder``: an
  ``events.k8s.io/v1`` Event named ``<object>.<hex unix nanoseconds>`` with ``action`` and
  ``reportingController``/``reportingInstance`` (``NewRecorder``: ``<controller>-<hostname>``);
  ``note`` is ``fmt.Sprintf(note, args...)``.
- ``flink_event``: the flink-kubernetes-operator's ``EventUtils#buildEvent``, a ``v1`` Event named
  by ``EventUtils#generateEventName`` (``<component>.<Java hash of reason, message, type, kind, name
  and uid>``) with ``source.component`` and a ``count`` that a repeated event increments.

On the API server both read as core/v1 Events whose ``involvedObject`` is the resource.
"""

from __future__ import annotations

import datetime
import socket
import time
from typing import Any


def involved_object(obj: dict[str, Any]) -> dict[str, Any]:
    """The object reference of a resource (apiVersion, kind, name, namespace, uid)."""
    metadata = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": metadata["name"],
        "namespace": metadata["namespace"],
        "uid": metadata["uid"],
    }


def _micro_time() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def recorder_event(
    obj: dict[str, Any], event_type: str, reason: str, action: str, note: str, controller: str
) -> dict[str, Any]:
    """An ``events.k8s.io/v1`` Event as client-go's ``tools/events`` recorder makes it."""
    regarding = {**involved_object(obj), "resourceVersion": obj["metadata"].get("resourceVersion")}
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            "name": f"{obj['metadata']['name']}.{time.time_ns():x}",
            "namespace": obj["metadata"]["namespace"],
        },
        "eventTime": _micro_time(),
        "reportingController": controller,
        "reportingInstance": f"{controller}-{socket.gethostname()}",
        "action": action,
        "reason": reason,
        "regarding": regarding,
        "note": note,
        "type": event_type,
    }


def go_extra(note: str, *args: str, go_type: str = "string") -> str:
    """``fmt.Sprintf(note, args...)`` for a ``note`` without verbs: Go appends the extra arguments.

    The spark-operator passes its message format as the recorder's ``action`` and the object's name
    as its ``note`` (``recordSparkApplicationEvent``: the arguments of ``record.EventRecorder``
    shifted by one when it moved to ``events.EventRecorder``), so a message's other arguments end
    up after the name like this.
    """
    if not args:
        return note
    return f"{note}%!(EXTRA {', '.join(f'{go_type}={arg}' for arg in args)})"


def java_string_hash(text: str) -> int:
    """``java.lang.String#hashCode`` (over UTF-16 code units, in 32-bit arithmetic), signed."""
    value = 0
    data = text.encode("utf-16-be")
    for index in range(0, len(data), 2):
        value = (31 * value + int.from_bytes(data[index : index + 2], "big")) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def flink_event_name(obj: dict[str, Any], event_type: str, reason: str, message: str, component: str) -> str:
    """``EventUtils#generateEventName``: the same event about the same resource has the same name."""
    metadata = obj["metadata"]
    key = f"{reason}{message}{event_type}{obj['kind']}{metadata['name']}{metadata['uid']}"
    return f"{component}.{java_string_hash(key) & 0x7FFFFFFF}"


def flink_event(
    obj: dict[str, Any], event_type: str, reason: str, message: str, component: str
) -> dict[str, Any]:
    """A ``v1`` Event as the flink-kubernetes-operator's ``EventUtils#buildEvent`` makes it."""
    now = _micro_time()
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": flink_event_name(obj, event_type, reason, message, component),
            "namespace": obj["metadata"]["namespace"],
        },
        "involvedObject": involved_object(obj),
        "type": event_type,
        "reason": reason,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": component},
        "count": 1,
        "message": message,
    }
