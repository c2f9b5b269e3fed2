"""The job's log in the task log: followed live from the pod, or read from the log archive.

The pods holding a job's log are found by the labels the job's operator gives them
(:class:`~moka_provider.engines.base.LogPods`): operators generate most pod names, and a rerun may
reuse a name. The newest matching pod is the current attempt's; pods are told apart by uid.

While a task waits in a worker, a :class:`LogFollower` thread copies the current attempt's log into
the task log as it is written. When the task resumed from the triggerer, or the pod is gone (the
operator's TTL removed it), :func:`read_job_log` reads the pod's log, and falls back to the
connection's ``log_archive_url`` (read with Airflow's ``ObjectStoragePath``, so ``s3://``,
``gs://``, ``file://`` and any fsspec scheme work).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow.sdk import ObjectStoragePath

from moka_provider.engines.base import LogPods
from moka_provider.engines.links import log_archive_url
from moka_provider.exceptions import MokaApiError
from moka_provider.settings import MokaSettings

#: How many of the last log lines a failed task's error message quotes.
ERROR_TAIL_LINES = 20
#: Waits between looks for a pod to follow: from the first to the longest, doubling while there is
#: nothing (new) to follow.
_FIRST_WAIT_SECONDS = 1.0
_LONGEST_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class JobLog:
    lines: list[str]
    source: str | None  # where the lines came from; None if they could not be read
    problem: str | None = None
    pod: str | None = None  # the pod whose log it is, where known


def newest(pods: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest of ``pods`` (as the API returns them): the current attempt's."""
    return max(
        pods, key=lambda pod: (pod["metadata"].get("creationTimestamp") or "", pod["metadata"]["name"])
    )


def current_pod(hook: Any, pods: LogPods, namespace: str) -> dict[str, Any] | None:
    """The newest pod matching ``pods.selector``: the current attempt's (``None``: none yet or any more)."""
    found = hook.list_pods(pods.selector, namespace)
    return newest(found) if found else None


def container_of(pod: Mapping[str, Any], preferred: str | None) -> str | None:
    """``preferred`` if the pod has such a container, else its first (a renamed main container)."""
    names = [container["name"] for container in (pod.get("spec") or {}).get("containers") or []]
    if preferred in names:
        return preferred
    return names[0] if names else None


def container_ended(pod: Mapping[str, Any], container: str | None) -> bool:
    """Whether ``container`` of ``pod`` has terminated (its log is complete)."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return bool((status.get("state") or {}).get("terminated"))
    return False


def _log_not_there(error: MokaApiError) -> bool:
    """A pod gone (404), or one whose container has not started (400): nothing to read yet."""
    return error.not_found or error.status == 400


def read_job_log(
    hook: Any, settings: MokaSettings, pods: LogPods | None, namespace: str, link_params: Mapping[str, Any]
) -> JobLog:
    """The whole log of the job's current pod while it exists, else from the log archive."""
    problems = []
    pod_name = pods.name if pods else None
    if pods:
        pod = current_pod(hook, pods, namespace)
        if pod is None:
            problems.append(f"no pod {pods.selector} in {namespace} any more")
        else:
            pod_name = pod["metadata"]["name"]
            try:
                lines = list(
                    hook.read_pod_log(pod_name, namespace, container=container_of(pod, pods.container))
                )
                return JobLog(lines, f"pod {namespace}/{pod_name}", pod=pod_name)
            except MokaApiError as error:
                if not _log_not_there(error):
                    raise
                problems.append(f"pod {namespace}/{pod_name}: {error.message}")
    url = log_archive_url(settings, {**link_params, "pod": pod_name or link_params.get("pod")})
    if url is None:
        problems.append(
            "no log_archive_url on the moka connection (or no pod name for it) to read it from instead"
        )
        return JobLog([], None, "; ".join(problems), pod_name)
    try:
        text = ObjectStoragePath(url).read_text()
    except Exception as error:  # any fsspec backend: missing object, no access, ...
        problems.append(f"log archive {url}: {type(error).__name__}: {error}")
        return JobLog([], None, "; ".join(problems), pod_name)
    return JobLog(text.splitlines(), url, pod=pod_name)


