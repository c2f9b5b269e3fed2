"""The container shim of the local kubelet: runs one container's process and keeps its record.

Like a container runtime's shim, it sits between the kubelet and the workload so that neither the
log nor the exit status depends on the kubelet staying alive: it starts the command, writes each
output line, timestamped, to the container's log file (:mod:`.container_logs`), passes SIGTERM on
to the workload, and when the workload ends writes the exit record (exit code, reason, times)
that the kubelet reports on the Pod. Run as
``python -m moka_provider.local.shim --log LOG --exit EXIT -- COMMAND [ARG...]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from moka_provider.local.container_logs import stamp


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(command: list[str], log_file: Path, exit_file: Path, cwd: Path | None = None) -> int:
    started = now()
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd
        )
    except OSError as error:
        with log_file.open("a") as log:
            log.write(stamp(f"cannot start {command[0]!r}: {error}"))
        return record_exit(exit_file, 127, "StartError", started, f"cannot start {command[0]!r}: {error}")

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    assert process.stdout is not None
    with log_file.open("a", buffering=1) as log:
        for raw in iter(process.stdout.readline, b""):
            log.write(stamp(raw.decode("utf-8", "replace")))
    code = process.wait()
    if code < 0:  # killed by a signal: report as a shell would
        code = 128 - code
    return record_exit(exit_file, code, "Completed" if code == 0 else "Error", started)


def record_exit(exit_file: Path, code: int, reason: str, started: str, message: str | None = None) -> int:
    """Write a container's exit record (atomically: the kubelet may be reading); return ``code``."""
    record = {"exitCode": code, "reason": reason, "startedAt": started, "finishedAt": now()}
    if message:
        record["message"] = message
    partial = exit_file.with_suffix(".partial")
    partial.write_text(json.dumps(record) + "\n")
    os.replace(partial, exit_file)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description="moka local container shim")
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--exit", type=Path, required=True)
    parser.add_argument("--cwd", type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    sys.exit(0 if run(command, args.log, args.exit, args.cwd) == 0 else 1)


if __name__ == "__main__":
    main()
