"""Reading pod logs through the real API server's log proxy and the local kubelet."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.local.container_logs import exit_path, log_path, stamp
from moka_provider.local.kubelet import NODE_NAME
from tests.integration.conftest import SyncOrAsync

HOUR_AGO = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)


@pytest.fixture
def driver_pod(moka_local: Any, admin_api: Any, unique_name: str) -> Iterator[tuple[str, Path]]:
    """A pod on the local node whose container has logged five lines, three of them an hour ago."""
    from kubernetes import client

    paths, _ = moka_local
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(
        "moka",
        {
            "metadata": {"name": unique_name},
            "spec": {"nodeName": NODE_NAME, "containers": [{"name": "driver", "image": "spark"}]},
        },
    )
    log = log_path(paths.pods, "moka", unique_name, "driver")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(
        "".join(stamp(f"old line {i}", HOUR_AGO) for i in range(3))
        + stamp("Pi is roughly 3.14")
        + stamp("done")
    )
    yield unique_name, log
    core.delete_namespaced_pod(unique_name, "moka", grace_period_seconds=0)


def test_whole_log_tail_and_since(hook: SyncOrAsync, driver_pod: tuple[str, Path]) -> None:
    pod, _ = driver_pod
    assert hook.read_pod_log(pod) == ["old line 0", "old line 1", "old line 2", "Pi is roughly 3.14", "done"]
    assert hook.read_pod_log(pod, tail_lines=2) == ["Pi is roughly 3.14", "done"]
    assert hook.read_pod_log(pod, since_seconds=600) == ["Pi is roughly 3.14", "done"]
    assert hook.read_pod_log(pod, container="driver", since_seconds=600, tail_lines=1) == ["done"]


def test_follow_streams_until_the_container_ends(
    hook: SyncOrAsync, moka_local: Any, driver_pod: tuple[str, Path]
):
    pod, log = driver_pod
    paths, _ = moka_local

    def keep_logging() -> None:
        for i in range(3):
            time.sleep(0.3)
            with log.open("a") as out:
                out.write(stamp(f"stage {i} finished"))
        exit_path(paths.pods, "moka", pod, "driver").write_text("0\n")

    writer = threading.Thread(target=keep_logging)
    started = time.monotonic()
    writer.start()
    lines = hook.read_pod_log(pod, tail_lines=1, follow=True)
    writer.join()
    assert lines == ["done", "stage 0 finished", "stage 1 finished", "stage 2 finished"]
    assert time.monotonic() - started >= 0.9  # it really waited for the lines, not just the file


def test_unknown_container_is_a_readable_error(hook: SyncOrAsync, driver_pod: tuple[str, Path]) -> None:
    pod, _ = driver_pod
    with pytest.raises(MokaApiError) as error:
        hook.read_pod_log(pod, container="executor")
    assert error.value.status == 400
    assert "container executor is not valid" in str(error.value)