class LogFollower:
    """Copies the current attempt's log to ``emit(pod, line)`` from a background thread.

    ``locate`` says, from the job as last seen, which pods hold its log. The follower looks for the
    newest such pod, follows its log, and after a dropped stream reconnects and skips the lines it
    already passed on. A newer pod (a rerun, a retried submission) is followed from its first line,
    and :attr:`tail` then holds that attempt's lines only. While there is no pod, or only one whose
    container ended and whose log was read to the end, it looks again after a wait that doubles up
    to 10 s. When stopped, it reads the current pod's complete log once more and passes on what the
    stream had not: the pod may have ended between two looks, or its stream been too slow.
    """

    def __init__(
        self,
        hook: Any,
        namespace: str,
        locate: Callable[[], LogPods | None],
        emit: Callable[[str, str], None],
    ) -> None:
        self.hook = hook
        self.namespace = namespace
        self.locate = locate
        self.emit = emit
        self.pod: str | None = None  # the pod followed (name), once found
        self.count = 0  # lines of that pod passed on
        self.tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
        self._uid: str | None = None
        self._container: str | None = None
        self._read_to_the_end: str | None = None  # uid of an ended pod whose log was read whole
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed = False  # set when stop() takes over: the thread passes nothing on after it
        self._thread = threading.Thread(target=self._run, name=f"moka-log-{namespace}", daemon=True)

    def start(self) -> LogFollower:
        self._thread.start()
        return self

    def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop following: wait up to ``drain_seconds`` for the stream of an ended pod to finish,
        then pass on the lines of the current pod's complete log that the stream did not."""
        self._stop.set()
        self._thread.join(drain_seconds)
        with self._lock:
            self._closed = True
        try:
            found = self._find()
            if found is None:
                return
            self._switch_to(*found)
            assert self.pod is not None
            complete = list(self.hook.read_pod_log(self.pod, self.namespace, container=self._container))
        except MokaApiError as error:
            if not _log_not_there(error):
                self._note(
                    f"(reading the rest of the log of {self.pod or 'the job'} failed: {error.message})"
                )
            return
        for line in complete[self.count :]:
            self._pass_on(line)

    def _run(self) -> None:
        wait = _FIRST_WAIT_SECONDS
        while True:
            passed = 0
            try:
                passed = self._follow_once()
            except MokaApiError as error:
                if not _log_not_there(error):
                    self._note(
                        f"(following the log of {self.pod or 'the job'} failed: {error.message}; retrying)"
                    )
            except Exception as error:  # a dropped stream: reconnect
                self._note(f"(log stream of {self.pod} interrupted: {type(error).__name__}; reconnecting)")
            wait = _FIRST_WAIT_SECONDS if passed else min(wait * 2, _LONGEST_WAIT_SECONDS)
            if self._stop.wait(wait):
                return

    def _find(self) -> tuple[dict[str, Any], LogPods] | None:
        """The current attempt's pod, and where in it the log is."""
        pods = self.locate()
        pod = None if pods is None else current_pod(self.hook, pods, self.namespace)
        return None if pod is None or pods is None else (pod, pods)

    def _follow_once(self) -> int:
        """Follow the current pod's log until its stream ends; how many new lines it passed on."""
        found = self._find()
        if found is None:
            return 0
        pod = found[0]
        with self._lock:
            if self._closed:
                return 0
            self._switch_to(*found)
        uid, name = self._uid, self.pod
        if self._read_to_the_end == uid:
            return 0
        ended = container_ended(pod, self._container)
        assert name is not None
        seen = passed = 0
        for line in self.hook.read_pod_log(name, self.namespace, container=self._container, follow=True):
            seen += 1
            if seen <= self.count:
                continue
            with self._lock:
                if self._closed or self._uid != uid:
                    return passed
                self._pass_on(line)
                passed += 1
        if ended:  # the stream of an ended container ends with its last line
            self._read_to_the_end = uid
        return passed

    def _switch_to(self, pod: Mapping[str, Any], pods: LogPods) -> None:
        """Make ``pod`` the one followed; a pod other than the last is a new attempt."""
        uid = pod["metadata"].get("uid")
        if uid == self._uid:
            return
        if self._uid is not None:
            self._note(f"(a new attempt: following pod {pod['metadata']['name']})")
        self._uid, self.pod = uid, pod["metadata"]["name"]
        self._container = container_of(pod, pods.container)
        self.count = 0
        self.tail.clear()

    def _note(self, message: str) -> None:
        self.emit(self.pod or "-", message)

    def _pass_on(self, line: str) -> None:
        self.count += 1
        self.tail.append(line)
        assert self.pod is not None
        self.emit(self.pod, line)
