"""``moka migrate --check``: does each migrated file still load, next to its original?

Both versions of every file are written into a temporary folder (``original/`` and ``migrated/``,
at their paths relative to the migrated folder) and loaded, one file at a time, each in a DagBag
of its own, by one other Python process (``python -m moka_provider.migration.check``: Airflow's
imports cost it a few seconds once, not per file). On ``sys.path`` are that folder and then the
folder the file came from, as Airflow has the DAG folder: a file imports its own team's modules.
Between two files the process forgets the modules it imported from those folders, the
environment and ``sys.path`` changes, so that each file loads as it would alone.

Per file: the Spark tasks the rewrite converted, moved onto a drop-in or left for a person; whether
the original and the migrated file load (else the import error's last line, and whether what is
missing is an Airflow provider not installed here, a module Airflow 3 no longer has, or a module of
the team's own); and for each task on MokaSparkOperator, whether its SparkApplication, built as
the operator builds it (default settings, with a stand-in Spark version and image where the
``moka`` connection would give them; templates not rendered; no cluster), validates against the
CRD schema.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moka_provider.migration.rewrite import FileRewrite
from moka_provider.migration.rewrite_calls import CONVERTED, DROP_IN, NEEDS_HUMAN

_MISSING = re.compile(r"No module named '([\w.]+)'")
#: Provider packages two levels deep (``airflow.providers.apache.spark``), by their first level.
_PROVIDER_GROUPS = ("apache", "cncf", "common", "microsoft", "dbt", "alibaba")
#: Seconds the loading process may take: Airflow's start, then each file.
_START_SECONDS, _FILE_SECONDS = 120, 60


@dataclass
class Load:
    """How one version of a file loaded."""

    loads: bool
    error: str | None = None  # the import error's last line
    missing: str | None = None  # what the missing module is, when one is
    dags: int = 0
    valid: int = 0  # MokaSparkOperator tasks whose SparkApplication validates
    invalid: dict[str, str] = field(default_factory=dict)  # task id -> why not
    unchecked: list[str] = field(default_factory=list)  # mapped over values known only at run time


@dataclass
class FileCheck:
    """The check of one migrated file."""

    path: str
    outcomes: Counter[str]
    original: Load | None  # None: not loaded
    migrated: Load

    @property
    def ok(self) -> bool:
        return self.migrated.loads and not self.migrated.invalid


@dataclass(frozen=True)
class Migrated:
    """A file as ``moka migrate`` read and left it: its path relative to ``root`` (the folder it
    was found under, or its own folder), and both texts."""

    relative: Path
    root: Path
    original: str
    result: FileRewrite


def check(files: Sequence[Migrated], *, originals: bool = True) -> list[FileCheck]:
    """Load the migrated version of every file, and the original unless not ``originals`` (see the
    module docstring)."""
    versions = ("original", "migrated") if originals else ("migrated",)
    with tempfile.TemporaryDirectory(prefix="moka-migrate-check-") as temporary:
        jobs = []
        for version in versions:
            folder = Path(temporary) / version
            for file in files:
                target = folder / file.relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(
                    file.original if version == "original" else file.result.source, encoding="utf-8"
                )
                jobs.append({"path": str(target), "sys_path": [str(folder), str(file.root.resolve())]})
        loads = _run(jobs, Path(temporary))
    count = len(files)
    return [
        FileCheck(
            str(file.root / file.relative),
            Counter(task.outcome for task in file.result.tasks if task.spark),
            loads[index] if originals else None,
            loads[index + count if originals else index],
        )
        for index, file in enumerate(files)
    ]


def _run(jobs: list[dict[str, Any]], folder: Path) -> list[Load]:
    """Load ``jobs`` in one other process (its results in a file in ``folder``: what the DAG files
    print is not mixed in); a file the process did not get to fails with its last words."""
    results = folder / "results.jsonl"
    command = [sys.executable, "-m", "moka_provider.migration.check", str(results)]
    # Airflow before 3.3 adds its example DAGs to every DagBag when [core] load_examples is on.
    environment = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    try:
        done = subprocess.run(
            command,
            env=environment,
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            check=False,
            timeout=_START_SECONDS + _FILE_SECONDS * len(jobs),
        )
        problem = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    except subprocess.TimeoutExpired:
        problem = "the check took too long"
    lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
    loads = [Load(**json.loads(line)) for line in lines]
    return loads + [Load(False, f"not checked: {problem}") for _ in jobs[len(loads) :]]


def summary(checks: Sequence[FileCheck]) -> str:
    """A table (one line per file) and, below it, why each file that does not load does not."""
    header = ["file", "original", "migrated", CONVERTED, DROP_IN, NEEDS_HUMAN, "SparkApplications"]
    rows = [header]
    notes = []
    for item in checks:
        spark = f"{item.migrated.valid} valid" + (
            f", {len(item.migrated.invalid)} invalid" if item.migrated.invalid else ""
        )
        counts = [str(item.outcomes[outcome]) for outcome in (CONVERTED, DROP_IN, NEEDS_HUMAN)]
        rows.append([item.path, _loads(item.original), _loads(item.migrated), *counts, spark])
        for version, load in (("original", item.original), ("migrated", item.migrated)):
            if load is not None and not load.loads:
                notes.append(
                    f"{item.path} ({version}): {load.error}" + (f" [{load.missing}]" if load.missing else "")
                )
        notes += [f"{item.path}: task {task}: {why}" for task, why in item.migrated.invalid.items()]
        notes += [
            f"{item.path}: task {task}: mapped over values known only at run time: not checked"
            for task in item.migrated.unchecked
        ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    loaded = sum(item.migrated.loads for item in checks)
    before = sum(item.original.loads for item in checks if item.original)
    total = f"loads: {before} of {len(checks)} originals, {loaded} of {len(checks)} migrated files"
    return "\n".join(["moka migrate --check", *table, total, *notes])


def _loads(load: Load | None) -> str:
    return "-" if load is None else "loads" if load.loads else "fails"


def missing_module(error: str, source: str) -> str | None:
    """What the module an import ``error`` (its last line) misses is; ``source``: the file's text."""
    match = _MISSING.search(error)
    if match is None:
        return None
    name = match[1]
    if name.startswith("airflow.providers.") or name == "airflow.providers":
        named = re.search(rf"\b{re.escape(name)}(?:\.\w+)*", source)
        parts = (named[0] if named else name).split(".")[2:]
        package = parts[:2] if parts and parts[0] in _PROVIDER_GROUPS else parts[:1]
        return f"provider not installed: apache-airflow-providers-{'-'.join(package)}"
    if name == "airflow" or name.startswith("airflow."):
        return f"a module Airflow 3 no longer has: {name}"
    return f"the team's own module, not in the DAG folder nor installed: {name}"


