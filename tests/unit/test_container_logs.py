"""The kubelet log API's reading rules over a container log file."""

from __future__ import annotations

import datetime

from moka_provider.local.container_logs import LogQuery, limited, stamp

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
