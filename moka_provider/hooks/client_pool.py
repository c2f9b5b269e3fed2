"""One Kubernetes API client per connection per event loop, shared by every async hook in it.

A triggerer runs thousands of triggers in one event loop. Built per trigger (or per call), each API
client loads the kubeconfig again (with EKS exec authentication: runs the token command again) and
opens TLS connections of its own. Here the clients of one connection are shared: one kubeconfig
load and one connection pool, reused by every call of every hook of that loop.

Credentials still change: exec tokens expire (EKS: 15 minutes), a connection can be edited. So a
client is used for new calls for :data:`CLIENT_MAX_AGE_SECONDS` at most, and at once no longer when
the API server answered 401 (:meth:`ClientPool.retire`); the next call then loads the connection
afresh. A retired client is closed when the last call using it is done (a watch request may last
minutes). The clients of a loop are closed when the loop shuts down (``asyncio.run`` cancels the
pool's keeper task).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

#: How long one client serves new calls before the connection is loaded again (well within the
#: 15 minutes an EKS token lasts; a 401 retires a client sooner).
CLIENT_MAX_AGE_SECONDS = 300.0

ClientFactory = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass
class _PooledClient:
    apis: dict[str, Any]
    closer: AsyncExitStack
    born: float = field(default_factory=time.monotonic)
    users: int = 0
    retired: bool = False

    def fresh(self, now: float) -> bool:
        return not self.retired and now - self.born < CLIENT_MAX_AGE_SECONDS


class ClientPool:
    """The shared clients of one event loop, by connection id."""

    def __init__(self) -> None:
        self._current: dict[str, _PooledClient] = {}
        self._clients: dict[int, _PooledClient] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._keeper: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def client(
        self, conn_id: str, open_client: ClientFactory, wrap: Callable[[Any], Awaitable[dict[str, Any]]]
    ) -> AsyncIterator[dict[str, Any]]:
        """The APIs of the shared client of ``conn_id`` for the duration of one call.

        ``open_client()`` opens a new client as an async context manager (closed when the client is
        retired); ``wrap(client)`` turns it into the API objects the hooks call.
        """
        pooled = await self._acquire(conn_id, open_client, wrap)
        pooled.users += 1
        try:
            yield pooled.apis
        finally:
            pooled.users -= 1
            if pooled.retired and pooled.users == 0:
                await self._close(pooled)

    def retire(self, conn_id: str, apis: dict[str, Any]) -> None:
        """Stop using the client behind ``apis`` for new calls (its credentials were refused)."""
        current = self._current.get(conn_id)
        if current is not None and current.apis is apis:
            current.retired = True
            del self._current[conn_id]

    async def _acquire(
        self, conn_id: str, open_client: ClientFactory, wrap: Callable[[Any], Awaitable[dict[str, Any]]]
    ) -> _PooledClient:
        current = self._current.get(conn_id)
        if current is not None and current.fresh(time.monotonic()):
            return current
        async with self._opening.setdefault(conn_id, asyncio.Lock()):
            current = self._current.get(conn_id)
            if current is not None and current.fresh(time.monotonic()):
                return current  # another call opened it meanwhile
            closer = AsyncExitStack()
            client = await closer.enter_async_context(open_client())
            pooled = _PooledClient(await wrap(client), closer)
            if current is not None:
                current.retired = True
                if current.users == 0:
                    await self._close(current)
            self._current[conn_id] = pooled
            self._clients[id(pooled)] = pooled
            self._ensure_keeper()
            return pooled

    async def _close(self, pooled: _PooledClient) -> None:
        if self._clients.pop(id(pooled), None) is not None:
            await pooled.closer.aclose()

    def _ensure_keeper(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._close_at_shutdown())

    async def _close_at_shutdown(self) -> None:
        try:
            await asyncio.Event().wait()  # until the loop shuts down and cancels this task
        finally:
            clients, self._clients, self._current = list(self._clients.values()), {}, {}
            for pooled in clients:
                await pooled.closer.aclose()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ClientPool] = weakref.WeakKeyDictionary()


def pool() -> ClientPool:
    """The client pool of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _pools.get(loop)
    if found is None:
        found = _pools[loop] = ClientPool()
    return found
