"""The kubelet log API's reading rules over a container log file, and the log archive copy."""

from __future__ import annotations

import datetime
from pathlib import Path

from moka_provider.local.container_logs import (
    LogQuery,
    archive_path,
    archive_pod_log,
    limited,
    log_path,
    stamp,
)

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.UTC)
LINES = [
    stamp("first", NOW - datetime.timedelta(minutes=30)),
    stamp("second", NOW - datetime.timedelta(minutes=5)),
    stamp("third", NOW - datetime.timedelta(seconds=10)),
]


def test_stamp_keeps_text_and_orders_by_time() -> None:
    assert LINES[0].startswith("2026-11-25T11:30:00.000000Z ")
    assert LINES[0].endswith(" first\n")
    assert stamp("with newline\n", NOW) == stamp("with newline", NOW)


def test_whole_log_without_timestamps() -> None:
    assert LogQuery().initial(LINES) == ["first\n", "second\n", "third\n"]


def test_tail_lines() -> None:
    assert LogQuery.from_params({"tailLines": "2"}, NOW).initial(LINES) == ["second\n", "third\n"]
    assert LogQuery.from_params({"tailLines": "0"}, NOW).initial(LINES) == []


def test_since_seconds_and_since_time() -> None:
    assert LogQuery.from_params({"sinceSeconds": "600"}, NOW).initial(LINES) == ["second\n", "third\n"]
    since_time = LogQuery.from_params({"sinceTime": "2026-11-25T11:59:00Z"}, NOW)
    assert since_time.initial(LINES) == ["third\n"]


def test_since_then_tail() -> None:
    query = LogQuery.from_params({"sinceSeconds": "3600", "tailLines": "1"}, NOW)
    assert query.initial(LINES) == ["third\n"]


def test_timestamps_and_follow_flags() -> None:
    query = LogQuery.from_params({"timestamps": "true", "follow": "true"}, NOW)
    assert query.follow
    assert query.initial(LINES[:1]) == [LINES[0]]


def test_limit_bytes_cuts_mid_line() -> None:
    assert b"".join(limited(iter(["first\n", "second\n"]), 8)) == b"first\nse"
    assert b"".join(limited(iter(["first\n"]), None)) == b"first\n"
    assert list(limited(iter(["x"]), 0)) == []


def write_log(pods_dir: Path, pod: str, container: str, lines: list[str]) -> None:
    path = log_path(pods_dir, "team-a", pod, container)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(stamp(line, NOW) for line in lines))


def test_archive_keeps_the_lines_without_timestamps(tmp_path: Path) -> None:
    pods, archive = tmp_path / "pods", tmp_path / "archive"
    write_log(
        pods, "spark-pi-driver", "driver", ["Pi is roughly 3.14", "", "  indented  with  spaces", "é ✓"]
    )

    written = archive_pod_log(pods, archive, "team-a", "spark-pi-driver", ["driver"])

    assert written == archive / "team-a" / "spark-pi-driver.log"
    assert written == archive_path(archive, "team-a", "spark-pi-driver")
    assert written.read_text() == "Pi is roughly 3.14\n\n  indented  with  spaces\né ✓\n"
    assert [p.name for p in written.parent.iterdir()] == ["spark-pi-driver.log"]  # no temporary left


def test_archive_again_overwrites(tmp_path: Path) -> None:
    pods, archive = tmp_path / "pods", tmp_path / "archive"
    write_log(pods, "p", "main", ["first"])
    archive_pod_log(pods, archive, "team-a", "p", ["main"])
    write_log(pods, "p", "main", ["first", "second"])

    written = archive_pod_log(pods, archive, "team-a", "p", ["main"])

    assert written is not None
    assert written.read_text() == "first\nsecond\n"


def test_archive_of_several_containers_appends_them_by_name(tmp_path: Path) -> None:
    pods, archive = tmp_path / "pods", tmp_path / "archive"
    write_log(pods, "p", "sidecar", ["from sidecar"])
    write_log(pods, "p", "main", ["from main 1", "from main 2"])
    write_log(pods, "p", "empty", [])

    written = archive_pod_log(pods, archive, "team-a", "p", ["sidecar", "missing", "main", "empty"])

    assert written is not None
    assert written.read_text() == "from main 1\nfrom main 2\nfrom sidecar\n"


def test_archive_of_a_pod_without_logs_writes_nothing(tmp_path: Path) -> None:
    pods, archive = tmp_path / "pods", tmp_path / "archive"
    write_log(pods, "earlier", "main", ["kept"])
    archive_pod_log(pods, archive, "team-a", "earlier", ["main"])

    assert archive_pod_log(pods, archive, "team-a", "never-started", ["main"]) is None
    assert not archive_path(archive, "team-a", "never-started").exists()
    assert archive_path(archive, "team-a", "earlier").read_text() == "kept\n"


async def test_a_followed_line_the_shim_is_still_writing_comes_whole(tmp_path: Path) -> None:
    """A stream that starts while the last line is half written sends that line once, whole, and
    every line written before the exit record, as a kubelet streams a container's log."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from moka_provider.local.container_logs import exit_path
    from moka_provider.local.kubelet import LogServer

    log = log_path(tmp_path, "moka", "driver", "spark")
    log.parent.mkdir(parents=True)
    last = stamp("semi;colon")
    log.write_text(LINES[0] + last[:-5])  # the shim is mid-line
    app = web.Application()
    app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", LogServer(tmp_path).container_logs)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/containerLogs/moka/driver/spark", params={"follow": "true"})
        await asyncio.sleep(0.3)
        with log.open("a") as out:
            out.write(last[-5:] + stamp("after"))
        exit_path(tmp_path, "moka", "driver", "spark").write_text("{}")
        text = await asyncio.wait_for(response.text(), 10)
    assert text.splitlines() == ["first", "semi;colon", "after"]
