"""The local kubelet: a Node of `moka local` whose kubelet endpoint is a loopback HTTPS server.

The API server reaches a pod's log through the kubelet of the pod's node (``/containerLogs``),
so registering this Node and serving that endpoint makes ``kubectl logs`` and MokaHook's log
reading work against `moka local` exactly as against a cluster: tail, since, timestamps, limit and
follow. The server only answers clients with a certificate of the local CA (the API server).
Beside it runs the pod loop (:mod:`.pod_runner`) that runs the Node's pods as local processes.
Run as ``python -m moka_provider.local.kubelet --dir STATE --port N``; `moka local up` does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from moka_provider.local.container_logs import LogQuery, exit_path, limited, log_path
from moka_provider.local.paths import StatePaths

NODE_NAME = "moka-local"
_POLL_SECONDS = 0.2


def node_manifest(port: int) -> dict[str, Any]:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    capacity = {"cpu": str(os.cpu_count() or 1), "memory": f"{_memory_kib()}Ki", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "labels": {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/arch": arch,
                "kubernetes.io/os": "linux",
            },
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": NODE_NAME},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "moka local"}
            ],
        },
    }


def register_node(api_client: Any, port: int) -> None:
    """Create the Node, or point the existing one at this kubelet's port."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(api_client)
    node = node_manifest(port)
    try:
        core.create_node(node)
    except ApiException as error:
        if error.status != 409:
            raise
        core.patch_node_status(NODE_NAME, {"status": node["status"]})


class LogServer:
    """Serves ``/containerLogs/{namespace}/{pod}/{container}`` from the container log files."""

    def __init__(self, pods_dir: Path) -> None:
        self.pods_dir = pods_dir

    async def container_logs(self, request: Any) -> Any:
        from aiohttp import web

        namespace, pod, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
        path = log_path(self.pods_dir, namespace, pod, container)
        if not path.exists():
            return web.Response(
                status=404, text=f"container {container!r} of pod {namespace}/{pod} has no log yet"
            )
        try:
            query = LogQuery.from_params(dict(request.query))
        except ValueError as error:
            return web.Response(status=400, text=f"bad log query: {error}")
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        budget = query.limit_bytes
        with path.open() as log:
            lines = log.readlines()
            # Following, a last line the shim is still writing is sent once whole, as a kubelet
            # streams a container's lines (else a reader would get it as two lines).
            pending = lines.pop() if query.follow and lines and not lines[-1].endswith("\n") else ""
            for data in limited(iter(query.initial(lines)), budget):
                await response.write(data)
                budget = None if budget is None else budget - len(data)
            if query.follow:
                await self._follow(
                    log, query, response, budget, exit_path(self.pods_dir, namespace, pod, container), pending
                )
        await response.write_eof()
        return response

    @staticmethod
    async def _follow(
        log: Any, query: LogQuery, response: Any, budget: int | None, exited: Path, pending: str
    ) -> None:
        while budget is None or budget > 0:
            chunk = log.readline()
            if not chunk:
                # The shim writes the exit record after the last line: read once more after seeing
                # it, or lines written between the read above and the look would be lost.
                ended = exited.exists()
                chunk = log.readline()
                if not chunk:
                    if ended and not pending:
                        return
                    await asyncio.sleep(_POLL_SECONDS)
                    continue
            pending += chunk
            if not pending.endswith("\n"):
                continue  # the writer is mid-line
            line, pending = pending, ""
            if query.accepts(line):
                for data in limited(iter([query.render(line)]), budget):
                    await response.write(data)
                    budget = None if budget is None else budget - len(data)


def _memory_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 4 * 1024 * 1024


def serve(paths: StatePaths, port: int) -> None:
    """Serve the log endpoint and run the pods bound to the Node until terminated."""
    from aiohttp import web

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(paths.pki / "ca.crt"))
    tls.load_cert_chain(paths.pki / "kubelet.crt", paths.pki / "kubelet.key")
    tls.verify_mode = ssl.CERT_REQUIRED
    server = LogServer(paths.pods)
    app = web.Application()
    app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", server.container_logs)
    app.cleanup_ctx.append(lambda _app: _run_pods(paths))
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=tls, print=None, access_log=None)


async def _run_pods(paths: StatePaths) -> AsyncIterator[None]:
    from kubernetes_asyncio import config

    from moka_provider.local.pod_runner import PodRunner

    api_client = await config.new_client_from_config(config_file=str(paths.admin_kubeconfig))
    task = asyncio.create_task(PodRunner(api_client, paths.pods, paths.log_archive, NODE_NAME).run_forever())
    yield
    task.cancel()
    await api_client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="moka local kubelet")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(StatePaths(args.dir), args.port)


if __name__ == "__main__":
    main()
