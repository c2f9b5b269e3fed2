"""Benchmark: how long `moka local up` takes, cold (new state directory) and warm (existing one).

    python scripts/bench_local_up.py [--runs 3]

Prints one line per run and the medians. Each run starts etcd, the API server and the kubelet,
installs the CRDs and the Role, and writes the kubeconfig; `down` is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from moka_provider.local import control_plane
from moka_provider.local.paths import StatePaths


def timed_up(paths: StatePaths) -> float:
    started = time.perf_counter()
    control_plane.up(paths, log=lambda _: None)
    elapsed = time.perf_counter() - started
    control_plane.down(paths, log=lambda _: None)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    cold, warm = [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="moka-bench-") as root:
            paths = StatePaths(Path(root))
            cold.append(timed_up(paths))
            warm.append(timed_up(paths))
        print(
            f"run {run + 1}: up in a new directory {cold[-1]:.2f}s, again in the same directory {warm[-1]:.2f}s"
        )
    print(
        f"median: new directory {statistics.median(cold):.2f}s, existing directory {statistics.median(warm):.2f}s"
    )


if __name__ == "__main__":
    main()
