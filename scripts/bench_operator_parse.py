"""Benchmark: import and DAG-parse cost of MokaSparkOperator, beside EmptyOperator and SparkKubernetesOperator.

    python scripts/bench_operator_parse.py [--runs 5] [--tasks 200] [--clock cpu|wall]

Requirement: importing ``moka_provider.operators.spark`` and parsing a DAG of 200 Moka Spark tasks
stay within 1.2x of the same with EmptyOperator. The cncf.kubernetes SparkKubernetesOperator is
measured alongside for scale. Figures are printed, never asserted.

Every sample runs in a fresh interpreter (this script re-invoked with ``--child``), so no sample
warms another's imports; AIRFLOW_HOME is a temporary directory (examples off), so the user's
Airflow is never read or written. The three variants are interleaved within each run; each figure
is the median over ``--runs``, and ratios are medians divided by EmptyOperator's median. Times are
the child's CPU time by default (``time.process_time``: parsing is single-threaded, and other load on
a shared machine then does not count); ``--clock wall`` measures elapsed time instead.

Bytecode: pip-installed Airflow comes with its ``.pyc`` files, but an editable install of this
project under PYTHONDONTWRITEBYTECODE (set in some workspaces) would compile ``moka_provider`` from
source on every import, unlike an installed wheel. So the children write and read bytecode in a
temporary cache (PYTHONPYCACHEPREFIX), filled by one unmeasured warm-up pass over every sample kind.

Import: in the fresh interpreter, ``import airflow.sdk`` first (what every DAG file pays anyway),
then only ``importlib.import_module()`` of the operator's module is timed. The cold total (airflow.sdk
included) is shown for context, and the modules the import adds are counted by package.

Parse: three DAG files, each ``--tasks`` tasks with realistic arguments (same default_args, ten
chained lanes), written to a temporary folder. A dag-processor child is a fork of the manager:
Airflow imported, the operator's module not. So each parse sample's interpreter imports airflow.sdk
and the dag-processing modules and parses and serializes a warm-up DAG without tasks (DagBag, the
importer and the serializer warm; no operator module imported), then times
``BundleDagBag(file, bundle_path=..., load_op_links=False)`` from ``airflow.dag_processing.dagbag``
(Airflow 3's file-parsing DagBag; ``airflow.models.dagbag`` now holds the database-backed one), the
call ``dag_processing.processor._parse_file`` makes. Three parse figures:

* first parse: in that process, the operator's module imported by the DAG file (timed);
* dag-processor parse: as the real processor does, the modules named ``airflow.*`` in the file's
  imports are pre-imported first (``[dag_processor] parsing_pre_import_modules``, default True; the
  manager does it once before forking). That covers EmptyOperator and SparkKubernetesOperator but
  not ``moka_provider``, which every parse pays in full;
* re-parse: the same file again in the same process, every module imported (median of 3).

Serialization: what the processor does next with each DAG, ``DagSerialization.to_dict`` and
wrapping the result in ``LazyDeserializedDAG``; first time and again after the re-parse. The size
of the serialized DAG (JSON) is shown too: it is sent to the manager and stored in the database.
``gc.collect()`` runs before each timed step.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

TARGET = 1.2
HEAVY_PACKAGES = ("kubernetes", "kubernetes_asyncio", "aiohttp", "jsonschema")
RESULT_PREFIX = "BENCH-RESULT "
REPARSES = 3
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    module: str
    import_line: str
    task: str  # the operator call; ``i`` is the task's index in the generating loop


VARIANTS = (
    Variant(
        "empty",
        "EmptyOperator",
        "airflow.providers.standard.operators.empty",
        "from airflow.providers.standard.operators.empty import EmptyOperator",
        'EmptyOperator(task_id=f"step_{i:03d}")',
    ),
    Variant(
        "moka",
        "MokaSparkOperator",
        "moka_provider.operators.spark",
        "from moka_provider.operators.spark import MokaSparkOperator",
        """MokaSparkOperator(
            task_id=f"step_{i:03d}",
            application="local:///opt/app.py",
            arguments=["--date", "{{ ds }}", "--part", str(i)],
            spark_conf={"spark.sql.shuffle.partitions": 200, "spark.sql.adaptive.enabled": True},
            driver={"cores": 1, "memory": "1g"},
            executors={"cores": 2, "memory": "2g", "instances": 4},
            deferrable=True,
            yunikorn_queue="root.ads",
        )""",
    ),
    Variant(
        "cncf",
        "SparkKubernetesOperator",
        "airflow.providers.cncf.kubernetes.operators.spark_kubernetes",
        "from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator",
        """SparkKubernetesOperator(
            task_id=f"step_{i:03d}",
            namespace="spark",
            deferrable=True,
            template_spec={
                "spark": {
                    "apiVersion": "sparkoperator.k8s.io/v1beta2",
                    "kind": "SparkApplication",
                    "spec": {
                        "type": "Python",
                        "mode": "cluster",
                        "image": "apache/spark:4.0.0",
                        "sparkVersion": "4.0.0",
                        "mainApplicationFile": "local:///opt/app.py",
                        "arguments": ["--date", "{{ ds }}", "--part", str(i)],
                        "sparkConf": {"spark.sql.shuffle.partitions": "200", "spark.sql.adaptive.enabled": "true"},
                        "driver": {"cores": 1, "memory": "1g"},
                        "executor": {"cores": 2, "memory": "2g", "instances": 4},
                        "batchScheduler": "yunikorn",
                        "batchSchedulerOptions": {"queue": "root.ads"},
                    },
                }
            },
        )""",
    ),
)

DAG_FILE = Template('''\
"""$count $label tasks, written by scripts/bench_operator_parse.py."""

from datetime import datetime, timedelta

from airflow.sdk import DAG, chain
$import_line

with DAG(
    dag_id="bench_$key",
    schedule="@daily",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args={"owner": "ads", "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["bench"],
):
    tasks = [
        $task
        for i in range($count)
    ]
    for lane in range(10):
        chain(*tasks[lane::10])
''')

WARMUP_FILE = '''\
"""A DAG without tasks: warms DagBag, the importer and the serializer, imports no operator module."""

from datetime import datetime

from airflow.sdk import DAG

with DAG(dag_id="bench_warmup", schedule=None, start_date=datetime(2025, 1, 1)):
    pass
'''


# -- children: one sample each, in a fresh interpreter ------------------------------------------


def _count(modules: set[str], package: str) -> int:
    return sum(1 for name in modules if name == package or name.startswith(package + "."))


def child_import(module: str, clock: Callable[[], float]) -> dict[str, Any]:
    started = clock()
    import airflow.sdk  # noqa: F401

    sdk_done = clock()
    before = set(sys.modules)
    importlib.import_module(module)
    done = clock()
    after = set(sys.modules)
    return {
        "import_ms": (done - sdk_done) * 1000,
        "cold_ms": (done - started) * 1000,
        "new_modules": len(after - before),
        "packages": {
            package: [_count(before, package), _count(after, package)] for package in HEAVY_PACKAGES
        },
    }


def child_parse(
    path: str, warmup: str, module: str, pre_import: bool, clock: Callable[[], float]
) -> dict[str, Any]:
    import gc

    import airflow.sdk  # noqa: F401
    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.serialization.serialized_objects import DagSerialization, LazyDeserializedDAG
    from airflow.utils.file import iter_airflow_imports

    bundle = Path(path).parent

    def parse(file: str) -> tuple[float, Any]:
        gc.collect()
        started = clock()
        bag = BundleDagBag(dag_folder=file, bundle_path=bundle, bundle_name="bench", load_op_links=False)
        elapsed = clock() - started
        if bag.import_errors or len(bag.dags) != 1:
            raise RuntimeError(f"{file}: {len(bag.dags)} DAGs, errors {bag.import_errors}")
        return elapsed * 1000, next(iter(bag.dags.values()))

    def serialize(dag: Any) -> tuple[float, int]:
        gc.collect()
        started = clock()
        data = DagSerialization.to_dict(dag)
        LazyDeserializedDAG(data=data, last_loaded=dag.last_loaded)
        elapsed = clock() - started
        return elapsed * 1000, len(json.dumps(data, default=str))

    serialize(parse(warmup)[1])
    if pre_import:
        for name in iter_airflow_imports(path):  # what the dag processor's manager does before forking
            importlib.import_module(name)
    preloaded = module in sys.modules
    parse_ms, dag = parse(path)
    serialize_ms, size = serialize(dag)
    result = {
        "preloaded": preloaded,
        "parse_ms": parse_ms,
        "serialize_ms": serialize_ms,
        "size": size,
        "tasks": len(dag.tasks),
    }
    if not pre_import:
        del dag
        reparses, reserializes = [], []
        for _ in range(REPARSES):
            reparse_ms, dag = parse(path)
            reserialize_ms, _size = serialize(dag)
            reparses.append(reparse_ms)
            reserializes.append(reserialize_ms)
            del dag
        result["reparse_ms"] = statistics.median(reparses)
        result["reserialize_ms"] = statistics.median(reserializes)
    return result


def child_main(request: dict[str, Any]) -> None:
    clock = CLOCKS[request["clock"]]
    if request["kind"] == "import":
        result = child_import(request["module"], clock)
    else:
        result = child_parse(
            request["path"], request["warmup"], request["module"], request["pre_import"], clock
        )
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# -- the parent: runs the children and prints the table ------------------------------------------


def run_child(request: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(request)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise RuntimeError(f"child {request} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def write_dags(folder: Path, tasks: int) -> tuple[dict[str, Path], Path]:
    files = {}
    for variant in VARIANTS:
        path = folder / f"bench_{variant.key}.py"
        path.write_text(
            DAG_FILE.substitute(
                count=tasks,
                label=variant.label,
                key=variant.key,
                import_line=variant.import_line,
                task=variant.task,
            )
        )
        files[variant.key] = path
    warmup = folder / "bench_warmup.py"
    warmup.write_text(WARMUP_FILE)
    return files, warmup


MEASURES = (  # (row label, sample kind, key in the child's result, held to the target)
    ("import, after airflow.sdk", "import", "import_ms", True),
    ("import, cold (with airflow.sdk)", "import", "cold_ms", False),
    ("first parse (imports the operator's module)", "fresh", "parse_ms", True),
    ("dag-processor parse (airflow.* pre-imported)", "processor", "parse_ms", True),
    ("re-parse (all imported)", "fresh", "reparse_ms", True),
    ("serialize, first", "fresh", "serialize_ms", True),
    ("serialize, after re-parse", "fresh", "reserialize_ms", True),
    ("dag-processor parse + serialize", "processor", "total_ms", True),
)


def sample(
    variant: Variant, dag_file: Path, warmup: Path, env: dict[str, str], clock_name: str
) -> dict[str, dict[str, Any]]:
    """One sample of each kind for one variant, each in its own fresh interpreter."""
    common = {"module": variant.module, "path": str(dag_file), "warmup": str(warmup), "clock": clock_name}
    results = {
        "import": run_child({**common, "kind": "import"}, env),
        "fresh": run_child({**common, "kind": "parse", "pre_import": False}, env),
        "processor": run_child({**common, "kind": "parse", "pre_import": True}, env),
    }
    results["processor"]["total_ms"] = results["processor"]["parse_ms"] + results["processor"]["serialize_ms"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: the child's CPU time (default; other load on the machine does not count); wall: elapsed",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return

    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="moka-bench-parse-") as root:
        home, dags = Path(root) / "airflow", Path(root) / "dags"
        home.mkdir()
        dags.mkdir()
        env = {
            **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(Path(root) / "pycache"),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
        files, warmup = write_dags(dags, args.tasks)
        print("warm-up pass (fills the bytecode cache; not counted)", flush=True)
        for variant in VARIANTS:
            sample(variant, files[variant.key], warmup, env, args.clock)
        for run in range(args.runs):
            figures = []
            for variant in VARIANTS:
                results = sample(variant, files[variant.key], warmup, env, args.clock)
                for kind, result in results.items():
                    samples.setdefault((variant.key, kind), []).append(result)
                figures.append(
                    f"{variant.label} import {results['import']['import_ms']:.1f} ms, parse "
                    f"{results['fresh']['parse_ms']:.0f}/{results['processor']['parse_ms']:.0f}"
                    f"/{results['fresh']['reparse_ms']:.0f} ms"
                )
            print(f"run {run + 1}: " + "; ".join(figures), flush=True)
    print("(per run: import after airflow.sdk; first / dag-processor / re-parse)")
    report(samples, args.runs, args.tasks, args.clock)


def report(
    samples: dict[tuple[str, str], list[dict[str, Any]]], runs: int, tasks: int, clock_name: str
) -> None:
    def median(key: str, kind: str, field: str) -> float:
        return statistics.median(sample[field] for sample in samples[(key, kind)])

    width = 46
    print()
    print(
        f"median of {runs} runs, {tasks} tasks per DAG; ms of {clock_name} time, and the ratio to EmptyOperator"
    )
    print(f"{'':{width}}" + "".join(f"{variant.label:>26}" for variant in VARIANTS))
    for label, kind, field, _targeted in MEASURES:
        base = median("empty", kind, field)
        cells = []
        for variant in VARIANTS:
            value = median(variant.key, kind, field)
            cells.append(f"{value:>13.1f} ms {value / base:>7.2f}x")
        print(f"{label:{width}}" + "".join(f"{cell:>26}" for cell in cells))
    size_row = "".join(f"{median(v.key, 'fresh', 'size') / 1024:>22.0f} KiB" for v in VARIANTS)
    print(f"{'serialized DAG (JSON)':{width}}" + size_row)
    for package in HEAVY_PACKAGES:
        cells = []
        for variant in VARIANTS:
            before, after = samples[(variant.key, "import")][-1]["packages"][package]
            cells.append(f"{after:>20d} (+{after - before})")
        print(f"{'modules ' + package + '.*':{width}}" + "".join(f"{cell:>26}" for cell in cells))
    new = "".join(f"{samples[(v.key, 'import')][-1]['new_modules']:>26d}" for v in VARIANTS)
    print(f"{'modules added by the import, all':{width}}" + new)
    preloaded = {v.label for v in VARIANTS if samples[(v.key, "processor")][-1]["preloaded"]}
    print(f"module already imported before the dag-processor parse: {', '.join(sorted(preloaded)) or 'none'}")

    print()
    moka_k8s = samples[("moka", "import")][-1]["packages"]
    pulled = [package for package in ("kubernetes", "kubernetes_asyncio") if moka_k8s[package][1]]
    print(
        "MokaSparkOperator import pulls in a Kubernetes client: "
        + (f"YES ({', '.join(pulled)})" if pulled else "no")
    )
    print(f"target: MokaSparkOperator within {TARGET}x of EmptyOperator")
    for label, kind, field, targeted in MEASURES:
        if not targeted:
            continue
        moka, empty = median("moka", kind, field), median("empty", kind, field)
        verdict = "met" if moka / empty <= TARGET else "NOT MET"
        print(f"  {label:{width}} {moka / empty:6.2f}x ({moka - empty:+.1f} ms)  {verdict}")


if __name__ == "__main__":
    main()
