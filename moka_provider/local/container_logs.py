"""Container log files of the local kubelet, and the reading rules of the kubelet log API.

Each container's output is kept as ``<pods dir>/<namespace>/<pod>/<container>.log``, one line per
output line prefixed with its RFC 3339 UTC timestamp (as container runtimes keep logs, so that
``sinceSeconds`` / ``sinceTime`` / ``timestamps`` can be answered). A ``<container>.exit`` file
appears when the container has ended, which is when a followed log ends. Pure file logic: the
HTTP side is :mod:`.kubelet`.

The log archive stands in for what Fluent Bit does on Moka (ship every pod's log to an object
store, where it outlives the pod): :func:`archive_pod_log` copies a pod's log, without the
timestamps, to ``<archive dir>/<namespace>/<pod>.log``, which the ``log_archive_url`` of a
`moka local` connection points at.
"""

from __future__ import annotations

import datetime
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


def log_path(pods_dir: Path, namespace: str, pod: str, container: str) -> Path:
    return pods_dir / namespace / pod / f"{container}.log"


def exit_path(pods_dir: Path, namespace: str, pod: str, container: str) -> Path:
    return pods_dir / namespace / pod / f"{container}.exit"


def stamp(line: str, at: datetime.datetime | None = None) -> str:
    """A log-file line: ``<timestamp> <text>`` (the text without its newline)."""
    when = (at or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{when} {line.rstrip(chr(10))}\n"


def archive_path(archive_dir: Path, namespace: str, pod: str) -> Path:
    return archive_dir / namespace / f"{pod}.log"


def archive_pod_log(
    pods_dir: Path, archive_dir: Path, namespace: str, pod: str, containers: Iterable[str]
) -> Path | None:
    """Copy the pod's container logs, without their timestamps, to its archive file; return that.

    One file per pod. Local pods have one container; the logs of several are appended in
    container-name order, with nothing marking where one ends. A container without a log file is
    skipped; a pod with none (it never started here) writes nothing and returns ``None``. The file
    is replaced atomically, so archiving again (the pod ended, then was deleted) just rewrites it.
    """
    logs = [
        path for name in sorted(containers) if (path := log_path(pods_dir, namespace, pod, name)).exists()
    ]
    if not logs:
        return None
    target = archive_path(archive_dir, namespace, pod)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")  # no pod name starts with a dot
    try:
        with partial.open("wb") as out:
            for path in logs:
                with path.open("rb") as log:
                    out.writelines(_unstamped(line) for line in log)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def _unstamped(line: bytes) -> bytes:
    """A log-file line as the container wrote it (bytes, so that any encoding passes unchanged)."""
    return line.split(b" ", 1)[1] if b" " in line else line


@dataclass(frozen=True)
class LogQuery:
    """The kubelet log API's query parameters (the API server passes the pod log options on)."""

    tail_lines: int | None = None
    since: datetime.datetime | None = None
    timestamps: bool = False
    limit_bytes: int | None = None
    follow: bool = False

    @classmethod
    def from_params(cls, params: dict[str, str], now: datetime.datetime | None = None) -> LogQuery:
        now = now or datetime.datetime.now(datetime.UTC)
        since = None
        if "sinceSeconds" in params:
            since = now - datetime.timedelta(seconds=int(params["sinceSeconds"]))
        elif "sinceTime" in params:
            since = datetime.datetime.fromisoformat(params["sinceTime"].replace("Z", "+00:00"))
        return cls(
            tail_lines=int(params["tailLines"]) if "tailLines" in params else None,
            since=since,
            timestamps=params.get("timestamps") == "true",
            limit_bytes=int(params["limitBytes"]) if "limitBytes" in params else None,
            follow=params.get("follow") == "true",
        )

    def accepts(self, stamped: str) -> bool:
        if self.since is None:
            return True
        return _time_of(stamped) >= self.since

    def render(self, stamped: str) -> str:
        return stamped if self.timestamps else stamped.split(" ", 1)[1]

    def initial(self, stamped_lines: Iterable[str]) -> list[str]:
        """What a request returns of the lines already written: since, then tail, then render."""
        chosen: Iterable[str] = (line for line in stamped_lines if self.accepts(line))
        if self.tail_lines is not None:
            chosen = deque(chosen, maxlen=max(self.tail_lines, 0))
        return [self.render(line) for line in chosen]


def limited(chunks: Iterator[str], limit_bytes: int | None) -> Iterator[bytes]:
    """Encode chunks, stopping once ``limit_bytes`` have been sent."""
    sent = 0
    for chunk in chunks:
        data = chunk.encode()
        if limit_bytes is not None:
            data = data[: max(0, limit_bytes - sent)]
        if data:
            sent += len(data)
            yield data
        if limit_bytes is not None and sent >= limit_bytes:
            return


def _time_of(stamped: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamped.split(" ", 1)[0].replace("Z", "+00:00"))
