"""The triggerer side of ``bench_triggerer.py``: N triggers waiting in one asyncio loop.

    python scripts/bench_triggerer_child.py moka|pods NAMES_FILE --namespace NS --conn-id ID

Run by ``bench_triggerer.py`` in a fresh interpreter per phase, so that the phase's memory is not
mixed with another phase's or with the benchmark's own API clients (the status writer and the
metrics reader live in the parent). Talks to the parent by JSON lines: on its own stdout (anything
else printed goes to stderr) and, from the parent, on stdin.

1. Counts, from before anything imports them: ``kubernetes_asyncio`` API clients made
   (``ApiClient.__init__``), kubeconfig loads (``config.load_kube_config`` and
   ``load_kube_config_from_dict``) and every HTTP request (``RESTClientObject.request``: start and
   end on the monotonic clock, method, HTTP status, and the trigger whose task made it, by a
   context variable that tasks inherit). Then imports Airflow and the trigger's module, and
   reports ``{"ready": RSS}``.
2. On ``start`` from the parent, starts one task per name, each running the trigger's ``run()``
   until its first TriggerEvent, whose time it records.
3. Reports ``{"settled": ...}`` once every trigger that made a request has paused (see
   :func:`waiting_since`; null after ``--settle-timeout``), then keeps waiting.
4. On ``mark``, notes the counts of API clients and kubeconfig loads so far.
5. On ``stop`` from the parent, or when every trigger has fired, reports everything and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import datetime
import functools
import importlib
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import aclosing
from typing import Any, TextIO

# How long a trigger makes no request before it counts as waiting: MokaJobTrigger's steady state
# makes none (besides watch renewals), KubernetesPodTrigger's polls its pod every 2 s.
SETTLE_GAP = {"moka": 5.0, "pods": 1.0}
POD_CONTAINER = "base"
SHARED = "-"  # requests made outside any trigger's task

current_trigger: contextvars.ContextVar[str] = contextvars.ContextVar("current_trigger", default=SHARED)


class Counters:
    """What the process asked of the API, counted by wrapping kubernetes_asyncio."""

    def __init__(self) -> None:
        self.api_clients = 0
        self.kubeconfig_loads = 0
        # (trigger, method, start, end, status); status 0: no HTTP answer (cancelled, transport error)
        self.requests: list[tuple[str, str, float, float, int]] = []
        self.in_flight: dict[str, int] = {}
        self.marked: dict[str, int] = {}

    def mark(self) -> None:
        self.marked = {
            "api_clients_at_mark": self.api_clients,
            "kubeconfig_loads_at_mark": self.kubeconfig_loads,
        }

    def install(self) -> None:
        from kubernetes_asyncio import config
        from kubernetes_asyncio.client import api_client, rest
        from kubernetes_asyncio.config import kube_config

        original_init = api_client.ApiClient.__init__

        @functools.wraps(original_init)
        def counted_init(client: Any, *args: Any, **kwargs: Any) -> None:
            self.api_clients += 1
            original_init(client, *args, **kwargs)

        setattr(api_client.ApiClient, "__init__", counted_init)  # noqa: B010  (mypy: no method-assign)
        for name in ("load_kube_config", "load_kube_config_from_dict"):
            counted = self._count_loads(getattr(kube_config, name))
            setattr(config, name, counted)
            setattr(kube_config, name, counted)
        rest.RESTClientObject.request = self._timed(rest.RESTClientObject.request)  # type: ignore[method-assign]

    def _count_loads(self, load: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(load)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.kubeconfig_loads += 1
            return await load(*args, **kwargs)

        return counted

    def _timed(self, request: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(request)
        async def timed(client: Any, method: str, *args: Any, **kwargs: Any) -> Any:
            trigger = current_trigger.get()
            self.in_flight[trigger] = self.in_flight.get(trigger, 0) + 1
            started, status = time.monotonic(), 0
            try:
                response = await request(client, method, *args, **kwargs)
                status = int(response.status)
                return response
            except Exception as error:
                status = int(getattr(error, "status", 0) or 0)
                raise
            finally:
                self.in_flight[trigger] -= 1
                self.requests.append((trigger, method, started, time.monotonic(), status))

        return timed


def waiting_since(requests: Iterable[tuple[float, float]], gap: float, now: float) -> float | None:
    """When a trigger began waiting: the end of its last request before its first pause of ``gap``
    seconds with no request of it in flight; None while no such pause is seen yet (up to ``now``)."""
    ordered = sorted(requests)
    if not ordered:
        return None
    busy_until = ordered[0][1]
    for started, ended in ordered[1:]:
        if started - busy_until >= gap:
            return busy_until
        busy_until = max(busy_until, ended)
    return busy_until if now - busy_until >= gap else None


def moka_trigger(name: str, namespace: str, conn_id: str, uid: str) -> Any:
    from moka_provider.triggers.job import MokaJobTrigger

    return MokaJobTrigger(engine="spark", name=name, namespace=namespace, uid=uid, moka_conn_id=conn_id)


def pod_trigger(name: str, namespace: str, conn_id: str, uid: str) -> Any:
    from airflow.providers.cncf.kubernetes.triggers.pod import KubernetesPodTrigger

    return KubernetesPodTrigger(
        pod_name=name,
        pod_namespace=namespace,
        trigger_start_time=datetime.datetime.now(datetime.UTC),
        base_container_name=POD_CONTAINER,
        kubernetes_conn_id=conn_id,
    )


TRIGGERS: dict[str, Callable[[str, str, str, str], Any]] = {"moka": moka_trigger, "pods": pod_trigger}
# What a triggerer running such triggers has imported after the first one ran (``run()`` imports
# its hook on first use): imported before the RSS after imports is taken.
FIRST_USE_IMPORTS = {
    "moka": ("kubernetes_asyncio.client", "moka_provider.hooks.moka_async"),
    "pods": ("kubernetes_asyncio.client", "airflow.providers.cncf.kubernetes.hooks.kubernetes"),
}


class Phase:
    """The N waits of one phase, in this process's event loop."""

    def __init__(self, kind: str, jobs: list[tuple[str, str]], namespace: str, conn_id: str) -> None:
        self.kind = kind
        self.triggers = {name: TRIGGERS[kind](name, namespace, conn_id, uid) for name, uid in jobs}
        self.fired: dict[str, tuple[float, str]] = {}  # name -> (time, the event's status/verdict)
        self.started = 0.0

    async def wait(self, name: str) -> None:
        current_trigger.set(name)
        try:
            async with aclosing(self.triggers[name].run()) as events:
                async for event in events:
                    payload = event.payload if isinstance(event.payload, dict) else {}
                    self.fired[name] = (
                        time.monotonic(),
                        str(payload.get("verdict") or payload.get("status")),
                    )
                    return
        except Exception as error:  # reported as this wait's outcome
            self.fired[name] = (time.monotonic(), f"raised {error!r}"[:300])

    def settled_at(self, counters: Counters, now: float) -> float | None:
        by_trigger: dict[str, list[tuple[float, float]]] = {}
        for trigger, _, started, ended, _ in counters.requests:
            by_trigger.setdefault(trigger, []).append((started, ended))
        if any(counters.in_flight.get(trigger) for trigger in by_trigger if trigger not in self.fired):
            return None
        ends = [waiting_since(spans, SETTLE_GAP[self.kind], now) for spans in by_trigger.values()]
        if not ends or None in ends:
            return None
        return max(end for end in ends if end is not None)


