"""Background processes of `moka local`: start with a pid file, recognise, stop.

A pid file alone is not trusted: the pid must still run the binary that was started (checked in
``/proc``), so a stale file left by a crash or a reboot, whose pid now belongs to another process,
is reported as stale and never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from moka_provider.local.paths import StatePaths


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int) -> bool:
    """Something listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start(paths: StatePaths, component: str, argv: Sequence[str], marker: str | None = None) -> int:
    """Start ``argv`` detached, output to the component's log file; record its pid.

    ``marker`` (default: the program's file name) is an argument by which the process is
    recognised later; give a distinctive one when the program is an interpreter.
    """
    log_file = paths.log_file(component)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    marker = marker or Path(argv[0]).name
    paths.pid_file(component).write_text(f"{process.pid}\n{marker}\n")
    # Until the child has exec'd, /proc shows the parent's command line: wait for that to pass, so
    # that a check right after start does not mistake the starting process for a dead one.
    deadline = time.monotonic() + 10
    while not _runs(process.pid, marker) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.pid


def recorded_pid(paths: StatePaths, component: str) -> tuple[int, str] | None:
    try:
        pid_text, binary = paths.pid_file(component).read_text().split("\n")[:2]
        return int(pid_text), binary
    except (OSError, ValueError):
        return None


def running_pid(paths: StatePaths, component: str) -> int | None:
    """The component's pid if it is alive and still the recorded binary; else ``None``."""
    recorded = recorded_pid(paths, component)
    if recorded is None:
        return None
    pid, marker = recorded
    return pid if _runs(pid, marker) else None


def stop(paths: StatePaths, component: str, *, grace: float = 10.0) -> str:
    """Stop the component if it runs; remove its pid file either way. Returns what happened."""
    recorded = recorded_pid(paths, component)
    if recorded is None:
        return f"{component}: not running"
    pid, marker = recorded
    if not _runs(pid, marker):
        paths.pid_file(component).unlink(missing_ok=True)
        return f"{component}: not running (removed stale pid file for pid {pid})"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _runs(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    how = "stopped"
    if _runs(pid, marker):
        os.kill(pid, signal.SIGKILL)
        how = f"killed (did not stop within {grace:.0f}s)"
        while _runs(pid, marker):
            time.sleep(0.05)
    paths.pid_file(component).unlink(missing_ok=True)
    return f"{component}: {how} (pid {pid})"


def log_tail(paths: StatePaths, component: str, lines: int = 15) -> str:
    try:
        text = paths.log_file(component).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def _runs(pid: int, marker: str) -> bool:
    """True if ``pid`` is a live (not zombie) process with ``marker`` among its arguments."""
    _reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X") and any(arg == marker or Path(arg).name == marker for arg in argv)


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie (no-op for others)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
