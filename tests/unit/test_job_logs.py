"""read_job_log (pod, then the log archive through ObjectStoragePath) and LogFollower."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.connection_settings import MokaSettings
from moka_provider.jobs import logs
from moka_provider.jobs.logs import ERROR_TAIL_LINES, LogFollower, read_job_log

PARAMS = {"namespace": "moka", "name": "pi-1a2b3c4d", "pod": "pi-1a2b3c4d-driver"}


def api_error(status: int, reason: str = "NotFound") -> MokaApiError:
    return MokaApiError("read log of pod moka/pi-1a2b3c4d-driver", status, reason, f"pod says {status}")


class PodLogHook:
    """read_pod_log of MokaHook: yields given lines, or raises when iterated."""

    def __init__(self, lines: list[str] | None = None, error: Exception | None = None) -> None:
        self.lines = lines or []
        self.error = error
        self.calls: list[tuple[str, str]] = []

    def read_pod_log(self, pod: str, namespace: str, **kwargs: Any) -> Iterator[str]:
        self.calls.append((pod, namespace))
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

    log = read_job_log(hook, archive_settings(tmp_path), PARAMS["pod"], "moka", PARAMS)

    assert log.lines == ["live 1", "live 2"]
    assert log.source == "pod moka/pi-1a2b3c4d-driver"
    assert log.problem is None


@pytest.mark.parametrize("status", [404, 400])
def test_falls_back_to_the_archive_when_the_pod_is_gone(tmp_path: Path, status: int):
    url = archive(tmp_path, "line one\nline two\nPi is roughly 3.14\n")
    hook = PodLogHook(error=api_error(status))

    log = read_job_log(hook, archive_settings(tmp_path), PARAMS["pod"], "moka", PARAMS)

    assert hook.calls == [(PARAMS["pod"], "moka")]
    assert log.lines == ["line one", "line two", "Pi is roughly 3.14"]
    assert log.source == url


def test_other_pod_errors_are_raised(tmp_path: Path):
    archive(tmp_path, "archived\n")
    hook = PodLogHook(error=api_error(403, "Forbidden"))

    with pytest.raises(MokaApiError) as raised:
        read_job_log(hook, archive_settings(tmp_path), PARAMS["pod"], "moka", PARAMS)

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

    log = read_job_log(hook, MokaSettings(), PARAMS["pod"], "moka", PARAMS)

    assert log.lines == []
    assert log.source is None
    assert log.problem is not None
    assert "log_archive_url" in log.problem
    assert "pod moka/pi-1a2b3c4d-driver: pod says 404" in log.problem


def test_missing_archive_is_reported_as_a_problem(tmp_path: Path):
    hook = PodLogHook(error=api_error(404))

    log = read_job_log(hook, archive_settings(tmp_path), PARAMS["pod"], "moka", PARAMS)

    assert log.source is None and log.lines == []
    assert log.problem is not None
    assert f"file://{tmp_path}/moka/pi-1a2b3c4d/pi-1a2b3c4d-driver.log" in log.problem
    assert "FileNotFoundError" in log.problem


# --- LogFollower -------------------------------------------------------------------------------------


class StreamingHook:
    """read_pod_log(follow=True): each call replays the log from its start, as the API does."""

    def __init__(self, streams: list[Callable[[], Iterator[str]]]) -> None:
        self.streams = streams
        self.calls = 0
        self.follow: list[bool] = []

    def read_pod_log(self, pod: str, namespace: str, *, follow: bool = False) -> Iterator[str]:
        self.follow.append(follow)
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

    def emit(line: str) -> None:
        with lock:
            emitted.append(line)

    follower = LogFollower(hook, "pi-driver", "moka", emit).start()
    deadline = time.monotonic() + 10
    while not done(follower) and time.monotonic() < deadline:
        time.sleep(0.01)
    follower.stop(drain_seconds=5)
    return follower, emitted


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_RETRY_SECONDS", 0.01)


def test_follower_skips_lines_already_passed_after_a_reconnect():
    hook = StreamingHook([dropped_after(5), dropped_after(12), whole(30)])

    follower, emitted = follow_until(hook, lambda f: f.count >= 30 and hook.calls >= 4)

    log_lines = [line for line in emitted if line.startswith("line ")]
    assert log_lines == lines(30)  # each once, in order, across three connections
    assert follower.count == 30
    notes = [line for line in emitted if not line.startswith("line ")]
    assert len(notes) == 2 and all("interrupted" in note and "pi-driver" in note for note in notes)
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

    assert emitted[0].startswith("(following the log of pi-driver failed: pod says 403")
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
        def read_pod_log(self, pod: str, namespace: str, *, follow: bool = False) -> Iterator[str]:
            self.follow.append(follow)
            return not_found() if follow else whole(4)()

    hook = EndedBetweenAttempts([])
    emitted: list[str] = []
    follower = LogFollower(hook, "pi-driver", "moka", emitted.append).start()
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
    follower = LogFollower(hook, "pi-driver", "moka", emitted.append).start()
    while follower.count < 3:
        time.sleep(0.001)

    hook.streams = [whole(10)]
    follower.stop(drain_seconds=0.1)
    assert emitted == lines(10)  # all of it, by the time stop returns

    time.sleep(3.2)  # the slow stream goes on, but passes nothing on any more
    assert emitted == lines(10)
