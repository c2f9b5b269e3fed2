"""A loopback TLS proxy in front of the API server that injects faults, for retry tests.

It terminates TLS with a certificate from the local CA (so clients trust it as they trust the
server), forwards every request to the real API server, streams responses (watches, logs) line
by line, and, for requests matching a rule, answers with a status (429 with Retry-After, 503, ...),
resets the connection, or cuts a stream after some lines. It counts the requests it sees, so
tests can assert how many attempts a client made.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientSession, TCPConnector, web

from moka_provider.local.paths import StatePaths
from moka_provider.local.pki import issue_serving_cert

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass
class Fault:
    """What to do to the next ``times`` requests whose ``METHOD path?query`` matches ``match``."""

    match: str
    times: int = 1
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    cut_after_lines: int | None = None


class FaultProxy:
    def __init__(self, paths: StatePaths, upstream: str) -> None:
        cert, key = issue_serving_cert(paths, "fault-proxy", "fault-proxy")
        self._server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_ssl.load_cert_chain(cert, key)
        self._upstream_ssl = ssl.create_default_context(cafile=str(paths.pki / "ca.crt"))
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.seen: Counter[str] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    def count(self, pattern: str) -> int:
        return sum(n for request, n in self.seen.items() if re.search(pattern, request))

    def _take_fault(self, request_line: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and re.search(fault.match, request_line):
                fault.times -= 1
                return fault
        return None

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._server_ssl)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = self._loop.run_until_complete(self._open_session())
        self._started.set()
        self._loop.run_forever()

    async def _open_session(self) -> ClientSession:
        return ClientSession(connector=TCPConnector(ssl=self._upstream_ssl))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        request_line = f"{request.method} {request.path_qs}"
        self.seen[request_line] += 1
        fault = self._take_fault(request_line)
        if fault and fault.reset:
            _reset(request)
            return web.Response(status=500)
        if fault and fault.status:
            body = (
                '{"kind":"Status","apiVersion":"v1","status":"Failure",'
                f'"reason":"Injected","message":"injected by the fault proxy","code":{fault.status}}}'
            )
            return web.Response(
                status=fault.status, headers=fault.headers, text=body, content_type="application/json"
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = await self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=await request.read()
        )
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        for name, value in upstream.headers.items():
            if name.lower() not in HOP_BY_HOP:
                response.headers[name] = value
        await response.prepare(request)
        lines = 0
        async for line in upstream.content:
            await response.write(line)
            lines += 1
            if fault and fault.cut_after_lines is not None and lines >= fault.cut_after_lines:
                upstream.close()
                _reset(request)
                return response
        upstream.release()
        await response.write_eof()
        return response


def _reset(request: web.Request) -> None:
    """Drop the client's connection abruptly (TCP RST, no TLS close)."""
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def kubeconfig_through(proxy: FaultProxy, kubeconfig: Path, target: Path) -> Path:
    """A copy of ``kubeconfig`` whose server is the proxy."""
    import yaml

    config = yaml.safe_load(kubeconfig.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = proxy.url
    target.write_text(yaml.safe_dump(config))
    return target
