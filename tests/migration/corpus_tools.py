"""What the corpus harness and the benchmark share: where the corpus is, the path maps, loading DAGs.

The corpus (``corpus/``) is a set of Monarch-style DAG files written for these tests; ``golden/``
holds what ``moka migrate`` makes of each (the rewritten file and its report), reviewed by hand.
``corpus_broken/`` holds files that must be reported and left alone; the two that do not parse are
stored as ``*.py.txt`` (so that ruff and mypy, which check ``tests/``, do not choke on them) and are
written out as ``*.py`` where a test needs them.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import inspect
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
GOLDEN = HERE / "golden"
BROKEN = HERE / "corpus_broken"
WORKLOADS = HERE / "workloads"
#: An installed package of a team's own operators, outside the scanned tree (on ``sys.path`` when
#: DAGs load): ``moka migrate`` cannot read its source.
INSTALLED = HERE / "installed"
#: Helpers the corpus DAGs import (the DAG folder is on ``sys.path`` in Airflow): the platform
#: team's module and a team's plugins package of in-house operator wrappers.
COMMON = ("monarch_common", "team_airflow", ".airflowignore")

#: The path map the golden outputs are made with: stable values, nothing of this machine.
GOLDEN_PATH_MAP: dict[str, str] = {
    "hdfs://monarch-nn/apps": "s3a://moka-artifacts/apps",
    "hdfs://monarch-nn/libs": "s3a://moka-artifacts/libs",
    "hdfs://monarch-nn/data": "s3a://moka-lake/data",
    "hdfs://monarch-nn/models": "s3a://moka-lake/models",
    "s3://acme-artifacts": "s3a://acme-artifacts",
    "s3://acme-lake": "s3a://acme-lake",
}
#: The day the golden outputs are made on, for the start dates that replace ``days_ago``.
GOLDEN_TODAY = datetime.date(2024, 3, 5)
#: The priority classes the golden outputs are made with.
GOLDEN_PRIORITY_CLASSES: dict[str, str] = {"1": "moka-batch-low", "10": "moka-batch-high"}
#: Corpus files run end to end on `moka local`: their applications are ``hdfs://monarch-nn/apps/etl/...``.
E2E_FILES = (
    "01_daily_sessions_provider.py",
    "29_bash_continuations_e2e.py",
    "30_factory_loop_e2e.py",
    "31_taskflow_contrib_fstring_e2e.py",
)

#: Originals that do not load on Airflow 3 even through the Airflow 1 shim (``days_ago``,
#: ``schedule_interval``, ``provide_context``), as Monarch-era DAGs do not: the harness compares
#: their rewritten DAGs with them after the Airflow 3 pass alone (Spark operators untouched).
BEFORE_AIRFLOW_3 = ("42_airflow1_era_funnel.py", "43_airflow2_era_sensor_and_sql.py")

_SPARK_SUBMIT_WORD = re.compile(r"(?<![\w.-])(?:\S*/)?spark[23]?-submit(?![\w.-])")


def corpus_files() -> list[Path]:
    """The good corpus DAG files (``NN_description.py``), in order."""
    return sorted(CORPUS.glob("[0-9][0-9]_*.py"))


def corpus_sources() -> list[str]:
    """Every Python file of the corpus folder (the DAG files and their helpers), relative to it:
    what ``moka migrate`` run on the folder rewrites."""
    return sorted(
        str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*.py") if "__pycache__" not in path.parts
    )


def broken_files() -> dict[str, str]:
    """The broken corpus files: the name each has as a DAG file (``*.py``) -> its text."""
    return {
        path.name.removesuffix(".txt"): path.read_text()
        for path in sorted(BROKEN.iterdir())
        if path.name.endswith((".py", ".py.txt"))
    }


def e2e_path_map() -> dict[str, str]:
    """The golden map, but with the applications found in this repository's workloads."""
    return {**GOLDEN_PATH_MAP, "hdfs://monarch-nn/apps": f"local://{WORKLOADS}"}


@functools.cache
def corpus_wrappers() -> dict[str, Any]:
    """The in-house wrappers ``moka migrate`` finds when it scans the corpus folder."""
    from moka_provider.migration.rewrite_config import known_wrappers

    return known_wrappers(
        {}, [(PurePosixPath(name), (CORPUS / name).read_text()) for name in corpus_sources()]
    )


def rewrite(source: str, path_map: dict[str, str] | None = None, *, airflow3: bool = True) -> Any:
    """``moka migrate``'s rewrite of one source, with the golden path map unless given another, and
    its Airflow 3 pass (``days_ago`` counting back from :data:`GOLDEN_TODAY`) unless not ``airflow3``."""
    from moka_provider.migration.airflow3 import bring_to_airflow3
    from moka_provider.migration.rewrite import rewrite_source

    result = rewrite_source(
        source,
        path_map=GOLDEN_PATH_MAP if path_map is None else path_map,
        priority_classes=GOLDEN_PRIORITY_CLASSES,
        wrappers=corpus_wrappers(),
    )
    return bring_to_airflow3(result, source, GOLDEN_TODAY) if airflow3 else result


