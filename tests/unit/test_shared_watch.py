"""The shared watch of a triggerer's event loop: one list + watch for many waiters, each told only
about its own job; passing trouble backed off and told, lasting trouble ends every wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.hooks.shared_watch import WatchTrouble, running_watches, subscription
from moka_provider.hooks.watching import WatchEvent, WatchSession
from moka_provider.resources import SPARK_APPLICATION

NAMESPACE = "moka"


def job(name: str, state: str, version: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-{name}",
            "resourceVersion": str(version),
            "managedFields": [{"manager": "spark-operator"}],
        },
        "spec": {"mainApplicationFile": "local:///pi.py"},
        "status": {"applicationState": {"state": state}, "executorState": {"e1": "RUNNING"}},
    }


class ScriptedHook:
    """A hook whose list returns ``listed`` and whose watch plays ``script``: WatchEvents, errors to
    raise (a failed request), and ``None`` for a request the server ended quietly."""

    moka_conn_id = "moka_default"

    def __init__(self, listed: list[dict[str, Any]], *script: Any) -> None:
        self.listed = listed
        self.script = list(script)
        self.lists = 0
        self.follows = 0
        self.retry_policy = RetryPolicy(initial_wait=0.001, max_wait=0.01)

    async def relist(self, session: WatchSession) -> list[WatchEvent]:
        self.lists += 1
        return session.take_page({"metadata": {"resourceVersion": "10"}, "items": self.listed}) or []

    async def follow(self, session: WatchSession) -> AsyncIterator[WatchEvent]:
        self.follows += 1
        while self.script:
            step = self.script.pop(0)
            await asyncio.sleep(0.01)
            if step is None:
                return
            if isinstance(step, Exception):
                raise step
            if seen := session.on_line(json.dumps({"type": step.type, "object": step.object})):
                yield seen
        await asyncio.sleep(3600)


def join(hook: ScriptedHook, name: str) -> Any:
    adapter = SparkAdapter()
    return subscription(
        hook, SPARK_APPLICATION, NAMESPACE, "moka.dev/job-key", adapter.slim, name=name, uid=f"uid-{name}"
    )


async def events_until(subscribed: Any, state: str) -> list[Any]:
    seen: list[Any] = []
    while True:
        item = await subscribed.next(timeout=5)
        assert item is not None, f"no event with {state}; got {seen}"
        seen.append(item)
        if isinstance(item, WatchEvent) and item.object["status"]["applicationState"]["state"] == state:
            return seen


async def test_waiters_share_one_list_and_watch_and_hear_only_of_their_own_job():
    hook = ScriptedHook(
        [job("a", "RUNNING", 1), job("b", "RUNNING", 2)],
        WatchEvent("MODIFIED", job("b", "COMPLETED", 11)),
        WatchEvent("ADDED", job("c", "SUBMITTED", 12)),
        WatchEvent("MODIFIED", job("a", "COMPLETED", 13)),
        WatchEvent("MODIFIED", job("c", "COMPLETED", 14)),
    )
    async with join(hook, "a") as a, join(hook, "b") as b, join(hook, "c") as c:
        assert len(running_watches()) == 1
        assert await a.watch.synced(timeout=5)
        heard = await asyncio.gather(*(events_until(s, "COMPLETED") for s in (a, b, c)))

        # a and b joined before the list was in: they hear of their job through it
        assert [e.object["metadata"]["name"] for e in heard[0]] == ["a", "a"]
        assert [e.object["metadata"]["name"] for e in heard[1]] == ["b", "b"]
        assert [e.object["metadata"]["name"] for e in heard[2]] == ["c", "c"]
        assert c.initial is None and c.told  # created after the list: its events told of it
        # what the watch keeps and tells is the slim job
        kept = heard[2][-1].object
        assert "managedFields" not in kept["metadata"] and kept["spec"] == {}
        assert kept["status"] == {"applicationState": {"state": "COMPLETED"}, "mokaExecutorCount": 1}
    assert (hook.lists, hook.follows) == (1, 1)
    assert running_watches() == {}  # the last waiter stopped it


async def test_a_waiter_joining_a_running_watch_finds_its_job_without_a_request():
    hook = ScriptedHook([job("a", "RUNNING", 1)])
    async with join(hook, "x") as first:
        assert await first.watch.synced(timeout=5)
        async with join(hook, "a") as late:
            assert late.initial is not None
            assert late.initial["status"]["applicationState"]["state"] == "RUNNING"
            assert late.watch is first.watch
    assert hook.lists == 1


async def test_passing_trouble_is_waited_out_and_told_to_every_waiter():
    unreachable = MokaApiError("watch SparkApplication in moka", None, "Unreachable", "refused")
    hook = ScriptedHook(
        [job("a", "RUNNING", 1)],
        unreachable,
        unreachable,
        WatchEvent("MODIFIED", job("a", "COMPLETED", 11)),
    )
    async with join(hook, "a") as a:
        heard = await events_until(a, "COMPLETED")
    troubles = [item for item in heard if isinstance(item, WatchTrouble)]
    assert [trouble.error for trouble in troubles] == [unreachable, unreachable]
    assert hook.follows == 3 and hook.lists == 1  # resumed from its resourceVersion each time


async def test_an_answer_no_retry_mends_ends_every_wait_and_the_watch():
    forbidden = MokaApiError("watch SparkApplication in moka", 403, "Forbidden", "no list on pods")
    hook = ScriptedHook([job("a", "RUNNING", 1)], forbidden)
    async with join(hook, "a") as a, join(hook, "b") as b:
        for waiter in (a, b):
            with pytest.raises(MokaApiError) as raised:
                await events_until(waiter, "COMPLETED")
            assert raised.value is forbidden
        assert running_watches() == {}  # the next waiter starts a new watch
        async with join(hook, "c") as c:
            assert c.watch is not a.watch


async def test_a_quiet_watch_gives_none_when_the_waiters_time_is_up():
    hook = ScriptedHook([job("a", "RUNNING", 1)])
    async with join(hook, "a") as a:
        assert await a.next(timeout=0.05) is not None  # the list's ADDED
        assert await a.next(timeout=0.05) is None


async def test_a_refusal_right_after_an_outage_is_waited_out_not_failed():
    """A restarted API server answers 403 to the Role until its RBAC caches have synced."""
    unreachable = MokaApiError("watch SparkApplication in moka", None, "Unreachable", "refused")
    forbidden = MokaApiError("watch SparkApplication in moka", 403, "Forbidden", "cannot watch")
    hook = ScriptedHook(
        [job("a", "RUNNING", 1)], unreachable, forbidden, WatchEvent("MODIFIED", job("a", "COMPLETED", 11))
    )
    async with join(hook, "a") as a:
        heard = await events_until(a, "COMPLETED")
    assert [item.error for item in heard if isinstance(item, WatchTrouble)] == [unreachable, forbidden]
