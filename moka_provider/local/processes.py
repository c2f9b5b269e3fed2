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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tracked:
    """The files by which one background process is followed: its pid file and its output log."""

    name: str
    pid_file: Path
    log_file: Path


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


def start(
    tracked: Tracked,
    argv: Sequence[str],
    marker: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` detached (its own session), output to its log file; record its pid.

    ``marker`` (default: the program's file name) is an argument by which the process is
    recognised later; give a distinctive one when the program is an interpreter.
    """
    with tracked.log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
    marker = marker or Path(argv[0]).name
    tracked.pid_file.write_text(f"{process.pid}\n{marker}\n")
    # Until the child has exec'd, /proc shows the parent's command line: wait for that to pass, so
    # that a check right after start does not mistake the starting process for a dead one.
    deadline = time.monotonic() + 10
    while not _runs(process.pid, marker) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.pid


def recorded_pid(tracked: Tracked) -> tuple[int, str] | None:
    try:
        pid_text, binary = tracked.pid_file.read_text().split("\n")[:2]
        return int(pid_text), binary
    except (OSError, ValueError):
        return None


def running_pid(tracked: Tracked) -> int | None:
    """The process's pid if it is alive and still the recorded program; else ``None``."""
    recorded = recorded_pid(tracked)
    if recorded is None:
        return None
    pid, marker = recorded
    return pid if _runs(pid, marker) else None


def stop(tracked: Tracked, *, grace: float = 10.0) -> str:
    """Stop the process and its session (SIGTERM, SIGKILL after ``grace``); remove its pid file
    either way. Returns what happened."""
    component = tracked.name
    recorded = recorded_pid(tracked)
    if recorded is None:
        return f"{component}: not running"
    pid, marker = recorded
    if not _runs(pid, marker):
        tracked.pid_file.unlink(missing_ok=True)
        return f"{component}: not running (removed stale pid file for pid {pid})"
    _signal_session(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _runs(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    how = "stopped"
    if _runs(pid, marker):
        _signal_session(pid, signal.SIGKILL)
        how = f"killed (did not stop within {grace:.0f}s)"
        while _runs(pid, marker):
            time.sleep(0.05)
    tracked.pid_file.unlink(missing_ok=True)
    return f"{component}: {how} (pid {pid})"


def log_tail(tracked: Tracked, lines: int = 15) -> str:
    try:
        text = tracked.log_file.read_text(errors="replace")
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


def _signal_session(pid: int, signum: int) -> None:
    """Signal the process and everything it started (it leads its own session and group)."""
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie (no-op for others)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