def rewrite_corpus(
    rewrite: Callable[[str], Any], folder: Path | None = None, names: Iterable[str] | None = None
) -> dict[str, Any]:
    """``rewrite`` applied to each corpus source (or to ``names``), written into ``folder`` (with
    the ``.airflowignore``) when given: the corpus as ``moka migrate`` leaves it."""
    results = {}
    for name in corpus_sources() if names is None else names:
        results[name] = result = rewrite((CORPUS / name).read_text())
        if folder is not None:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(result.source)
    if folder is not None:
        shutil.copy(CORPUS / ".airflowignore", folder / ".airflowignore")
    return results


def copy_common(folder: Path) -> None:
    """Put the corpus's shared helpers (and its ``.airflowignore``) into a DAG folder."""
    for name in COMMON:
        source = CORPUS / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / name)


@contextlib.contextmanager
def dag_folder_context(folder: Path) -> Iterator[None]:
    """What loading DAG files in-process changes, undone after: ``sys.path`` (the DAG folder is on
    it in Airflow), the environment (a corpus file sets ``HADOOP_CONF_DIR``) and the corpus's
    helper modules (so each folder imports its own copy)."""
    saved_env = dict(os.environ)
    sys.path[:0] = [str(folder), str(INSTALLED)]
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        sys.path.remove(str(INSTALLED))
        os.environ.clear()
        os.environ.update(saved_env)
        for name in [name for name in sys.modules if name.split(".")[0] in COMMON]:
            del sys.modules[name]


def load_dagbag(folder: Path, *, legacy_spark: bool, legacy: bool = True) -> Any:
    """A real Airflow DagBag of ``folder``, with the Airflow 1 import shim (its Spark operator
    modules only when ``legacy_spark``) unless not ``legacy``: migrated DAGs load without it."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.migration.legacy_shim.airflow_contrib_shim import legacy_imports

    shim = legacy_imports(spark=legacy_spark) if legacy else contextlib.nullcontext()
    with dag_folder_context(folder), shim:
        return DagBag(dag_folder=str(folder), safe_mode=True)


def task_class(task: Any) -> type:
    """The operator class of a task, mapped (``.partial().expand()``) or not."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    return task.operator_class if isinstance(task, MappedOperator) else type(task)


def is_monarch_spark_task(task: Any) -> bool:
    """Whether an ORIGINAL task runs Spark the Monarch way: a (subclass of) SparkSubmitOperator or
    SparkSqlOperator, or a Bash task whose command runs spark-submit (on YARN or not)."""
    from airflow.providers.apache.spark.operators.spark_sql import SparkSqlOperator
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
    from airflow.providers.standard.operators.bash import BashOperator

    cls = task_class(task)
    if issubclass(cls, SparkSubmitOperator | SparkSqlOperator):
        return True
    if issubclass(cls, BashOperator):
        mapped = getattr(getattr(task, "expand_input", None), "value", {})
        command = (
            getattr(task, "partial_kwargs", {}).get("bash_command")
            or mapped.get("bash_command")
            or getattr(task, "bash_command", None)
        )
        if callable(getattr(task, "python_callable", None)):  # @task.bash: what its function returns
            command = inspect.getsource(task.python_callable)
        commands = command if isinstance(command, list) else [command]
        return any(isinstance(item, str) and _SPARK_SUBMIT_WORD.search(item) for item in commands)
    return False


def is_moka_spark_task(task: Any) -> bool:
    """Whether a REWRITTEN task runs on Moka: MokaSparkOperator or a Monarch drop-in."""
    from moka_provider.operators.monarch import MonarchSparkOperator
    from moka_provider.operators.spark import MokaSparkOperator

    return issubclass(task_class(task), MokaSparkOperator | MonarchSparkOperator)


def dag_shape(bag: Any) -> dict[str, dict[str, tuple[frozenset[str], frozenset[str]]]]:
    """dag id -> task id -> (upstream ids, downstream ids)."""
    return {
        dag_id: {
            task.task_id: (frozenset(task.upstream_task_ids), frozenset(task.downstream_task_ids))
            for task in dag.tasks
        }
        for dag_id, dag in bag.dags.items()
    }


def files_of(bag: Any) -> dict[str, set[str]]:
    """File name -> the dag ids it defines."""
    found: dict[str, set[str]] = {}
    for dag_id, dag in bag.dags.items():
        found.setdefault(Path(dag.fileloc).name, set()).add(dag_id)
    return found


def path_map_file(folder: Path, mapping: Mapping[str, Any]) -> Path:
    """A ``moka migrate --path-map`` file (JSON): a path map, or ``{path_map, priority_classes}``."""
    import json

    path = folder / "path_map.json"
    path.write_text(json.dumps(mapping, indent=2))
    return path


def task_id_pattern(source: str) -> re.Pattern[str]:
    """The task ids a ``task_id=`` argument written as ``source`` can make: a string literal is
    itself; in an f-string each ``{...}`` stands for any text; anything else matches any id."""
    import ast

    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return re.compile(".+")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value))
    if isinstance(node, ast.JoinedStr):
        parts = [
            re.escape(str(part.value)) if isinstance(part, ast.Constant) else ".+" for part in node.values
        ]
        return re.compile("".join(parts))
    return re.compile(".+")
