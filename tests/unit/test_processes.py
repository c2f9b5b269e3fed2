"""Background processes: recognised by pid and marker, never confused with their parent."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from moka_provider.local import processes
from moka_provider.local.paths import StatePaths


def test_a_started_process_is_recognised_at_once(tmp_path: Path) -> None:
    """Right after start the child has exec'd: a check then must not see the parent's command line."""
    paths = StatePaths(tmp_path)
    paths.create()
    for attempt in range(5):
        pid = processes.start(
            paths.component(f"sleeper{attempt}"),
            [sys.executable, "-c", "import time; time.sleep(30)", "moka-marker"],
            marker="moka-marker",
        )
        try:
            assert processes.running_pid(paths.component(f"sleeper{attempt}")) == pid
        finally:
            assert "stopped" in processes.stop(paths.component(f"sleeper{attempt}"))
        assert processes.running_pid(paths.component(f"sleeper{attempt}")) is None


def test_a_process_that_exits_at_once_is_reported_gone(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    paths.create()
    processes.start(
        paths.component("quitter"),
        [sys.executable, "-c", "print('bye')", "quit-marker"],
        marker="quit-marker",
    )
    deadline = time.monotonic() + 10
    while processes.running_pid(paths.component("quitter")) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes.running_pid(paths.component("quitter")) is None
    assert "bye" in processes.log_tail(paths.component("quitter"))
    assert "stale pid file" in processes.stop(paths.component("quitter"))
