"""The local kubelet's pod loop: run the pods bound to the local Node as processes, report them.

Every pass it lists the pods bound to the Node and, for each:

- a new pod is admitted when its CPU requests fit in what the running pods leave of the
  machine's cores (otherwise it stays Pending, as on a full node), then each container starts
  under a shim (:mod:`.shim`) and the pod is reported Running;
- a pod whose containers have all ended is reported Succeeded or Failed with each container's
  exit code and reason;
- a pod being deleted has its processes stopped (SIGTERM, then SIGKILL after the grace period)
  and is then removed for good, as a kubelet confirms a deletion.

A pod's log is copied to the log archive (:func:`.container_logs.archive_pod_log`) when its
containers have all ended, before it is reported so, and again when it is removed, before its
files go (a pod deleted while running leaves the log it wrote so far): as Fluent Bit keeps a
pod's log on Moka once the pod is gone.

Processes survive a kubelet restart: the shims keep logging and record the exit, and the next
pass picks them up from their files. Only ``command``/``args``/``env`` (values, the pod's own
name and namespace, keys of Secrets) and ``resources.requests.cpu`` of a container are used; images are not.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moka_provider.local import processes
from moka_provider.local.container_logs import archive_pod_log, exit_path, log_path
from moka_provider.local.processes import Tracked
from moka_provider.local.shim import now, record_exit

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
SHIM_MODULE = "moka_provider.local.shim"


@dataclass(frozen=True)
class ContainerFiles:
    """Where one container of one pod keeps its state on this machine."""

    pods_dir: Path
    namespace: str
    pod: str
    container: str

    @property
    def directory(self) -> Path:
        return self.pods_dir / self.namespace / self.pod

    @property
    def log(self) -> Path:
        return log_path(self.pods_dir, self.namespace, self.pod, self.container)

    @property
    def exit(self) -> Path:
        return exit_path(self.pods_dir, self.namespace, self.pod, self.container)

    @property
    def tracked(self) -> Tracked:
        return Tracked(
            f"{self.namespace}/{self.pod}/{self.container}",
            self.directory / f"{self.container}.pid",
            self.directory / f"{self.container}.shim.log",
        )

    def exit_record(self) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self.exit.read_text())
        except (OSError, ValueError):
            return None
        return record


def stop_containers(pods_dir: Path) -> int:
    """Stop every container process still running below ``pods_dir`` (the instance is going down)."""
    stopped = 0
    for pid_file in pods_dir.glob("*/*/*.pid"):
        namespace, pod = pid_file.parent.parent.name, pid_file.parent.name
        tracked = ContainerFiles(pods_dir, namespace, pod, pid_file.name.removesuffix(".pid")).tracked
        if processes.running_pid(tracked) is not None:
            processes.stop(tracked, grace=5)
            stopped += 1
    return stopped


def cpu_request(pod: dict[str, Any]) -> float:
    from kubernetes.utils import parse_quantity

    total = 0.0
    for container in pod["spec"].get("containers") or []:
        request = ((container.get("resources") or {}).get("requests") or {}).get("cpu")
        if request is not None:
            total += float(parse_quantity(request))
    return total


class PodRunner:
    def __init__(
        self, api_client: Any, pods_dir: Path, archive_dir: Path, node_name: str, cpus: float | None = None
    ) -> None:
        from kubernetes_asyncio import client

        self.core = client.CoreV1Api(api_client)
        self.pods_dir = pods_dir
        self.archive_dir = archive_dir
        self.node_name = node_name
        self.cpus = cpus if cpus is not None else float(os.cpu_count() or 1)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sync_once()
            except Exception:
                log.exception("pod sync failed; retrying")
            await asyncio.sleep(POLL_SECONDS)

    async def sync_once(self) -> None:
        response: Any = await self.core.list_pod_for_all_namespaces(
            field_selector=f"spec.nodeName={self.node_name}", _preload_content=False
        )
        pods = json.loads(await response.read())["items"]
        known = set()
        in_use = sum(cpu_request(pod) for pod in pods if self._started(pod) and not self._finished(pod))
        for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
            meta = pod["metadata"]
            known.add((meta["namespace"], meta["name"]))
            if meta.get("deletionTimestamp"):
                await self._remove(pod)
            elif self._finished(pod):
                continue
            elif self._started(pod):
                await self._report(pod)
            elif in_use + cpu_request(pod) <= self.cpus or in_use == 0:
                in_use += cpu_request(pod)
                await self._start(pod)
        self._clean_leftovers(known)

    # -- one pod ---------------------------------------------------------------------------

    def _containers(self, pod: dict[str, Any]) -> list[ContainerFiles]:
        meta = pod["metadata"]
        return [
            ContainerFiles(self.pods_dir, meta["namespace"], meta["name"], c["name"])
            for c in pod["spec"].get("containers") or []
        ]

    def _started(self, pod: dict[str, Any]) -> bool:
        uid_file = self.pods_dir / pod["metadata"]["namespace"] / pod["metadata"]["name"] / "uid"
        return uid_file.exists() and uid_file.read_text() == pod["metadata"]["uid"]

    @staticmethod
    def _finished(pod: dict[str, Any]) -> bool:
        return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")

    async def _start(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        directory = self.pods_dir / meta["namespace"] / meta["name"]
        if directory.exists():  # an earlier pod of the same name
            self._stop_processes(meta["namespace"], meta["name"])
            self._archive(meta["namespace"], meta["name"])
            shutil.rmtree(directory, ignore_errors=True)
        (directory / "work").mkdir(parents=True)
        (directory / "uid").write_text(meta["uid"])
        for spec, files in zip(pod["spec"]["containers"], self._containers(pod), strict=True):
            command = [*(spec.get("command") or []), *(spec.get("args") or [])]
            files.log.touch()
            if not command:
                message = "the local kubelet runs a container's command/args; this one has none"
                record_exit(files.exit, 128, "StartError", now(), message)
                continue
            try:
                env = await self._environment(pod, spec)
            except LookupError as error:  # a real kubelet keeps retrying; here the pod fails, saying why
                record_exit(files.exit, 128, "CreateContainerConfigError", now(), str(error))
                continue
            argv = [
                sys.executable, "-m", SHIM_MODULE, "--log", str(files.log), "--exit", str(files.exit),
                "--cwd", str(directory / "work"), "--", *command,
            ]  # fmt: skip
            processes.start(files.tracked, argv, marker=str(files.log), env=env)
        await self._report(pod)

    async def _environment(self, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
        """The container's variables: values, the pod's name and namespace, and keys of Secrets
        (``LookupError`` naming the Secret or key that is not there)."""
        env = dict(os.environ)
        fields = {
            "metadata.name": pod["metadata"]["name"],
            "metadata.namespace": pod["metadata"]["namespace"],
        }
        for variable in container.get("env") or []:
            source = variable.get("valueFrom") or {}
            field = (source.get("fieldRef") or {}).get("fieldPath")
            if "value" in variable:
                env[variable["name"]] = str(variable["value"])
            elif field in fields:
                env[variable["name"]] = fields[field]
            elif "secretKeyRef" in source:
                env[variable["name"]] = await self._secret_value(
                    pod["metadata"]["namespace"], source["secretKeyRef"]
                )
        return env

    async def _secret_value(self, namespace: str, reference: dict[str, Any]) -> str:
        from kubernetes_asyncio.client.exceptions import ApiException

        name, key = reference.get("name", ""), reference.get("key", "")
        try:
            secret = await self.core.read_namespaced_secret(name, namespace)
        except ApiException as error:
            if error.status == 404:
                raise LookupError(f'secret "{name}" not found') from None
            raise
        if key not in (secret.data or {}):
            raise LookupError(f"couldn't find key {key} in Secret {namespace}/{name}")
        return base64.b64decode(secret.data[key]).decode()

    async def _report(self, pod: dict[str, Any]) -> None:
        statuses, all_done, failed = [], True, False
        for spec, files in zip(pod["spec"]["containers"], self._containers(pod), strict=True):
            record = files.exit_record()
            base = {"name": spec["name"], "image": spec.get("image", ""), "imageID": "", "restartCount": 0}
            if record is not None:
                failed = failed or record["exitCode"] != 0
                statuses.append({**base, "ready": False, "started": False, "state": {"terminated": record}})
            else:
                all_done = False
                pid = processes.running_pid(files.tracked)
                statuses.append(
                    {
                        **base,
                        "ready": True,
                        "started": True,
                        "containerID": f"moka://{pid}",
                        "state": {
                            "running": {"startedAt": (pod.get("status") or {}).get("startTime") or now()}
                        },
                    }
                )
                if pid is None and not files.exit.exists():  # the shim died without a record
                    record_exit(files.exit, 137, "Error", now(), "the container's process disappeared")
        phase = ("Failed" if failed else "Succeeded") if all_done else "Running"
        if all_done:  # before the phase says so: a finished pod's log is in the archive
            await asyncio.to_thread(self._archive, pod["metadata"]["namespace"], pod["metadata"]["name"])
        status = {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1",
            "startTime": (pod.get("status") or {}).get("startTime") or now(),
            "containerStatuses": statuses,
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True" if phase == "Running" else "False"},
                {"type": "ContainersReady", "status": "True" if phase == "Running" else "False"},
            ],
        }
        current = pod.get("status") or {}
        if current.get("phase") != phase or current.get("containerStatuses") != statuses:
            meta = pod["metadata"]
            await self.core.patch_namespaced_pod_status(meta["name"], meta["namespace"], {"status": status})

    async def _remove(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        grace = float(meta.get("deletionGracePeriodSeconds") or 0)
        await asyncio.to_thread(self._stop_processes, meta["namespace"], meta["name"], grace)
        await asyncio.to_thread(self._archive, meta["namespace"], meta["name"])
        shutil.rmtree(self.pods_dir / meta["namespace"] / meta["name"], ignore_errors=True)
        from kubernetes_asyncio import client
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            # With a body the server reads the options from it alone, so the grace period goes there.
            options = client.V1DeleteOptions(
                grace_period_seconds=0, preconditions=client.V1Preconditions(uid=meta["uid"])
            )
            await self.core.delete_namespaced_pod(meta["name"], meta["namespace"], body=options)
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def _stop_processes(self, namespace: str, pod: str, grace: float = 5.0) -> None:
        directory = self.pods_dir / namespace / pod
        for pid_file in directory.glob("*.pid"):
            container = pid_file.name.removesuffix(".pid")
            processes.stop(
                ContainerFiles(self.pods_dir, namespace, pod, container).tracked, grace=min(grace, 30)
            )

    def _archive(self, namespace: str, pod: str) -> None:
        """Copy the log of the pod that ran here under this name to the archive (its containers
        are the log files in its directory: the spec of a pod deleted meanwhile is not at hand)."""
        directory = self.pods_dir / namespace / pod
        containers = [
            path.name.removesuffix(".log")
            for path in directory.glob("*.log")
            if not path.name.endswith(".shim.log")  # a shim's own log (container names have no dots)
        ]
        archive_pod_log(self.pods_dir, self.archive_dir, namespace, pod, containers)

    def _clean_leftovers(self, known: set[tuple[str, str]]) -> None:
        """Pods deleted while the kubelet was away: stop their processes, archive their logs, drop
        their files."""
        if not self.pods_dir.exists():
            return
        for namespace_dir in self.pods_dir.iterdir():
            for pod_dir in namespace_dir.iterdir() if namespace_dir.is_dir() else []:
                if (namespace_dir.name, pod_dir.name) not in known and (pod_dir / "uid").exists():
                    self._stop_processes(namespace_dir.name, pod_dir.name, 0)
                    self._archive(namespace_dir.name, pod_dir.name)
                    shutil.rmtree(pod_dir, ignore_errors=True)
