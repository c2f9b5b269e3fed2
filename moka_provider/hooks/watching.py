"""Watching custom objects: the bookkeeping that makes a watch resumable, shared by both hooks.

A Kubernetes watch is a long HTTP response of JSON lines. It ends when the server's timeout
passes, when the connection drops, or with a 410 Gone when the resourceVersion it resumes from
has been compacted away. :class:`WatchSession` holds what is needed to carry on after each of
those: the last resourceVersion seen (bookmarks included) and the last state of every object seen,
so that after a 410 the re-list can be turned into the events the consumer missed (including
deletions). It does no I/O: the hooks run the requests it asks for and feed it the lines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks import api_calls
from moka_provider.hooks.api_calls import ApiCall
from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.resources import CustomResource


@dataclass(frozen=True)
class WatchEvent:
    """A change to one object: ``ADDED``, ``MODIFIED`` or ``DELETED``, with the object after it."""

    type: str
    object: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.object.get("metadata", {}).get("name", ""))

    @property
    def resource_version(self) -> str:
        return str(self.object.get("metadata", {}).get("resourceVersion", ""))


#: Objects per page of a list: a namespace of thousands of jobs is never held whole (the slim form
#: of each is kept as the pages come).
LIST_PAGE_SIZE = 250


class WatchGone(Exception):
    """The resourceVersion to resume from is too old (HTTP 410 Gone): re-list and start over."""


class LineSplitter:
    """Cuts a byte stream into text lines; chunks need not end on line boundaries."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def rest(self) -> list[str]:
        rest, self._pending = self._pending, b""
        return [rest.decode("utf-8", "replace")] if rest else []

    def split(self, chunks: Iterable[bytes]) -> Iterator[str]:
        for chunk in chunks:
            yield from self.feed(chunk)
        yield from self.rest()


class WatchSession:
    """One logical watch of a resource type in a namespace, across as many requests as it takes."""

    def __init__(
        self,
        resource: CustomResource,
        namespace: str,
        *,
        name: str | None = None,
        label_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
        policy: RetryPolicy | None = None,
        keep: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """``keep`` turns each object into what is kept of it and yielded (by default the whole)."""
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = f"metadata.name={name}" if name else None
        self.resource_version = resource_version
        self.policy = policy or RetryPolicy()
        self._deadline = time.monotonic() + timeout if timeout is not None else None
        self._keep = keep or _whole
        self._known: dict[str, dict[str, Any]] = {}
        self._failures = 0
        self._listing: list[dict[str, Any]] = []  # the pages of a list in progress
        self._continue: str | None = None

    def known(self, name: str) -> dict[str, Any] | None:
        """The object ``name`` as last seen (listed or watched); ``None`` if not seen or deleted."""
        return self._known.get(name)

    @property
    def needs_list(self) -> bool:
        """True until a resourceVersion to watch from is known."""
        return not self.resource_version

    def list_call(self) -> ApiCall:
        """The request for the next page of the (re-)list."""
        return api_calls.list_objects(
            self.resource,
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            limit=LIST_PAGE_SIZE,
            continue_token=self._continue,
        )

    def take_page(self, page: dict[str, Any]) -> list[WatchEvent] | None:
        """Read one page of the list; ``None`` while more pages follow, then what :meth:`listed`
        returns for the whole list. Only what ``keep`` keeps of each object stays in memory."""
        self._listing += [self._keep(item) for item in page.get("items") or []]
        metadata = page.get("metadata") or {}
        if metadata.get("continue"):
            self._continue = str(metadata["continue"])
            return None
        items, self._listing, self._continue = self._listing, [], None
        return self.listed({"metadata": metadata, "items": items})

    def list_expired(self, error: MokaApiError) -> None:
        """Go on after ``error`` answered a page: a continued list whose snapshot was compacted
        away (410 Gone) starts again from its first page; anything else is raised."""
        if error.status != 410 or self._continue is None:
            raise error
        self._listing, self._continue = [], None

    def next_watch_call(self) -> ApiCall | None:
        """The next watch request, or ``None`` once the session's timeout has passed."""
        seconds = float(api_calls.WATCH_REQUEST_SECONDS)
        if self._deadline is not None:
            seconds = min(seconds, self._deadline - time.monotonic())
            if seconds <= 0:
                return None
        assert self.resource_version, "list before watching"
        return api_calls.watch_objects(
            self.resource,
            self.namespace,
            self.resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=max(1, int(seconds)),
        )

    def listed(self, listing: dict[str, Any]) -> list[WatchEvent]:
        """Take a (re-)list as the new state; return the events that lead to it from what was known."""
        self.resource_version = str(listing.get("metadata", {}).get("resourceVersion") or "")
        current = {item["metadata"]["name"]: item for item in listing.get("items") or []}
        events = []
        for name, item in current.items():
            before = self._known.get(name)
            if before is None:
                events.append(WatchEvent("ADDED", item))
            elif before["metadata"].get("resourceVersion") != item["metadata"].get("resourceVersion"):
                events.append(WatchEvent("MODIFIED", item))
        events += [WatchEvent("DELETED", item) for name, item in self._known.items() if name not in current]
        self._known = current
        return events

    def on_line(self, line: str) -> WatchEvent | None:
        """Read one line of a watch response; ``None`` for bookmarks and blank lines."""
        if not line.strip():
            return None
        raw = json.loads(line)
        kind, obj = raw.get("type"), raw.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise WatchGone(obj.get("message", "resource version too old"))
            raise MokaApiError(
                f"watch {self.resource.kind} in {self.namespace}",
                obj.get("code"),
                obj.get("reason", "Error"),
                obj.get("message", "the watch reported an error"),
            )
        self.resource_version = obj.get("metadata", {}).get("resourceVersion") or self.resource_version
        self._failures = 0
        if kind == "BOOKMARK":
            return None
        event = WatchEvent(str(kind), self._keep(obj))
        if kind == "DELETED":
            self._known.pop(event.name, None)
        else:
            self._known[event.name] = event.object
        return event

    def request_ended(self) -> None:
        """A watch request ended as the server ended it (its timeout passed): nothing went wrong.

        A job whose status does not change for hours makes every request end this way, with no
        line at all; such ends must not add up to a failure.
        """
        self._failures = 0

    def recover(self, problem: Exception) -> float | None:
        """Decide how to go on after a watch request failed or was cut.

        Returns ``None`` to re-list (410 Gone), or the seconds to wait before resuming from the last
        resourceVersion. Re-raises what is not worth retrying, and gives up after
        ``policy.attempts`` failures in a row without an event in between.
        """
        if isinstance(problem, WatchGone) or (isinstance(problem, MokaApiError) and problem.status == 410):
            return None
        if not isinstance(problem, MokaApiError) or not problem.retryable:
            raise problem
        self._failures += 1
        if self._failures >= self.policy.attempts:
            raise problem
        return self.policy.pause_after(problem, self._failures)


def _whole(obj: dict[str, Any]) -> dict[str, Any]:
    return obj