# -- the loading process ---------------------------------------------------------------------------


def _load(path: str, sys_path: list[str]) -> dict[str, Any]:
    """Load the DAG file ``path`` in a DagBag of its own; undo what importing it changed after."""
    from airflow.dag_processing.dagbag import DagBag

    saved_path, saved_env, saved_modules = list(sys.path), dict(os.environ), set(sys.modules)
    sys.path[:0] = sys_path
    try:
        bag = DagBag(dag_folder=path, safe_mode=False)
        if bag.import_errors:
            error = next(iter(bag.import_errors.values())).strip().splitlines()[-1]
            source = Path(path).read_text(encoding="utf-8")
            return {"loads": False, "error": error, "missing": missing_module(error, source)}
        return {"loads": True, "dags": len(bag.dags), **_spark_applications(bag)}
    finally:
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
        for name in set(sys.modules) - saved_modules:
            location = getattr(sys.modules[name], "__file__", None) or ""
            if any(location.startswith(folder + os.sep) for folder in sys_path):
                del sys.modules[name]


def _spark_applications(bag: Any) -> dict[str, Any]:
    """Build and validate the SparkApplication of every MokaSparkOperator task of ``bag``."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from moka_provider.exceptions import MokaError
    from moka_provider.operators.spark import MokaSparkOperator
    from moka_provider.resources import SPARK_APPLICATION
    from moka_provider.schema import validate_against_crd
    from moka_provider.settings import MokaSettings

    # What only the moka connection says (the Spark version, an image) stood in for: it is not the DAG's.
    settings = MokaSettings(images={"spark": "spark:3.5.3"}, versions={"spark": "3.5.3"})
    valid, invalid, unchecked = 0, {}, []
    for dag in bag.dags.values():
        for task in dag.tasks:
            if isinstance(task, MappedOperator):
                if not issubclass(task.operator_class, MokaSparkOperator):
                    continue
                values: Any = task.expand_input.value  # {argument: what it maps over}
                if not isinstance(values, dict) or not all(
                    isinstance(v, list) and v for v in values.values()
                ):
                    unchecked.append(task.task_id)
                    continue
                task = task.unmap({name: value[0] for name, value in values.items()})
            if not isinstance(task, MokaSparkOperator):
                continue
            try:
                manifest = task.build_manifest(settings, {"dag": dag, "task": task})
                validate_against_crd(SPARK_APPLICATION, manifest, argument=task.task_id)
            except (MokaError, ValueError, TypeError) as error:
                invalid[task.task_id] = " ".join(str(error).split())
            else:
                valid += 1
    return {"valid": valid, "invalid": invalid, "unchecked": unchecked}


def main() -> None:
    """Load the files given as JSON on standard input; write one JSON line per file to the file
    named by the first argument."""
    with open(sys.argv[1], "w", encoding="utf-8") as results:
        for job in json.load(sys.stdin):
            try:
                loaded = _load(job["path"], job["sys_path"])
            except Exception as error:  # the check reports every file, whatever one of them does
                loaded = {"loads": False, "error": f"{type(error).__name__}: {error}"}
            results.write(json.dumps(loaded) + "\n")
            results.flush()


if __name__ == "__main__":
    main()
