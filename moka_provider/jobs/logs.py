"""The job's log in the task log: followed live from the pod, or read from the log archive.

While a task waits in a worker, a :class:`LogFollower` thread copies the driver's (JobManager's,
submitter's) log into the task log as it is written. When the task resumed from the triggerer,
or the pod is gone (the operator's TTL removed it), :func:`read_job_log` reads the pod's log, and
falls back to the connection's ``log_archive_url`` (read with Airflow's ``ObjectStoragePath``, so
``s3://``, ``gs://``, ``file://`` and any fsspec scheme work).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.connection_settings import MokaSettings

#: How many of the last log lines a failed task's error message quotes.
ERROR_TAIL_LINES = 20
_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class JobLog:
    lines: list[str]
    source: str | None  # where the lines came from; None if they could not be read
    problem: str | None = None


def read_job_log(
    hook: Any, settings: MokaSettings, pod: str | None, namespace: str, link_params: Mapping[str, Any]
) -> JobLog:
    """The whole log of ``pod``, from the pod while it exists, else from the log archive."""
    problems = []
    if pod:
        try:
            return JobLog(list(hook.read_pod_log(pod, namespace)), f"pod {namespace}/{pod}")
        except MokaApiError as error:
            if not (error.not_found or error.status == 400):
                raise
            problems.append(f"pod {namespace}/{pod}: {error.message}")
    url = settings.link("log_archive", **link_params)
    if url is None:
        problems.append("no log_archive_url on the moka connection to read it from instead")
        return JobLog([], None, "; ".join(problems))
    from airflow.sdk import ObjectStoragePath

    try:
        text = ObjectStoragePath(url).read_text()
    except Exception as error:  # any fsspec backend: missing object, no access, ...
        problems.append(f"log archive {url}: {type(error).__name__}: {error}")
        return JobLog([], None, "; ".join(problems))
    return JobLog(text.splitlines(), url)


class LogFollower:
    """Copies a pod's log to ``emit`` line by line from a background thread while a job runs.

    The pod may not exist yet, or its container not have started: the follower retries until
    stopped. After a dropped stream it reconnects and skips the lines it already passed on. When
    stopped, it reads the complete log once more and passes on what the stream had not: the pod
    may have ended between two attempts, or its stream been too slow on a busy machine.
    """

    def __init__(self, hook: Any, pod: str, namespace: str, emit: Callable[[str], None]) -> None:
        self.hook = hook
        self.pod = pod
        self.namespace = namespace
        self.emit = emit
        self.count = 0
        self.tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed = False  # set when stop() takes over: the thread passes nothing on after it
        self._thread = threading.Thread(target=self._run, name=f"moka-log-{pod}", daemon=True)

    def start(self) -> LogFollower:
        self._thread.start()
        return self

    def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop following: wait up to ``drain_seconds`` for the stream of an ended pod to finish,
        then pass on the lines of the complete log that the stream did not."""
        self._stop.set()
        self._thread.join(drain_seconds)
        with self._lock:
            self._closed = True
        try:
            complete = list(self.hook.read_pod_log(self.pod, self.namespace))
        except MokaApiError as error:
            if not (error.not_found or error.status == 400):
                self.emit(f"(reading the rest of the log of {self.pod} failed: {error.message})")
            return
        for line in complete[self.count :]:
            self._pass_on(line)

    def _run(self) -> None:
        while True:
            try:
                self._follow_once()
            except MokaApiError as error:
                if not (error.not_found or error.status == 400):
                    self.emit(f"(following the log of {self.pod} failed: {error.message}; retrying)")
            except Exception as error:  # a dropped stream: reconnect
                self.emit(f"(log stream of {self.pod} interrupted: {type(error).__name__}; reconnecting)")
            if self._stop.wait(_RETRY_SECONDS):
                return

    def _follow_once(self) -> None:
        seen = 0
        for line in self.hook.read_pod_log(self.pod, self.namespace, follow=True):
            seen += 1
            if seen <= self.count:
                continue
            with self._lock:
                if self._closed:
                    return
                self._pass_on(line)

    def _pass_on(self, line: str) -> None:
        self.count += 1
        self.tail.append(line)
        self.emit(line)
