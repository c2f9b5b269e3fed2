"""One API client per connection per event loop: shared, renewed with age and after a 401, closed
when its last call is done and when the loop shuts down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from moka_provider.hooks import client_pool
from moka_provider.hooks.client_pool import pool


class Clients:
    """Opens numbered fake clients and records which are closed."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed: list[int] = []

    @asynccontextmanager
    async def open(self) -> AsyncIterator[int]:
        self.opened += 1
        number = self.opened
        try:
            yield number
        finally:
            self.closed.append(number)

    async def wrap(self, number: int) -> dict[str, Any]:
        return {"client": number}


async def call(clients: Clients, conn_id: str = "moka_default") -> int:
    async with pool().client(conn_id, clients.open, clients.wrap) as apis:
        await asyncio.sleep(0)
        return int(apis["client"])


async def test_concurrent_calls_of_one_connection_share_one_client():
    clients = Clients()

    used = await asyncio.gather(*(call(clients) for _ in range(50)))

    assert set(used) == {1}
    assert clients.opened == 1 and clients.closed == []
    assert await call(clients, "moka_other") == 2  # another connection, another client


def test_each_event_loop_has_its_own_clients_closed_when_it_shuts_down():
    clients = Clients()

    assert asyncio.run(call(clients)) == 1
    assert clients.closed == [1]  # asyncio.run cancelled the pool's keeper
    assert asyncio.run(call(clients)) == 2


async def test_a_refused_client_serves_no_new_call_and_closes_after_its_last(monkeypatch: pytest.MonkeyPatch):
    clients = Clients()
    release = asyncio.Event()

    async def long_call() -> None:  # a watch request still running on client 1
        async with pool().client("moka_default", clients.open, clients.wrap):
            await release.wait()

    running = asyncio.create_task(long_call())
    await asyncio.sleep(0.01)
    async with pool().client("moka_default", clients.open, clients.wrap) as apis:
        pool().retire("moka_default", apis)  # the API server answered 401
    assert clients.closed == []  # the long call still uses it
    assert await call(clients) == 2
    release.set()
    await running
    assert clients.closed == [1]


async def test_a_client_is_renewed_once_it_is_older_than_the_maximum_age(monkeypatch: pytest.MonkeyPatch):
    clients = Clients()
    assert await call(clients) == 1
    monkeypatch.setattr(client_pool, "CLIENT_MAX_AGE_SECONDS", 0.0)

    assert await call(clients) == 2
    assert clients.closed == [1]
