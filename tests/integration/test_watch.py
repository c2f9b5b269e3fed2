"""Watching custom objects: events in order, resumption after a cut stream and after 410 Gone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.resources import SPARK_APPLICATION
from tests.integration.conftest import SyncOrAsync, patch_as_admin, spark_app
from tests.integration.fault_proxy import Fault

FAST = RetryPolicy(attempts=4, initial_wait=0.05, max_wait=0.2)


@pytest.fixture(scope="module", autouse=True)
def controllers_paused(moka_local: Any) -> Iterator[None]:
    """These tests count every change to their objects: keep the local operators from making any."""
    from moka_provider.local import control_plane, processes

    paths, state = moka_local
    processes.stop(paths.component("controllers"))
    yield
    control_plane.start_controllers(paths, state)


def set_step(admin_api: Any, name: str, value: str) -> None:
    """Change the app as someone else would: its ``moka.test/step`` annotation."""
    patch_as_admin(
        admin_api, SPARK_APPLICATION, name, {"metadata": {"annotations": {"moka.test/step": value}}}
    )


def mutate_later(
    admin_api: Any, name: str, patches: int, delay: float = 0.5, then_delete: bool = False
) -> threading.Thread:
    """Patch (and delete) an app from another thread while the test watches it."""

    def run() -> None:
        hook = SyncOrAsync("sync").hook
        time.sleep(delay)
        for index in range(patches):
            set_step(admin_api, name, str(index))
            time.sleep(0.1)
        if then_delete:
            hook.delete(SPARK_APPLICATION, name)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_watch_sees_added_modified_deleted(hook: SyncOrAsync, admin_api: Any, unique_name: str) -> None:
    hook.create(SPARK_APPLICATION, spark_app(unique_name))
    mutator = mutate_later(admin_api, unique_name, patches=2, then_delete=True)
    events = hook.watch(SPARK_APPLICATION, name=unique_name, limit=4, timeout=30)
    mutator.join()
    assert [event.type for event in events] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
    assert {event.name for event in events} == {unique_name}
    assert [e.object["metadata"].get("annotations", {}).get("moka.test/step") for e in events[1:3]] == [
        "0",
        "1",
    ]


def test_watch_by_label_ignores_other_objects(hook: SyncOrAsync, unique_name: str) -> None:
    mine, other = f"{unique_name}-a", f"{unique_name}-b"
    hook.create(SPARK_APPLICATION, spark_app(mine, case=unique_name))
    hook.create(SPARK_APPLICATION, spark_app(other, case="someone-else"))
    try:
        events = hook.watch(SPARK_APPLICATION, label_selector=f"case={unique_name}", limit=5, timeout=3)
        assert [(event.type, event.name) for event in events] == [("ADDED", mine)]
    finally:
        for name in (mine, other):
            hook.delete(SPARK_APPLICATION, name)


def test_watch_from_a_resource_version_starts_after_it(
    hook: SyncOrAsync, admin_api: Any, unique_name: str
) -> None:
    created = hook.create(SPARK_APPLICATION, spark_app(unique_name))
    set_step(admin_api, unique_name, "later")
    try:
        events = hook.watch(
            SPARK_APPLICATION,
            name=unique_name,
            resource_version=created["metadata"]["resourceVersion"],
            limit=1,
        )
        assert events[0].type == "MODIFIED"
        assert events[0].object["metadata"]["annotations"]["moka.test/step"] == "later"
    finally:
        hook.delete(SPARK_APPLICATION, unique_name)


@pytest.mark.parametrize("style", ["sync", "async"])
def test_watch_resumes_after_the_stream_is_cut(
    fault_proxy: Any, admin_api: Any, style: str, unique_name: str
) -> None:
    hook = SyncOrAsync(style, conn_id="moka_faulty", retry_policy=FAST)
    hook.create(SPARK_APPLICATION, spark_app(unique_name))
    fault_proxy.inject(Fault(r"GET .*sparkapplications\?.*watch=True", times=1, cut_after_lines=1))
    mutator = mutate_later(admin_api, unique_name, patches=3)
    events = hook.watch(SPARK_APPLICATION, name=unique_name, limit=4, timeout=30)
    mutator.join()
    hook.delete(SPARK_APPLICATION, unique_name)
    assert [event.type for event in events] == ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED"]
    versions = [event.resource_version for event in events]
    assert len(set(versions)) == 4, "an event was delivered twice across the resumption"
    steps = [e.object["metadata"]["annotations"]["moka.test/step"] for e in events[1:]]
    assert steps == ["0", "1", "2"], "an event was lost across the resumption"
    assert fault_proxy.count(r"watch=True") == 2


@pytest.mark.parametrize("style", ["sync", "async"])
def test_watch_relists_after_410_gone(fault_proxy: Any, admin_api: Any, style: str, unique_name: str) -> None:
    """A resourceVersion the server no longer has: the watch re-lists and reports the current state.

    Version "1" predates the server's watch cache, so the real API server answers 410 Gone
    ("too old resource version"), as it does for a version compacted away.
    """
    sync = SyncOrAsync("sync").hook
    sync.create(SPARK_APPLICATION, spark_app(unique_name))
    set_step(admin_api, unique_name, "latest")
    latest = sync.get(SPARK_APPLICATION, unique_name)["metadata"]["resourceVersion"]
    hook = SyncOrAsync(style, conn_id="moka_faulty", retry_policy=FAST)
    try:
        events = hook.watch(
            SPARK_APPLICATION,
            name=unique_name,
            resource_version="1",
            limit=1,
            timeout=10,
        )
    finally:
        sync.delete(SPARK_APPLICATION, unique_name)
    assert [(event.type, event.resource_version) for event in events] == [("ADDED", latest)]
    lists = fault_proxy.count(r"GET .*sparkapplications\?fieldSelector=[^&]*&limit=\d+$")
    assert lists == 1, f"expected one re-list after the 410, saw {dict(fault_proxy.seen)}"
