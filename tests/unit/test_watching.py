"""LineSplitter and WatchSession: the I/O-free bookkeeping of a resumable watch."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks import api_calls
from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.hooks.watching import LIST_PAGE_SIZE, LineSplitter, WatchEvent, WatchGone, WatchSession
from moka_provider.resources import RAY_JOB, SPARK_APPLICATION

# --- LineSplitter ---------------------------------------------------------------------------------


def test_splitter_joins_a_line_cut_across_chunks():
    splitter = LineSplitter()

    assert splitter.feed(b'{"type": "ADD') == []
    assert splitter.feed(b'ED"}\n{"type":') == ['{"type": "ADDED"}']
    assert splitter.feed(b' "MODIFIED"}\n') == ['{"type": "MODIFIED"}']
    assert splitter.rest() == []


def test_splitter_joins_a_multibyte_character_cut_across_chunks():
    encoded = "naïve ✓ 😀\n".encode()
    splitter = LineSplitter()

    lines = []
    for i in range(len(encoded)):  # one byte at a time cuts every multi-byte character
        lines += splitter.feed(encoded[i : i + 1])

    assert lines == ["naïve ✓ 😀"]
    assert "\ufffd" not in lines[0]


def test_splitter_gives_several_lines_of_one_chunk_and_empty_lines():
    assert LineSplitter().feed(b"a\n\nb\nc") == ["a", "", "b"]


def test_splitter_rest_returns_the_unterminated_line_once():
    splitter = LineSplitter()
    splitter.feed(b"first\nsec")
    splitter.feed("ond é".encode())

    assert splitter.rest() == ["second é"]
    assert splitter.rest() == []


def test_splitter_split_iterates_chunks_and_the_rest():
    chunks = [b"one\ntw", b"o\nth", "ree ü".encode()[:-1], "ü".encode()[-1:]]

    assert list(LineSplitter().split(chunks)) == ["one", "two", "three ü"]


# --- WatchSession: listing ------------------------------------------------------------------------


def obj(name: str, rv: str, **status) -> dict:
    item = {
        "apiVersion": SPARK_APPLICATION.api_version,
        "kind": SPARK_APPLICATION.kind,
        "metadata": {"name": name, "namespace": "moka", "resourceVersion": rv},
    }
    if status:
        item["status"] = status
    return item


def listing(rv: str, *items: dict) -> dict:
    return {"metadata": {"resourceVersion": rv}, "items": list(items)}


def line(kind: str, item: dict) -> str:
    return json.dumps({"type": kind, "object": item})


def session(**kwargs) -> WatchSession:
    return WatchSession(SPARK_APPLICATION, "moka", **kwargs)


def test_needs_list_until_a_resource_version_is_known():
    assert session().needs_list
    assert not session(resource_version="42").needs_list


def test_list_call():
    call = session(name="pi", label_selector="team=a").list_call()

    assert call.method == "list_namespaced_custom_object"
    assert call.kwargs["field_selector"] == "metadata.name=pi"
    assert call.kwargs["label_selector"] == "team=a"
    assert call.kwargs["plural"] == "sparkapplications"
    assert call.kwargs["limit"] == LIST_PAGE_SIZE
    assert "watch" not in call.kwargs and "_continue" not in call.kwargs


def test_a_list_is_read_page_by_page_keeping_what_keep_keeps():
    watch = WatchSession(SPARK_APPLICATION, "moka", keep=lambda obj: {"metadata": obj["metadata"]})
    a, b = obj("a", "5"), obj("b", "6")
    a["spec"] = {"big": "x" * 1000}

    first = watch.take_page({"metadata": {"resourceVersion": "12", "continue": "token-1"}, "items": [a]})
    assert first is None
    assert watch.list_call().kwargs["_continue"] == "token-1"
    events = watch.take_page({"metadata": {"resourceVersion": "12"}, "items": [b]})

    assert [(event.type, event.name) for event in events or []] == [("ADDED", "a"), ("ADDED", "b")]
    assert watch.known("a") == {"metadata": a["metadata"]}
    assert watch.resource_version == "12"
    assert "_continue" not in watch.list_call().kwargs


def test_a_continued_list_that_expired_starts_again_and_other_errors_are_raised():
    watch = WatchSession(SPARK_APPLICATION, "moka")
    expired = MokaApiError("list SparkApplication in moka", 410, "Expired", "continue token too old")

    with pytest.raises(MokaApiError):
        watch.list_expired(expired)  # not a continued list: nothing to start again
    watch.take_page({"metadata": {"resourceVersion": "12", "continue": "token-1"}, "items": [obj("a", "5")]})
    watch.list_expired(expired)
    events = watch.take_page({"metadata": {"resourceVersion": "20"}, "items": [obj("b", "6")]})

    assert [event.name for event in events or []] == ["b"]  # the first attempt's page is dropped
    forbidden = MokaApiError("list SparkApplication in moka", 403, "Forbidden", "no")
    with pytest.raises(MokaApiError):
        watch.list_expired(forbidden)


def test_first_list_adds_every_item():
    watch = session()
    a, b = obj("a", "10"), obj("b", "11")

    events = watch.listed(listing("12", a, b))

    assert events == [WatchEvent("ADDED", a), WatchEvent("ADDED", b)]
    assert [event.name for event in events] == ["a", "b"]
    assert [event.resource_version for event in events] == ["10", "11"]
    assert watch.resource_version == "12"
    assert not watch.needs_list


def test_empty_first_list_still_gives_a_resource_version():
    watch = session()

    assert watch.listed({"metadata": {"resourceVersion": "7"}, "items": None}) == []
    assert watch.resource_version == "7"


def test_relist_reports_what_changed_in_between():
    watch = session()
    watch.listed(listing("12", obj("same", "10"), obj("changed", "11"), obj("gone", "9")))

    changed = obj("changed", "15", state="RUNNING")
    new = obj("new", "16")
    events = watch.listed(listing("20", obj("same", "10"), changed, new))

    assert sorted((event.type, event.name) for event in events) == [
        ("ADDED", "new"),
        ("DELETED", "gone"),
        ("MODIFIED", "changed"),
    ]
    assert next(event for event in events if event.type == "MODIFIED").object == changed
    deleted = next(event for event in events if event.type == "DELETED")
    assert deleted.resource_version == "9"  # the last state seen
    assert watch.resource_version == "20"


def test_relist_without_changes_reports_nothing():
    watch = session()
    watch.listed(listing("12", obj("a", "10")))

    assert watch.listed(listing("30", obj("a", "10"))) == []
    assert watch.resource_version == "30"


def test_relist_after_deleted_does_not_report_it_again():
    watch = session()
    watch.listed(listing("12", obj("a", "10"), obj("b", "11")))
    event = watch.on_line(line("DELETED", obj("a", "13")))
    assert event is not None
    assert (event.type, event.name) == ("DELETED", "a")

    assert watch.listed(listing("14", obj("b", "11"))) == []


# --- WatchSession: watch lines --------------------------------------------------------------------


def test_on_line_added_and_modified_update_resource_version_and_known_state():
    watch = session(resource_version="1")

    added = watch.on_line(line("ADDED", obj("a", "5")))
    assert added == WatchEvent("ADDED", obj("a", "5"))
    assert watch.resource_version == "5"

    modified = watch.on_line(line("MODIFIED", obj("a", "6", state="COMPLETED")))
    assert modified is not None
    assert modified.type == "MODIFIED"
    assert modified.object["status"] == {"state": "COMPLETED"}
    assert watch.resource_version == "6"

    # What the watch said is what a re-list is compared with.
    assert watch.listed(listing("7", obj("a", "6", state="COMPLETED"))) == []


def test_on_line_added_then_relist_without_it_is_deleted():
    watch = session(resource_version="1")
    watch.on_line(line("ADDED", obj("a", "5")))

    events = watch.listed(listing("8"))

    assert [(event.type, event.name) for event in events] == [("DELETED", "a")]


@pytest.mark.parametrize("text", ["", "   ", "\r"])
def test_blank_lines_are_ignored(text):
    watch = session(resource_version="3")

    assert watch.on_line(text) is None
    assert watch.resource_version == "3"


def test_bookmark_advances_resource_version_without_an_event():
    watch = session(resource_version="3")
    bookmark = {
        "kind": "SparkApplication",
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "metadata": {"resourceVersion": "99", "annotations": {"k8s.io/initial-events-end": "true"}},
    }

    assert watch.on_line(json.dumps({"type": "BOOKMARK", "object": bookmark})) is None
    assert watch.resource_version == "99"
    call = watch.next_watch_call()
    assert call is not None
    assert call.kwargs["resource_version"] == "99"


def test_error_410_raises_watch_gone():
    watch = session(resource_version="3")
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": "too old resource version: 3 (120)",
        "reason": "Expired",
        "code": 410,
    }

    with pytest.raises(WatchGone, match="too old resource version"):
        watch.on_line(json.dumps({"type": "ERROR", "object": status}))
    assert watch.resource_version == "3"


def test_other_error_raises_moka_api_error_with_its_status():
    watch = session(resource_version="3")
    status = {"kind": "Status", "message": "etcd leader changed", "reason": "InternalError", "code": 500}

    with pytest.raises(MokaApiError) as caught:
        watch.on_line(json.dumps({"type": "ERROR", "object": status}))

    assert caught.value.status == 500
    assert caught.value.reason == "InternalError"
    assert caught.value.message == "etcd leader changed"
    assert caught.value.operation == "watch SparkApplication in moka"
    assert caught.value.retryable


# --- WatchSession: recovery -----------------------------------------------------------------------


def error(status: int | None, retry_after: float | None = None) -> MokaApiError:
    return MokaApiError(
        "watch SparkApplication in moka", status, "Reason", "message", retry_after=retry_after
    )


def test_recover_relists_after_gone():
    watch = session(resource_version="3")

    assert watch.recover(WatchGone("too old")) is None
    assert watch.recover(error(410)) is None


def test_recover_pauses_longer_after_each_failure():
    policy = RetryPolicy(attempts=6, initial_wait=0.01, max_wait=60.0)
    watch = session(resource_version="3", policy=policy)

    pauses = []
    for _ in range(5):
        pause = watch.recover(error(503))
        assert isinstance(pause, float)
        pauses.append(pause)

    assert all(earlier < later for earlier, later in itertools.pairwise(pauses))
    for failures, pause in enumerate(pauses, start=1):
        assert pause >= 0.01 * 2 ** (failures - 1)


def test_recover_pause_is_capped_by_max_wait():
    policy = RetryPolicy(attempts=20, initial_wait=0.01, max_wait=0.05)
    watch = session(resource_version="3", policy=policy)

    pauses = [watch.recover(error(503)) for _ in range(15)]

    # Back-off stops growing at max_wait (any jitter is at most one initial_wait on top).
    assert all(pause is not None and pause <= 0.05 + 0.01 for pause in pauses)
    assert all(pause is not None and pause >= 0.05 for pause in pauses[5:])


def test_recover_counts_transport_errors():
    watch = session(resource_version="3", policy=RetryPolicy(attempts=3, initial_wait=0.25))

    first = watch.recover(error(None))
    second = watch.recover(error(None))

    assert first is not None and first >= 0.25
    assert second is not None and second >= 0.5
    with pytest.raises(MokaApiError):
        watch.recover(error(None))


def test_recover_honours_retry_after_capped():
    watch = session(resource_version="3", policy=RetryPolicy(attempts=5, max_retry_after=10.0))

    assert watch.recover(error(429, retry_after=0.05)) == 0.05
    assert watch.recover(error(429, retry_after=600.0)) == 10.0


def test_recover_gives_up_after_attempts_failures_in_a_row():
    watch = session(resource_version="3", policy=RetryPolicy(attempts=3, initial_wait=0.01))
    last = error(502)

    assert watch.recover(error(503)) is not None
    assert watch.recover(error(500)) is not None
    with pytest.raises(MokaApiError) as caught:
        watch.recover(last)
    assert caught.value is last


def test_recover_count_is_reset_by_a_line_read():
    watch = session(resource_version="3", policy=RetryPolicy(attempts=4, initial_wait=0.01, max_wait=60.0))

    watch.recover(error(503))
    watch.recover(error(503))
    third = watch.recover(error(503))
    assert third is not None and third >= 0.04
    watch.on_line(line("MODIFIED", obj("a", "4")))

    # The count starts again: the pause is the first failure's, and giving up is attempts away again.
    again = watch.recover(error(503))
    assert again is not None and 0.01 <= again <= 0.02
    watch.recover(error(503))
    watch.recover(error(503))
    with pytest.raises(MokaApiError):
        watch.recover(error(503))


def test_recover_count_is_reset_when_a_request_ends_as_the_server_ends_it():
    """Hours of quiet watch requests, each cut once in a while, never add up to a failure."""
    watch = session(resource_version="3", policy=RetryPolicy(attempts=2, initial_wait=0.01))

    for _ in range(10):
        assert watch.recover(error(None)) is not None
        watch.request_ended()

    watch.recover(error(None))
    with pytest.raises(MokaApiError):
        watch.recover(error(None))


def test_recover_count_is_reset_by_a_bookmark():
    watch = session(resource_version="3", policy=RetryPolicy(attempts=2, initial_wait=0.01))

    watch.recover(error(503))
    watch.on_line(json.dumps({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}))

    pause = watch.recover(error(503))  # would raise without the reset (2 failures, 2 attempts)
    assert pause is not None and 0.01 <= pause <= 0.02
    with pytest.raises(MokaApiError):
        watch.recover(error(503))


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_recover_reraises_non_retryable_api_errors(status):
    watch = session(resource_version="3")
    problem = error(status)

    with pytest.raises(MokaApiError) as caught:
        watch.recover(problem)
    assert caught.value is problem


@pytest.mark.parametrize("problem", [ValueError("bad line"), KeyError("metadata"), ConnectionResetError()])
def test_recover_reraises_other_exceptions(problem):
    watch = session(resource_version="3")

    with pytest.raises(type(problem)) as caught:
        watch.recover(problem)
    assert caught.value is problem


# --- WatchSession: the next request ---------------------------------------------------------------


def test_next_watch_call():
    watch = session(name="pi", label_selector="app=moka")
    watch.listed(listing("41"))

    call = watch.next_watch_call()

    assert call is not None
    assert call.method == "list_namespaced_custom_object"
    assert call.stream
    assert call.kwargs["watch"] is True
    assert call.kwargs["resource_version"] == "41"
    assert call.kwargs["allow_watch_bookmarks"] is True
    assert call.kwargs["field_selector"] == "metadata.name=pi"
    assert call.kwargs["label_selector"] == "app=moka"
    assert call.kwargs["timeout_seconds"] == api_calls.WATCH_REQUEST_SECONDS
    assert call.kwargs["namespace"] == "moka"
    assert call.kwargs["group"] == SPARK_APPLICATION.group


def test_next_watch_call_without_name_has_no_field_selector():
    watch = WatchSession(RAY_JOB, "jobs", resource_version="5")

    call = watch.next_watch_call()

    assert call is not None
    assert "field_selector" not in call.kwargs
    assert "label_selector" not in call.kwargs
    assert call.kwargs["plural"] == "rayjobs"
    assert call.operation == "watch RayJob in jobs"


def test_next_watch_call_follows_the_latest_resource_version():
    watch = session(resource_version="5")
    watch.on_line(line("ADDED", obj("a", "8")))

    call = watch.next_watch_call()

    assert call is not None
    assert call.kwargs["resource_version"] == "8"


def test_next_watch_call_is_bounded_by_the_session_timeout():
    watch = session(resource_version="5", timeout=30.0)

    call = watch.next_watch_call()

    assert call is not None
    assert 1 <= call.kwargs["timeout_seconds"] <= 30


def test_next_watch_call_is_none_once_the_timeout_passed():
    assert session(resource_version="5", timeout=0.0).next_watch_call() is None

    watch = session(resource_version="5", timeout=0.1)
    assert watch.next_watch_call() is not None
    time.sleep(0.12)
    assert watch.next_watch_call() is None
