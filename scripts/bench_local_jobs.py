"""Benchmark: what `moka local` adds to a Spark job, against running ``spark-submit`` directly.

    python scripts/bench_local_jobs.py [--runs 20] [--partitions 2]

Brings up a throw-away `moka local`, then per run: submits the example PySpark job as a
SparkApplication and measures (a) submit -> driver process started (the driver pod reported
Running with a process id) and (b) submit -> COMPLETED; then runs the very same ``spark-submit``
command line directly and measures its wall time. Prints each run and the medians; the
controller overhead of a job is (b) minus the direct wall time. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from moka_provider.local import control_plane
from moka_provider.local.kubeconfig import connection_uri
from moka_provider.local.paths import StatePaths
from moka_provider.resources import SPARK_APPLICATION

WORKLOAD = Path(__file__).resolve().parents[1] / "dags_examples" / "workloads" / "pyspark_pi.py"


def application(name: str, partitions: int) -> dict[str, Any]:
    return {
        "apiVersion": SPARK_APPLICATION.api_version,
        "kind": SPARK_APPLICATION.kind,
        "metadata": {"name": name},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "sparkVersion": "4.0.0",
            "mainApplicationFile": f"local://{WORKLOAD}",
            "arguments": [str(partitions)],
            "driver": {"cores": 1, "memory": "1g"},
            "executor": {"instances": 2, "cores": 1, "memory": "1g"},
        },
    }


def one_run(hook: Any, core: Any, name: str, partitions: int) -> tuple[float, float, float]:
    started = time.perf_counter()
    hook.create(SPARK_APPLICATION, application(name, partitions))
    driver_started = float("nan")
    while time.perf_counter() - started < 60:  # light polling (20 per second) until the driver runs
        try:
            statuses = core.read_namespaced_pod(f"{name}-driver", "moka").status.container_statuses or []
        except Exception:
            statuses = []
        if statuses and statuses[0].state.running:
            driver_started = time.perf_counter() - started
            break
        time.sleep(0.05)
    state = None
    for event in hook.watch(SPARK_APPLICATION, name=name, timeout=600):  # then wait without polling
        state = ((event.object.get("status") or {}).get("applicationState") or {}).get("state")
        if state in ("COMPLETED", "FAILED"):
            break
    on_moka = time.perf_counter() - started
    assert state == "COMPLETED", f"{name} ended {state}"
    command = core.read_namespaced_pod(f"{name}-driver", "moka").spec.containers[0]
    env = {**os.environ, **{e.name: e.value for e in command.env or []}}
    hook.delete(SPARK_APPLICATION, name)
    direct_started = time.perf_counter()
    subprocess.run(command.command, env=env, check=True, capture_output=True)
    direct = time.perf_counter() - direct_started
    return driver_started, on_moka, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moka-bench-") as root:
        paths = StatePaths(Path(root))
        state = control_plane.up(paths, log=lambda _: None)
        os.environ["AIRFLOW_CONN_MOKA_DEFAULT"] = connection_uri(paths.kubeconfig, state.namespace)
        from kubernetes import client, config

        from moka_provider.hooks.moka import MokaHook

        hook = MokaHook()
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(paths.admin_kubeconfig)))
        latencies, overheads = [], []
        try:
            for run in range(args.runs):
                latency, on_moka, direct = one_run(hook, core, f"bench-{run}", args.partitions)
                latencies.append(latency)
                overheads.append(on_moka - direct)
                print(
                    f"run {run + 1}: driver started {latency:.2f}s after submit; job {on_moka:.2f}s on moka local, "
                    f"{direct:.2f}s by spark-submit directly, overhead {on_moka - direct:+.2f}s"
                )
        finally:
            control_plane.down(paths, log=lambda _: None)
    print(
        f"median of {args.runs}: submit -> driver started {statistics.median(latencies):.2f}s, "
        f"controller overhead per job {statistics.median(overheads):+.2f}s"
    )


if __name__ == "__main__":
    main()