async def run_phase(
    phase: Phase, counters: Counters, report: Callable[..., None], stop: asyncio.Event, settle_timeout: float
) -> None:
    phase.started = time.monotonic()
    tasks = [asyncio.create_task(phase.wait(name), name=name) for name in phase.triggers]
    settled = None
    while settled is None and not stop.is_set() and time.monotonic() - phase.started < settle_timeout:
        await asyncio.sleep(0.5)
        settled = phase.settled_at(counters, time.monotonic())
    report(
        settled=settled,
        started=phase.started,
        requests=len(counters.requests),
        api_clients=counters.api_clients,
        kubeconfig_loads=counters.kubeconfig_loads,
    )
    waits: set[asyncio.Future[Any]] = {asyncio.gather(*tasks), asyncio.ensure_future(stop.wait())}
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    report(
        fired=phase.fired,
        requests_log=counters.requests,
        api_clients=counters.api_clients,
        kubeconfig_loads=counters.kubeconfig_loads,
        **counters.marked,
        max_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )


def listen(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, counters: Counters) -> None:
    """The parent's ``mark`` line notes the counts so far (the end of its steady window); ``stop``
    (or the parent going away) ends the waits."""
    while sys.stdin.readline().strip() == "mark":
        loop.call_soon_threadsafe(counters.mark)
    loop.call_soon_threadsafe(stop.set)


def reporter(out: TextIO) -> Callable[..., None]:
    def report(**fields: Any) -> None:
        out.write(json.dumps(fields) + "\n")
        out.flush()

    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(TRIGGERS))
    parser.add_argument("names_file", help="JSON list of [name, uid]")
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--conn-id", required=True)
    parser.add_argument("--settle-timeout", type=float, default=600, help="give up on start-up after (s)")
    args = parser.parse_args()
    report = reporter(os.fdopen(os.dup(1), "w"))
    os.dup2(2, 1)  # whatever else prints goes to stderr, not into the reports
    counters = Counters()
    counters.install()
    import gc

    import airflow.triggers.base  # noqa: F401  (what a triggerer has imported before any trigger)
    import psutil

    import moka_provider

    with open(args.names_file) as names:
        jobs = [(name, uid) for name, uid in json.load(names)]
    TRIGGERS[args.kind]("warm-up", args.namespace, args.conn_id, "")  # imports the trigger's module
    for module in FIRST_USE_IMPORTS[args.kind]:
        importlib.import_module(module)
    gc.collect()
    report(ready=psutil.Process().memory_info().rss, moka_provider=os.path.dirname(moka_provider.__file__))
    if sys.stdin.readline().strip() != "start":
        return

    async def body() -> None:
        stop = asyncio.Event()
        threading.Thread(
            target=listen, args=(asyncio.get_running_loop(), stop, counters), daemon=True
        ).start()
        await run_phase(
            Phase(args.kind, jobs, args.namespace, args.conn_id), counters, report, stop, args.settle_timeout
        )

    asyncio.run(body())


if __name__ == "__main__":
    main()
