"""Plays conformance traces on `moka local`: writes what the real operator would, job by job.

The player looks for jobs labelled :data:`~tests.conformance.traces.TRACE_LABEL` (created by the
conformance DAG's operators, or by the player itself for the sensor), and plays each one's trace
in a thread of its own, as the operator's identity (the admin kubeconfig): statuses through the
status subresource, pods on the local Node (the local kubelet runs them and serves their logs),
Events about the job, deletions. `moka local`'s controllers leave these jobs alone
(``LEFT_ALONE_LABEL``). When a job is deleted, the player deletes the pods it made for it, as the
garbage collector would. What it did, with the time of each job's last step, is in :attr:`played`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moka_provider.engines.registry import adapter_for
from moka_provider.local.kubelet import NODE_NAME
from tests.conformance.traces import ENGINES, TRACE_LABEL, Trace, fill, job_values

_LOOK_SECONDS = 0.5
_READY_SECONDS = 1200


def _storable(value: Any, condition: bool = False) -> Any:
    """``value`` without empty strings, which `moka local`'s API server (1.20) takes for null in a
    custom resource's status and refuses as not a string: such fields are left out, and in a
    condition, whose ``message`` the schema requires, written as "-". The provider reads none of
    them (an empty state and a missing one read alike)."""
    if isinstance(value, list):
        return [_storable(item, condition) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, item in value.items():
        if item == "":
            if condition:
                kept[name] = "-"
            continue
        kept[name] = _storable(item, name == "conditions")
    return kept


@dataclass
class Played:
    """One job's replay."""

    trace: Trace
    job: dict[str, Any]
    started: float = field(default_factory=time.time)
    last_step_at: float | None = None  # wall time of the last step written
    steps_done: int = 0
    finished: bool = False
    stopped_early: str | None = None  # why, if the job went away before its trace ended
    errors: list[str] = field(default_factory=list)
    pods: list[str] = field(default_factory=list)


