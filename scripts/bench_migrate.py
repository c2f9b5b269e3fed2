"""How fast ``moka migrate`` rewrites DAG files: the migration corpus, N times, in one process.

    python scripts/bench_migrate.py [--rounds N]

Rewrites every Python file of tests/migration/corpus (the DAG files and their helper modules)
``N`` times with the corpus's path map, and prints files per second overall and the median time
per file. Figures only: no thresholds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moka_provider.migration.rewrite import rewrite_source  # noqa: E402
from tests.migration.corpus_tools import (  # noqa: E402
    CORPUS,
    GOLDEN_PATH_MAP,
    GOLDEN_PRIORITY_CLASSES,
    corpus_sources,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the corpus (default: 20)")
    args = parser.parse_args()
    sources = {name: (CORPUS / name).read_text() for name in corpus_sources()}
    rewrite_source(next(iter(sources.values())), path_map=GOLDEN_PATH_MAP)  # imports, caches
    per_file: dict[str, list[float]] = {name: [] for name in sources}
    started = time.perf_counter()
    for _ in range(args.rounds):
        for name, text in sources.items():
            begin = time.perf_counter()
            rewrite_source(text, path_map=GOLDEN_PATH_MAP, priority_classes=GOLDEN_PRIORITY_CLASSES)
            per_file[name].append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    files = len(sources) * args.rounds
    medians = {name: statistics.median(times) * 1000 for name, times in per_file.items()}
    size = sum(len(text) for text in sources.values())
    print(f"corpus: {len(sources)} files, {size / 1024:.0f} KiB; {args.rounds} rounds")
    print(f"{files} rewrites in {elapsed:.2f} s: {files / elapsed:.1f} files/s")
    print(
        f"per file: median {statistics.median(medians.values()):.1f} ms, max {max(medians.values()):.1f} ms"
    )
    slowest = sorted(medians.items(), key=lambda item: item[1], reverse=True)[:3]
    print("slowest: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in slowest))


if __name__ == "__main__":
    main()
