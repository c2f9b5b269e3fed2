"""One watch per (connection, namespace, kind of job) in an event loop, shared by every waiter.

A triggerer waits on thousands of jobs in one event loop. Watched one by one, every job costs a
watch connection, and every change to any job of the namespace is sent to every one of those
watches (the API server filters a field selector per watcher). Here the first waiter on a job of
some kind in a namespace starts one list + watch of that kind (narrowed by a label selector, the
provider's own label on the jobs it creates); every later waiter of that loop joins it, and is woken
only by the events about its own job (looked up by uid). The last waiter to leave stops the watch.

The watch is a :class:`~moka_provider.hooks.watching.WatchSession` carried on by
:meth:`MokaAsyncHook.follow`: bookmarks keep its resourceVersion fresh, a dropped request resumes
from it, and a 410 Gone re-lists and turns what changed in the gap into events (a job deleted
meanwhile into ``DELETED``). The session keeps the last (slim) version of every job it saw, so a
waiter that joins a running watch finds its job without a request of its own.

An API server that cannot be reached does not end the watch: it backs off (the hook's jittered
back-off, bounded) and tries again for as long as anyone waits, and tells each waiter so
(:class:`WatchTrouble`), whose own deadlines keep running. Answers no retry can mend (401 after new
credentials, 403, a missing CRD) end the watch and reach every waiter as the error.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.retrying import OutageWait
from moka_provider.hooks.watching import WatchEvent, WatchSession
from moka_provider.resources import CustomResource

log = logging.getLogger(__name__)

#: (connection id, namespace, API group, plural, label selector)
WatchKey = tuple[str, str, str, str, str | None]


@dataclass(frozen=True)
class WatchTrouble:
    """The shared watch could not reach the API server and tries again in ``pause`` seconds."""

    error: MokaApiError
    pause: float


class Subscription:
    """One waiter's view of a shared watch: its job as last seen, and the events about it."""

    def __init__(self, watch: SharedWatch, name: str, uid: str) -> None:
        self.watch = watch
        self.name = name
        self.uid = uid
        self._items: deque[WatchEvent | WatchTrouble | Exception] = deque()
        self._arrived = asyncio.Event()
        self._events_queued = 0
        known = watch.session.known(name)
        #: The job as the watch knew it when this waiter joined (every later change is queued).
        self.initial = known if known is not None and known["metadata"].get("uid") == uid else None

    @property
    def told(self) -> bool:
        """Whether the watch knows the job: it did when this waiter joined, or has sent an event
        about it since (the first list's, for a waiter that joined before the list was in)."""
        return self.initial is not None or self._events_queued > 0

    async def next(self, timeout: float | None) -> WatchEvent | WatchTrouble | None:
        """The next event about the job or trouble of the watch; ``None`` once ``timeout`` passed."""
        if not self._items:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return None
        item = self._items.popleft()
        if isinstance(item, Exception):
            raise item
        return item

    def put(self, item: WatchEvent | WatchTrouble | Exception) -> None:
        self._events_queued += isinstance(item, WatchEvent)
        self._items.append(item)
        self._arrived.set()


class SharedWatch:
    """The list + watch of one kind of job in one namespace, and who waits on which job."""

    def __init__(
        self,
        hook: Any,
        resource: CustomResource,
        namespace: str,
        label_selector: str | None,
        keep: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.hook = hook
        self.session = WatchSession(
            resource, namespace, label_selector=label_selector, policy=hook.retry_policy, keep=keep
        )
        self.failure: Exception | None = None
        self._subscribers: dict[str, set[Subscription]] = {}
        self._synced = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"moka watch {self.describe()}")

    def describe(self) -> str:
        selector = f" ({self.session.label_selector})" if self.session.label_selector else ""
        return f"{self.session.resource.kind} in {self.session.namespace}{selector}"

    def subscribe(self, name: str, uid: str) -> Subscription:
        subscription = Subscription(self, name, uid)
        self._subscribers.setdefault(uid, set()).add(subscription)
        if self.failure is not None:
            subscription.put(self.failure)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> bool:
        """Remove ``subscription``; whether nobody is left."""
        subscriptions = self._subscribers.get(subscription.uid, set())
        subscriptions.discard(subscription)
        if not subscriptions:
            self._subscribers.pop(subscription.uid, None)
        return not self._subscribers

    async def synced(self, timeout: float | None) -> bool:
        """Wait until the first list is in (or the watch failed); whether it is."""
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return self.failure is None

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise  # the caller is being cancelled too: let it go on

    async def _run(self) -> None:
        outage = OutageWait(self.hook.retry_policy)
        while True:
            try:
                if self.session.needs_list:
                    self._dispatch(await self.hook.relist(self.session))
                    self._synced.set()
                outage.recovered()
                async for event in self.hook.follow(self.session):
                    outage.recovered()
                    self._dispatch([event])
            except MokaApiError as error:
                try:
                    pause = outage.pause_after(error)
                except MokaApiError:
                    self._fail(error)
                    return
                log.warning("watch %s: %s; trying again in %.0fs", self.describe(), error, pause)
                self._broadcast(WatchTrouble(error, pause))
                await asyncio.sleep(pause)
            except Exception as error:  # a defect: every waiter fails with it rather than hang
                self._fail(error)
                return

    def _dispatch(self, events: list[WatchEvent]) -> None:
        for event in events:
            uid = str(event.object.get("metadata", {}).get("uid") or "")
            for subscription in self._subscribers.get(uid, ()):
                subscription.put(event)

    def _broadcast(self, item: WatchTrouble | Exception) -> None:
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.put(item)

    def _fail(self, error: Exception) -> None:
        log.error("watch %s failed: %s", self.describe(), error, exc_info=not isinstance(error, MokaApiError))
        self.failure = error
        self._synced.set()
        self._broadcast(error)
        forget(self)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[WatchKey, SharedWatch]] = (
    weakref.WeakKeyDictionary()
)


def running_watches() -> dict[WatchKey, SharedWatch]:
    """The shared watches of the running event loop, by key."""
    loop = asyncio.get_running_loop()
    found = _watches.get(loop)
    if found is None:
        found = _watches[loop] = {}
    return found


def forget(watch: SharedWatch) -> None:
    """Take ``watch`` out of its loop's registry: the next waiter starts a new one."""
    watches = running_watches()
    for key, registered in list(watches.items()):
        if registered is watch:
            del watches[key]


@asynccontextmanager
async def subscription(
    hook: Any,
    resource: CustomResource,
    namespace: str,
    label_selector: str | None,
    keep: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    name: str,
    uid: str,
) -> AsyncIterator[Subscription]:
    """Wait on the job ``namespace/name`` (``uid``) through the loop's shared watch of its kind."""
    watches = running_watches()
    key: WatchKey = (hook.moka_conn_id, namespace, resource.group, resource.plural, label_selector)
    watch = watches.get(key)
    if watch is None:
        watch = watches[key] = SharedWatch(hook, resource, namespace, label_selector, keep)
    subscribed = watch.subscribe(name, uid)
    try:
        yield subscribed
    finally:
        if watch.unsubscribe(subscribed) and watches.get(key) is watch:
            del watches[key]
            await watch.stop()