class TracePlayer(threading.Thread):
    def __init__(self, admin_kubeconfig: Path, namespace: str, traces: list[Trace]) -> None:
        super().__init__(name="trace-player", daemon=True)
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(admin_kubeconfig), client_configuration=configuration)
        configuration.connection_pool_maxsize = 128  # a thread per job played
        api_client = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.namespace = namespace
        self.traces = {trace.key: trace for trace in traces}
        self.played: dict[str, Played] = {}  # job uid -> its replay
        self.errors: list[str] = []
        #: Whether a job's replay may begin (the sensor's jobs wait for their sensor to watch).
        self.ready: Callable[[Played], bool] = lambda played: True
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()

    # -- the sensor's jobs ---------------------------------------------------------------------

    def create_job(self, trace: Trace, manifest: dict[str, Any]) -> None:
        """Create a job for the sensor to watch (the player then plays it like any other)."""
        resource = adapter_for(trace.engine).resource
        manifest = {**manifest, "metadata": {**manifest["metadata"], "name": trace.sensor_job_name}}
        manifest["metadata"]["labels"] = {
            **(manifest["metadata"].get("labels") or {}),
            TRACE_LABEL: trace.key,
        }
        self.custom.create_namespaced_custom_object(
            resource.group, resource.version, self.namespace, resource.plural, manifest
        )

    # -- finding jobs ----------------------------------------------------------------------------

    def run(self) -> None:
        resources = {adapter_for(engine).resource for engine in ENGINES}
        while not self._stop.wait(_LOOK_SECONDS):
            for resource in resources:
                try:
                    listing = self.custom.list_namespaced_custom_object(
                        resource.group,
                        resource.version,
                        self.namespace,
                        resource.plural,
                        label_selector=TRACE_LABEL,
                    )
                except Exception as error:  # reported by the tests
                    self.errors.append(f"list {resource.plural}: {error!r}")
                    continue
                for job in listing["items"]:
                    self._play_if_new(job)

    def _play_if_new(self, job: dict[str, Any]) -> None:
        uid = job["metadata"]["uid"]
        with self._lock:
            if uid in self.played:
                return
            trace = self.traces.get(job["metadata"]["labels"][TRACE_LABEL])
            if trace is None:
                self.errors.append(f"no trace {job['metadata']['labels'][TRACE_LABEL]!r}")
                return
            self.played[uid] = Played(trace, job)
        threading.Thread(target=self._play, args=(self.played[uid],), name=f"play-{uid}", daemon=True).start()

    # -- playing one job ---------------------------------------------------------------------------

    def _play(self, played: Played) -> None:
        values = job_values(played.job)
        deadline = time.monotonic() + _READY_SECONDS
        while not self._ready(played):
            if time.monotonic() > deadline or self._stop.wait(1):
                played.errors.append(f"not ready to play within {_READY_SECONDS} s")
                return
        try:
            for step in played.trace.steps:
                if self._stop.wait(float(step.get("after", 1))):
                    return
                if not self._do(played, fill(step, values)):
                    return
                played.steps_done += 1
                played.last_step_at = time.time()
            played.finished = True
        except Exception as error:
            detail = getattr(error, "body", None) or ""
            played.errors.append(
                f"step {played.steps_done}: {error!r} {getattr(error, 'status', '')} {detail}"
            )

    def _ready(self, played: Played) -> bool:
        try:
            return self.ready(played)
        except Exception:  # e.g. Airflow's REST API busy: look again
            return False

    def _do(self, played: Played, step: dict[str, Any]) -> bool:
        """Write one step; ``False`` when the job is gone (deleted by the task or the trace)."""
        from kubernetes.client.exceptions import ApiException

        resource = adapter_for(played.trace.engine).resource
        name = played.job["metadata"]["name"]
        try:
            if "status" in step:
                self._write_status(played, step["status"])
            elif "pod" in step:
                self._create_pod(played, step["pod"])
            elif "delete_pod" in step:
                self._delete_pod(step["delete_pod"])
            elif "event" in step:
                self._record_event(played, step["event"])
            elif step.get("delete"):
                self.custom.delete_namespaced_custom_object(
                    resource.group, resource.version, self.namespace, resource.plural, name
                )
                self._collect_garbage(played)
        except ApiException as error:
            if error.status != 404:
                raise
            played.stopped_early = f"the job was gone at step {played.steps_done}"
            self._collect_garbage(played)
            return False
        return True

    def _write_status(self, played: Played, status: dict[str, Any]) -> None:
        """Replace the job's status, as the operator's status patch does (again on a conflict:
        the provider or a test may have touched the job meanwhile)."""
        from kubernetes.client.exceptions import ApiException

        resource = adapter_for(played.trace.engine).resource
        name = played.job["metadata"]["name"]
        status = _storable(status)
        for _ in range(10):
            current = self.custom.get_namespaced_custom_object(
                resource.group, resource.version, self.namespace, resource.plural, name
            )
            if current["metadata"]["uid"] != played.job["metadata"]["uid"]:
                raise ApiException(status=404, reason="a namesake")
            current["status"] = status
            try:
                self.custom.replace_namespaced_custom_object_status(
                    resource.group, resource.version, self.namespace, resource.plural, name, current
                )
                return
            except ApiException as error:
                if error.status != 409:
                    raise

    def _create_pod(self, played: Played, pod: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        program = (
            "import sys, time\n"
            f"for line in {pod.get('log') or []!r}:\n"
            "    print(line, flush=True)\n"
            f"time.sleep({float(pod.get('runs', 1))})\n"
            f"sys.exit({int(pod.get('exit') or 0)})\n"
        )
        job = played.job
        manifest = {
            "metadata": {
                "name": pod["name"],
                "labels": pod.get("labels") or {},
                "ownerReferences": [
                    {
                        "apiVersion": job["apiVersion"],
                        "kind": job["kind"],
                        "name": job["metadata"]["name"],
                        "uid": job["metadata"]["uid"],
                    }
                ],
            },
            "spec": {
                "nodeName": NODE_NAME,
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": pod.get("container") or "main",
                        "image": "trace",
                        "command": [sys.executable, "-c", program],
                    }
                ],
            },
        }
        deadline = time.monotonic() + 60
        while True:  # a pod of the same name may still be going away (a rerun reuses the name)
            try:
                self.core.create_namespaced_pod(self.namespace, manifest)
                played.pods.append(pod["name"])
                return
            except ApiException as error:
                if error.status != 409 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _delete_pod(self, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            # Gracefully, as the garbage collector and the operators do: the local kubelet then
            # stops the pod and archives its log, as a cluster's log shipper keeps it.
            self.core.delete_namespaced_pod(name, self.namespace)
        except ApiException as error:
            if error.status != 404:
                raise

    def _collect_garbage(self, played: Played) -> None:
        for name in played.pods:
            self._delete_pod(name)

    def _record_event(self, played: Played, event: dict[str, Any]) -> None:
        job = played.job
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.core.create_namespaced_event(
            self.namespace,
            {
                "metadata": {"generateName": f"{job['metadata']['name']}."},
                "involvedObject": {
                    "apiVersion": job["apiVersion"],
                    "kind": job["kind"],
                    "name": job["metadata"]["name"],
                    "namespace": self.namespace,
                    "uid": job["metadata"]["uid"],
                },
                "reason": event["reason"],
                "message": event.get("message") or "",
                "type": event.get("type") or "Normal",
                "source": {"component": "conformance-trace-player"},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
            },
        )
