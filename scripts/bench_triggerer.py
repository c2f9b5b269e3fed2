"""Benchmark: the cost of N deferred waits in one triggerer loop, MokaJobTrigger beside cncf's KubernetesPodTrigger.

    python scripts/bench_triggerer.py [--jobs 1000] [--pod-triggers 200] [--skip-pod-triggers]
        [--steady 60] [--baseline 15] [--flip-rate 20] [--dir MOKA_LOCAL_DIR] [--provider-path DIR] [--json PATH]

Runs on `moka local`: the one up in ``--dir`` (its least-privilege kubeconfig for the Moka
connection, its admin kubeconfig for everything else), or a throw-away one started and stopped
here. Two phases, each in a fresh interpreter (``bench_triggerer_child.py``, the "triggerer"),
so that one phase's memory is not the other's and the benchmark's own API traffic is not counted:

* ``moka``: ``--jobs`` SparkApplications labelled as MokaSparkOperator labels them plus the label
  that keeps the local controllers off them; this process writes what spark-operator would
  (SUBMITTED, then RUNNING, through the status subresource) before the triggers start. One
  ``MokaJobTrigger(engine="spark", ...)`` per job, connection ``moka_default``.
* ``pods``: ``--pod-triggers`` (at most 200) pods bound to a node no kubelet runs, reported
  Running by this process through the pod status subresource; one ``KubernetesPodTrigger`` per
  pod (poll_interval 2 s, its defaults), through a ``kubernetes`` connection on the admin
  kubeconfig (the Moka Role may not get pods).

Per phase: a ``--baseline`` window with the triggerer idle gives the API server's background
rate; the triggers start; once start-up has settled a ``--steady`` window, with nothing written;
then the flip: each job's final status (COMPLETED; a Succeeded pod with its container terminated
with exit code 0) is written one after another at ``--flip-rate`` a second, and the triggers'
events are awaited (``--event-timeout``). The figures:

* requests/min: the API server's ``apiserver_request_total`` (its /metrics) over the steady
  window, requests on namespaced objects only (the local kubelet lists all pods 5 times a second,
  cluster-wide), less the baseline's rate, by verb. A watch counts when it ends.
* open connections: TCP connections of the triggerer process to the API server, sampled every
  second in the steady window (min-max).
* API clients / kubeconfig loads: ``kubernetes_asyncio`` ``ApiClient`` objects made and
  ``load_kube_config`` / ``load_kube_config_from_dict`` calls in the triggerer process, from the
  start to the end of the steady window.
* CPU s/min: user + system CPU seconds of the triggerer process in the steady window, per minute.
* RSS over import: the triggerer process's RSS at the end of the steady window less its RSS after
  imports (Airflow's trigger base, the trigger's module and the hook modules its ``run()`` imports
  on first use, kubernetes_asyncio's client, the counting wrappers), and that divided by N.
* start-up: from starting the N trigger tasks until every trigger is waiting: a trigger waits from
  the end of its last API request before its first pause with no request of its own in flight
  for 5 s (MokaJobTrigger; its steady state makes none but watch renewals) or 1 s (the pod
  trigger, which polls every 2 s). Requests are the triggerer's own, counted in the client
  (status 429 counted apart), those started before that moment.
* write -> event: from sending each final status write to that trigger yielding its TriggerEvent
  (both on the machine's monotonic clock), p50 / p99 / max; events missing after the timeout
  are counted.

``--json PATH`` writes every raw figure. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_triggerer_cluster import Cluster, RequestKey, pod_status, spark_completed

from moka_provider.local import control_plane
from moka_provider.local.kubeconfig import connection_uri
from moka_provider.local.paths import StatePaths

CHILD = Path(__file__).with_name("bench_triggerer_child.py")
POD_CONN_ID = "bench_kubernetes"
MAX_POD_TRIGGERS = 200
MIB = 1024 * 1024


@dataclass
class PhaseResult:
    label: str
    kind: str
    count: int
    figures: dict[str, Any] = field(default_factory=dict)


@contextmanager
def local_cluster(directory: str | None) -> Iterator[tuple[StatePaths, str]]:
    """The `moka local` up in ``directory``, or a throw-away one."""
    if directory:
        paths = StatePaths(Path(directory))
        state = control_plane.LocalState.load(paths)
        if state is None or not paths.admin_kubeconfig.exists():
            sys.exit(f"no moka local in {directory}: run `moka local up --dir {directory}` first")
        yield paths, state.namespace
        return
    with tempfile.TemporaryDirectory(prefix="moka-bench-triggerer-") as root:
        paths = StatePaths(Path(root))
        state = control_plane.up(paths, log=lambda line: print(f"  {line}", flush=True))
        try:
            yield paths, state.namespace
        finally:
            control_plane.down(paths, log=lambda _: None)


def child_env(paths: StatePaths, namespace: str, home: Path, provider_path: Path | None) -> dict[str, str]:
    pod_conn = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(paths.admin_kubeconfig)}}
    python_path = [str(provider_path)] if provider_path else []
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*python_path, *filter(None, [os.environ.get("PYTHONPATH")])]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONN_MOKA_DEFAULT": connection_uri(paths.kubeconfig, namespace),
        f"AIRFLOW_CONN_{POD_CONN_ID.upper()}": json.dumps(pod_conn),
        "PYTHONUNBUFFERED": "1",
    }


class Triggerer:
    """The child process of one phase, and what it reports."""

    def __init__(self, kind: str, names: list[tuple[str, str]], namespace: str, conn_id: str, work: Path, env: dict[str, str]) -> None:  # fmt: skip
        names_file = work / f"{kind}-names.json"
        names_file.write_text(json.dumps(names))
        self.log = work / f"{kind}-triggerer.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(CHILD), kind, str(names_file), "--namespace", namespace, "--conn-id", conn_id],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True,
            )  # fmt: skip
        import psutil

        self.ps = psutil.Process(self.process.pid)

    def report(self, timeout: float | None = None) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        if timeout is not None and not select.select([self.process.stdout], [], [], timeout)[0]:
            return None
        line = self.process.stdout.readline()
        if not line:
            tail = "".join(self.log.read_text().splitlines(keepends=True)[-30:])
            raise RuntimeError(f"the triggerer process exited ({self.process.wait()}); its log ends:\n{tail}")
        report: dict[str, Any] = json.loads(line)
        return report

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def connections_to(self, port: int) -> int:
        return sum(1 for c in self.ps.net_connections(kind="tcp") if c.raddr and c.raddr.port == port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def by_verb(totals: Counter[RequestKey]) -> dict[str, int]:
    verbs: Counter[str] = Counter()
    for key, count in totals.items():
        verbs[key.verb] += count
    return dict(sorted(verbs.items()))


def per_minute(totals: Counter[RequestKey], seconds: float) -> dict[str, float]:
    return {verb: count * 60 / seconds for verb, count in by_verb(totals).items()}


def delta(after: Counter[RequestKey], before: Counter[RequestKey]) -> Counter[RequestKey]:
    return Counter({key: after[key] - before[key] for key in after if after[key] - before[key]})


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run_phase(result: PhaseResult, cluster: Cluster, args: argparse.Namespace, work: Path, env: dict[str, str]) -> None:  # fmt: skip
    figures = result.figures
    print(
        f"[{result.label}] creating {result.count} {'jobs' if result.kind == 'moka' else 'pods'} ...",
        flush=True,
    )
    made = time.monotonic()
    names = cluster.create_jobs(result.count) if result.kind == "moka" else cluster.create_pods(result.count)
    figures["create_seconds"] = time.monotonic() - made
    conn_id = "moka_default" if result.kind == "moka" else POD_CONN_ID
    triggerer = Triggerer(result.kind, names, cluster.namespace, conn_id, work, env)
    try:
        ready = triggerer.report()
        assert ready is not None
        figures["rss_after_import"] = ready["ready"]
        figures["moka_provider"] = ready["moka_provider"]
        print(f"[{result.label}] baseline {args.baseline:.0f}s (triggerer idle) ...", flush=True)
        before = cluster.request_totals()
        time.sleep(args.baseline)
        background = delta(cluster.request_totals(), before)
        figures["background_per_min"] = per_minute(background, args.baseline)

        at_start = cluster.request_totals()
        triggerer.send("start")
        settled = triggerer.report()
        assert settled is not None
        if settled["settled"] is None:
            raise RuntimeError(f"start-up did not settle (see {triggerer.log})")
        figures["startup_seconds"] = settled["settled"] - settled["started"]
        figures["startup_server_requests"] = by_verb(delta(cluster.request_totals(), at_start))
        print(f"[{result.label}] started up in {figures['startup_seconds']:.1f}s; steady {args.steady:.0f}s ...", flush=True)  # fmt: skip

        steady_from, steady_totals, cpu = time.monotonic(), cluster.request_totals(), triggerer.cpu_seconds()
        connections = []
        while time.monotonic() - steady_from < args.steady:
            connections.append(triggerer.connections_to(cluster.server_port))
            time.sleep(max(0.0, 1 - (time.monotonic() - steady_from) % 1))
        steady_until = time.monotonic()
        triggerer.send("mark")
        steady_seconds = steady_until - steady_from
        figures["cpu_seconds_per_min"] = (triggerer.cpu_seconds() - cpu) * 60 / steady_seconds
        figures["rss_steady"] = triggerer.ps.memory_info().rss
        steady = delta(cluster.request_totals(), steady_totals)
        net = {
            verb: rate - figures["background_per_min"].get(verb, 0.0)
            for verb, rate in per_minute(steady, steady_seconds).items()
        }
        figures["steady_per_min_by_verb"] = net
        figures["steady_raw"] = {f"{k.verb} {k.resource} {k.code}": v for k, v in steady.items()}
        figures["connections"] = connections

        print(f"[{result.label}] flipping {result.count} at {args.flip_rate:g}/s ...", flush=True)
        if result.kind == "moka":
            sent = cluster.flip([n for n, _ in names], lambda n: cluster.write_job_status(n, spark_completed()), args.flip_rate)  # fmt: skip
        else:
            sent = cluster.flip([n for n, _ in names], lambda n: cluster.write_pod_status(n, pod_status("terminated")), args.flip_rate)  # fmt: skip
        figures["flip_seconds"] = max(sent.values()) - min(sent.values())
        final = triggerer.report(timeout=args.event_timeout)
        if final is None:
            triggerer.send("stop")
            final = triggerer.report(timeout=60)
        assert final is not None
        summarize(result, final, settled, sent, steady_from, steady_until)
    finally:
        triggerer.stop()


def summarize(result: PhaseResult, final: dict[str, Any], settled: dict[str, Any], sent: dict[str, float], steady_from: float, steady_until: float) -> None:  # fmt: skip
    figures = result.figures
    requests = final["requests_log"]  # [trigger, method, start, end, status]
    startup = [r for r in requests if r[2] <= settled["settled"]]
    figures["startup_requests"] = len(startup)
    figures["startup_requests_by_status"] = dict(Counter(str(r[4]) for r in startup))
    in_steady = [r for r in requests if steady_from <= r[2] < steady_until]
    figures["steady_client_requests_per_min"] = len(in_steady) * 60 / (steady_until - steady_from)
    figures["api_clients_until_steady_end"] = final["api_clients_at_mark"]
    figures["kubeconfig_loads_until_steady_end"] = final["kubeconfig_loads_at_mark"]
    figures["api_clients_total"] = final["api_clients"]
    figures["kubeconfig_loads_total"] = final["kubeconfig_loads"]
    figures["max_rss"] = final["max_rss"]
    fired = final["fired"]
    latencies = [fired[name][0] - at for name, at in sent.items() if name in fired]
    figures["events"] = dict(Counter(outcome for _, outcome in fired.values()))
    figures["events_missing"] = result.count - len(fired)
    figures["latency"] = {
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
    }


def row(result: PhaseResult) -> str:
    f = result.figures
    by_verb = f["steady_per_min_by_verb"]
    verbs = ", ".join(f"{verb} {rate:.0f}" for verb, rate in by_verb.items() if round(rate))
    connections = f["connections"]
    rss_over = (f["rss_steady"] - f["rss_after_import"]) / MIB
    statuses = f["startup_requests_by_status"]
    throttled = f" incl. {statuses['429']} HTTP 429" if "429" in statuses else ""
    latency = f["latency"]
    missing = f", {f['events_missing']} missing" if f["events_missing"] else ""
    return " | ".join(
        [
            f"| {result.label}",
            str(result.count),
            f"{sum(by_verb.values()):.0f} ({verbs or 'none'})",
            f"{min(connections)}-{max(connections)}" if connections else "-",
            f"{f['api_clients_until_steady_end']} / {f['kubeconfig_loads_until_steady_end']}",
            f"{f['cpu_seconds_per_min']:.2f}",
            f"+{rss_over:.0f} MiB ({rss_over * 1024 / result.count:.0f} KiB a wait)",
            f"{f['startup_seconds']:.1f} s, {f['startup_requests']} requests{throttled}",
            f"{latency['p50']:.2f} / {latency['p99']:.2f} / {latency['max']:.2f} s{missing} |",
        ]
    )


def table(results: list[PhaseResult]) -> str:
    header = (
        "| | N | requests/min (by verb) | open connections | API clients / kubeconfig loads | CPU s/min "
        "| RSS over import | start-up | write -> event p50 / p99 / max |"
    )
    return "\n".join([header, "| --- " * 9 + "|", *(row(result) for result in results)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="MokaJobTriggers (SparkApplications)")
    parser.add_argument("--pod-triggers", type=int, default=200, help=f"KubernetesPodTriggers (at most {MAX_POD_TRIGGERS})")  # fmt: skip
    parser.add_argument("--skip-pod-triggers", action="store_true")
    parser.add_argument("--steady", type=float, default=60, help="steady window (s)")
    parser.add_argument("--baseline", type=float, default=15, help="window with the triggerer idle (s)")
    parser.add_argument("--flip-rate", type=float, default=20, help="final status writes a second")
    parser.add_argument("--event-timeout", type=float, default=120, help="wait for events after the flip (s)")
    parser.add_argument("--dir", help="state directory of a running `moka local` (default: start one)")
    parser.add_argument(
        "--provider-path",
        type=Path,
        help="import moka_provider from this directory in the triggerer (e.g. an export of another commit)",
    )
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    phases = [PhaseResult("MokaJobTrigger", "moka", args.jobs)]
    if not args.skip_pod_triggers:
        phases.append(
            PhaseResult("cncf KubernetesPodTrigger", "pods", min(args.pod_triggers, MAX_POD_TRIGGERS))
        )
    run = uuid.uuid4().hex[:6]
    with local_cluster(args.dir) as (paths, namespace), tempfile.TemporaryDirectory(prefix="bench-triggerer-") as work:  # fmt: skip
        cluster = Cluster(paths.admin_kubeconfig, namespace, run)
        env = child_env(paths, namespace, Path(work) / "airflow", args.provider_path)
        try:
            for phase in phases:
                run_phase(phase, cluster, args, Path(work), env)
        finally:
            cluster.clean_up()
    print(table(phases))
    if args.json:
        raw = {"arguments": {k: str(v) for k, v in vars(args).items()}, "phases": [vars(p) for p in phases]}
        args.json.write_text(json.dumps(raw, indent=2) + "\n")
        print(f"raw figures: {args.json}")


if __name__ == "__main__":
    main()
