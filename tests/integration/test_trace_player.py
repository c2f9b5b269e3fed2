"""The trace player against `moka local`, and a trace the trigger first looks at after it ended.

A job that spark-operator deleted by its TTL before the trigger's first look must still end as it
ended; this runs the real trigger (in an event loop, as the triggerer does) after the replay.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from moka_provider.resources import SPARK_APPLICATION
from tests.conformance.cases import sensor_job_manifest
from tests.conformance.player import TracePlayer
from tests.conformance.traces import TRACES, load

pytestmark = pytest.mark.integration


def test_a_job_deleted_by_its_ttl_before_the_first_look_is_judged_by_its_events(moka_local: Any) -> None:
    from moka_provider.hooks.moka import MokaHook
    from moka_provider.triggers.job import MokaJobTrigger

    paths, state = moka_local
    trace = load(TRACES / "spark" / "ttl_deleted_after_completed.yaml")
    player = TracePlayer(paths.admin_kubeconfig, state.namespace, [trace])
    hook = MokaHook()
    player.create_job(trace, sensor_job_manifest(trace, hook.settings))
    player.start()
    try:
        deadline = time.monotonic() + 60
        while not any(played.finished or played.errors for played in player.played.values()):
            assert time.monotonic() < deadline, "the trace did not finish"
            time.sleep(0.2)
    finally:
        player.stop()
    [played] = player.played.values()
    assert played.errors == [] and played.finished
    uid = played.job["metadata"]["uid"]
    assert hook.list(SPARK_APPLICATION, label_selector=f"conformance.moka.dev/trace={trace.key}") == []

    trigger = MokaJobTrigger(engine="spark", name=trace.sensor_job_name, namespace=state.namespace, uid=uid)

    async def first() -> Any:
        async for event in trigger.run():
            return event.payload

    payload = asyncio.run(asyncio.wait_for(first(), 30))
    assert payload["verdict"] == "succeeded", payload
    assert payload["status"]["state"] == "SparkDriverCompleted"
