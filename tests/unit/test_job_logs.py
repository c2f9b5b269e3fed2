"""read_job_log (the current pod found by labels, then the log archive) and LogFollower."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines.base import LogPods
from moka_provider.exceptions import MokaApiError
from moka_provider.jobs import logs
from moka_provider.jobs.logs import ERROR_TAIL_LINES, LogFollower, read_job_log
from moka_provider.settings import MokaSettings

PARAMS = {"namespace": "moka", "name": "pi-1a2b3c4d", "pod": "pi-1a2b3c4d-driver"}
DRIVER = LogPods(
    "spark-role=driver,sparkoperator.k8s.io/app-name=pi-1a2b3c4d", "spark-kubernetes-driver", PARAMS["pod"]
)


def pod(
    name: str = "pi-1a2b3c4d-driver",
    uid: str = "uid-1",
    created: str = "2026-01-01T00:00:00Z",
    containers: tuple[str, ...] = ("spark-kubernetes-driver",),
    ended: bool = False,
) -> dict[str, Any]:
    state = {"terminated": {"exitCode": 0}} if ended else {"running": {}}
    return {
        "metadata": {"name": name, "uid": uid, "creationTimestamp": created},
        "spec": {"containers": [{"name": container} for container in containers]},
        "status": {"containerStatuses": [{"name": container, "state": state} for container in containers]},
    }


def api_error(status: int, reason: str = "NotFound") -> MokaApiError:
    return MokaApiError("read log of pod moka/pi-1a2b3c4d-driver", status, reason, f"pod says {status}")


class PodLogHook:
    """read_pod_log of MokaHook: yields given lines, or raises when iterated."""

    def __init__(
        self, lines: list[str] | None = None, error: Exception | None = None, pods: list[dict] | None = None
    ) -> None:
        self.lines = lines or []
        self.error = error
        self.pods = [pod()] if pods is None else pods
        self.calls: list[tuple[str, str, str | None]] = []
        self.selectors: list[str] = []

    def list_pods(self, selector: str, namespace: str) -> list[dict]:
        self.selectors.append(selector)
        return self.pods

    def read_pod_log(
        self, pod: str, namespace: str, *, container: str | None = None, **kwargs: Any
    ) -> Iterator[str]:
        self.calls.append((pod, namespace, container))
        yield from self.lines
        if self.error is not None:
            raise self.error


def archive_settings(tmp_path: Path) -> MokaSettings:
    return MokaSettings.from_extras(
        {"log_archive_url": f"file://{tmp_path}/{{namespace}}/{{name}}/{{pod}}.log"}
    )


def archive(tmp_path: Path, text: str) -> str:
    path = tmp_path / "moka" / "pi-1a2b3c4d" / "pi-1a2b3c4d-driver.log"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return f"file://{path}"


# --- read_job_log ------------------------------------------------------------------------------------


def test_reads_the_pod_while_it_exists(tmp_path: Path):
    archive(tmp_path, "archived\n")
    hook = PodLogHook(["live 1", "live 2"])

    log = read_job_log(hook, archive_settings(tmp_path), DRIVER, "moka", PARAMS)

    assert log.lines == ["live 1", "live 2"]
    assert log.source == "pod moka/pi-1a2b3c4d-driver"
    assert log.problem is None
    assert hook.selectors == [DRIVER.selector]
    assert hook.calls == [("pi-1a2b3c4d-driver", "moka", "spark-kubernetes-driver")]


def test_reads_the_newest_matching_pod_the_current_attempts(tmp_path: Path):
    hook = PodLogHook(
        ["attempt 2"],
        pods=[
            pod("wc-7d9f-abcde", "uid-2", "2026-01-01T00:05:00Z", containers=("flink-main-container",)),
            pod("wc-7d9f-zzzzz", "uid-1", "2026-01-01T00:00:00Z", containers=("flink-main-container",)),
        ],
    )

    log = read_job_log(
        hook, MokaSettings(), LogPods("app=wc,component=jobmanager", "flink-main-container"), "moka", {}
    )

    assert (log.lines, log.pod) == (["attempt 2"], "wc-7d9f-abcde")
    assert hook.calls == [("wc-7d9f-abcde", "moka", "flink-main-container")]


def test_a_renamed_main_container_is_read_as_the_pods_first():
    hook = PodLogHook(["x"], pods=[pod(containers=("driver", "sidecar"))])

    read_job_log(hook, MokaSettings(), DRIVER, "moka", PARAMS)

    assert hook.calls[0][2] == "driver"


@pytest.mark.parametrize("status", [404, 400])
def test_falls_back_to_the_archive_when_the_pod_is_gone(tmp_path: Path, status: int):
    url = archive(tmp_path, "line one\nline two\nPi is roughly 3.14\n")
    hook = PodLogHook(error=api_error(status))

    log = read_job_log(hook, archive_settings(tmp_path), DRIVER, "moka", PARAMS)

    assert hook.calls == [(PARAMS["pod"], "moka", "spark-kubernetes-driver")]
    assert log.lines == ["line one", "line two", "Pi is roughly 3.14"]
    assert log.source == url


def test_no_pod_any_more_reads_the_archive_at_the_pod_name_the_status_gave(tmp_path: Path):
    url = archive(tmp_path, "archived\n")
    hook = PodLogHook(["never read"], pods=[])

    log = read_job_log(hook, archive_settings(tmp_path), DRIVER, "moka", {**PARAMS, "pod": None})

    assert hook.calls == []
    assert (log.lines, log.source) == (["archived"], url)


def test_other_pod_errors_are_raised(tmp_path: Path):
    archive(tmp_path, "archived\n")
    hook = PodLogHook(error=api_error(403, "Forbidden"))

    with pytest.raises(MokaApiError) as raised:
        read_job_log(hook, archive_settings(tmp_path), DRIVER, "moka", PARAMS)

    assert raised.value.status == 403


def test_without_a_pod_name_reads_the_archive_only(tmp_path: Path):
    url = archive(tmp_path, "archived\n")
    hook = PodLogHook(["never read"])

    log = read_job_log(hook, archive_settings(tmp_path), None, "moka", PARAMS)

    assert hook.calls == []
    assert log.lines == ["archived"]
    assert log.source == url


def test_no_archive_template_is_reported_as_a_problem():
    hook = PodLogHook(error=api_error(404))

    log = read_job_log(hook, MokaSettings(), DRIVER, "moka", PARAMS)

    assert log.lines == []
    assert log.source is None
    assert log.problem is not None
    assert "log_archive_url" in log.problem
    assert "pod moka/pi-1a2b3c4d-driver: pod says 404" in log.problem


def test_missing_archive_is_reported_as_a_problem(tmp_path: Path):
    hook = PodLogHook(error=api_error(404))

    log = read_job_log(hook, archive_settings(tmp_path), DRIVER, "moka", PARAMS)

    assert log.source is None and log.lines == []
    assert log.problem is not None
    assert f"file://{tmp_path}/moka/pi-1a2b3c4d/pi-1a2b3c4d-driver.log" in log.problem
    assert "FileNotFoundError" in log.problem


# --- LogFollower -------------------------------------------------------------------------------------


class StreamingHook:
    """list_pods and read_pod_log of MokaHook: each log call replays the pod's log from its start,
    as the API does; ``pods`` is what a look finds (the newest counts)."""

    def __init__(self, streams: list[Callable[[], Iterator[str]]], pods: list[dict] | None = None) -> None:
        self.streams = streams
        self.pods = [pod()] if pods is None else pods
        self.calls = 0
        self.looks = 0
        self.follow: list[bool] = []
        self.read: list[str] = []

    def list_pods(self, selector: str, namespace: str) -> list[dict]:
        self.looks += 1
        return self.pods

    def read_pod_log(
        self, pod: str, namespace: str, *, container: str | None = None, follow: bool = False
    ) -> Iterator[str]:
        self.follow.append(follow)
        self.read.append(pod)
        stream = self.streams[min(self.calls, len(self.streams) - 1)]
        self.calls += 1
        return stream()


def lines(count: int) -> list[str]:
    return [f"line {i}" for i in range(1, count + 1)]


def dropped_after(count: int) -> Callable[[], Iterator[str]]:
    def stream() -> Iterator[str]:
        yield from lines(count)
        raise ConnectionResetError("stream dropped")

    return stream


def whole(count: int) -> Callable[[], Iterator[str]]:
    return lambda: iter(lines(count))


def not_found() -> Iterator[str]:
    raise api_error(404)
    yield  # a generator


def follow_until(hook: Any, done: Callable[[LogFollower], bool]) -> tuple[LogFollower, list[str]]:
    emitted: list[str] = []
    lock = threading.Lock()

    def emit(pod_name: str, line: str) -> None:
        with lock:
            emitted.append(line)

    follower = LogFollower(hook, "moka", lambda: DRIVER, emit).start()
    deadline = time.monotonic() + 10
    while not done(follower) and time.monotonic() < deadline:
        time.sleep(0.01)
    follower.stop(drain_seconds=5)
    return follower, emitted


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_FIRST_WAIT_SECONDS", 0.01)
    monkeypatch.setattr(logs, "_LONGEST_WAIT_SECONDS", 0.04)


def test_follower_skips_lines_already_passed_after_a_reconnect():
    hook = StreamingHook([dropped_after(5), dropped_after(12), whole(30)])

    follower, emitted = follow_until(hook, lambda f: f.count >= 30 and hook.calls >= 4)

    log_lines = [line for line in emitted if line.startswith("line ")]
    assert log_lines == lines(30)  # each once, in order, across three connections
    assert follower.count == 30
    notes = [line for line in emitted if not line.startswith("line ")]
    assert len(notes) == 2 and all("interrupted" in note and "pi-1a2b3c4d-driver" in note for note in notes)
    assert hook.follow[:-1] == [True] * (len(hook.follow) - 1) and hook.follow[-1] is False  # stop's read


def test_follower_keeps_the_last_lines_for_the_error_message():
    hook = StreamingHook([dropped_after(7), whole(ERROR_TAIL_LINES + 25)])

    follower, _ = follow_until(hook, lambda f: f.count >= ERROR_TAIL_LINES + 25)

    assert list(follower.tail) == lines(ERROR_TAIL_LINES + 25)[-ERROR_TAIL_LINES:]


def test_follower_waits_quietly_for_a_pod_not_there_yet():
    hook = StreamingHook([not_found, not_found, whole(3)])

    follower, emitted = follow_until(hook, lambda f: f.count >= 3)

    assert emitted == lines(3)  # no note about the 404s
    assert follower.count == 3
    assert hook.calls >= 3


def test_follower_reports_other_api_errors_and_keeps_trying():
    def forbidden() -> Iterator[str]:
        raise api_error(403, "Forbidden")
        yield

    hook = StreamingHook([forbidden, whole(2)])

    follower, emitted = follow_until(hook, lambda f: f.count >= 2)

    assert emitted[0].startswith("(following the log of pi-1a2b3c4d-driver failed: pod says 403")
    assert emitted[1:] == lines(2)
    assert follower.count == 2


def test_stop_ends_the_thread():
    hook = StreamingHook([whole(1)])

    follower, _ = follow_until(hook, lambda f: f.count >= 1)

    assert not follower._thread.is_alive()


def test_stop_passes_on_what_a_pod_that_ended_between_two_attempts_said():
    """No follow stream ever got through (the pod started and ended while the follower waited to
    try again); the job is over: stop reads the complete log."""

    class EndedBetweenAttempts(StreamingHook):
        def read_pod_log(
            self, pod: str, namespace: str, *, container: str | None = None, follow: bool = False
        ) -> Iterator[str]:
            self.follow.append(follow)
            return not_found() if follow else whole(4)()

    hook = EndedBetweenAttempts([])
    emitted: list[str] = []
    follower = LogFollower(hook, "moka", lambda: DRIVER, lambda pod, line: emitted.append(line)).start()
    while len(hook.follow) < 2:
        time.sleep(0.001)

    follower.stop(drain_seconds=5)

    assert emitted == lines(4)
    assert follower.count == 4


def test_stop_passes_on_only_the_lines_the_stream_had_not():
    def slow_after(count: int) -> Callable[[], Iterator[str]]:
        def stream() -> Iterator[str]:
            yield from lines(count)
            time.sleep(3)  # a stream too slow to finish within the drain time
            yield from lines(10)[count:]

        return stream

    hook = StreamingHook([slow_after(3)])
    emitted: list[str] = []
    follower = LogFollower(hook, "moka", lambda: DRIVER, lambda pod, line: emitted.append(line)).start()
    while follower.count < 3:
        time.sleep(0.001)

    hook.streams = [whole(10)]
    follower.stop(drain_seconds=0.1)
    assert emitted == lines(10)  # all of it, by the time stop returns

    time.sleep(3.2)  # the slow stream goes on, but passes nothing on any more
    assert emitted == lines(10)


def test_a_new_attempts_pod_is_followed_from_its_first_line_and_alone_in_the_tail():
    """A rerun reuses the driver's name (spark-operator OnFailure): the uid tells them apart."""
    hook = StreamingHook([lambda: iter(["attempt 1: a", "attempt 1: boom"])])
    emitted: list[str] = []
    follower = LogFollower(hook, "moka", lambda: DRIVER, lambda pod, line: emitted.append(line)).start()
    while follower.count < 2:
        time.sleep(0.001)
    hook.pods = [pod(uid="uid-2", created="2026-01-01T00:09:00Z")]
    hook.streams = [lambda: iter(["attempt 2: a"])]
    hook.calls = 0
    deadline = time.monotonic() + 5
    while "attempt 2: a" not in emitted and time.monotonic() < deadline:
        time.sleep(0.001)

    follower.stop(drain_seconds=5)

    assert emitted[:2] == ["attempt 1: a", "attempt 1: boom"]
    assert emitted[2] == "(a new attempt: following pod pi-1a2b3c4d-driver)"
    assert emitted[3:] == ["attempt 2: a"]
    assert list(follower.tail) == ["attempt 2: a"]  # a failure quotes the current attempt only


def test_a_pod_not_there_is_looked_for_less_and_less_often():
    hook = StreamingHook([whole(1)], pods=[])
    emitted: list[str] = []
    follower = LogFollower(hook, "moka", lambda: DRIVER, lambda pod, line: emitted.append(line)).start()

    time.sleep(0.5)
    follower.stop(drain_seconds=1)

    # waits of 0.01, 0.02, then 0.04 s: about 14 looks in half a second, not 50
    assert 5 <= hook.looks <= 20
    assert hook.calls == 0 and emitted == []


def test_an_ended_pod_read_to_its_end_is_not_followed_again():
    hook = StreamingHook([whole(3)], pods=[pod(ended=True)])
    emitted: list[str] = []
    follower = LogFollower(hook, "moka", lambda: DRIVER, lambda pod, line: emitted.append(line)).start()
    while follower.count < 3:
        time.sleep(0.001)
    time.sleep(0.3)

    follower.stop(drain_seconds=1)

    assert hook.follow.count(True) == 1  # followed once, then only looked for a newer pod
    assert emitted == lines(3)
