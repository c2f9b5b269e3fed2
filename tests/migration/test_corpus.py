"""The Monarch migration, proven on a corpus of Monarch-style DAG files (tests/migration/corpus).

For every corpus file: ``moka migrate`` rewrites it to its reviewed golden output (and report), a
second rewrite changes nothing, the original (Airflow 1 import paths through a test-only shim, see
tests/migration/legacy_shim) and the rewritten file both import in a real Airflow DagBag with the
same DAGs, task ids and dependencies, every Spark task of the original is a Moka task of the
rewritten DAG or is listed in the report as left alone, and every Moka task renders, for a made-up
run, to a SparkApplication that the official CRD schema accepts. Broken files are reported and left
byte-identical (also by the CLI). None of this needs a cluster; a sample of the rewritten DAGs runs
on `moka local` with real Spark in ``tests/integration/test_migration_e2e.py``.

Regenerate the golden files with ``MOKA_UPDATE_GOLDEN=1`` (then review them: they are the spec).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moka_provider.migration.report import render_report
from tests.migration.corpus_tools import (
    BEFORE_AIRFLOW_3,
    CORPUS,
    GOLDEN,
    GOLDEN_PATH_MAP,
    GOLDEN_PRIORITY_CLASSES,
    GOLDEN_TODAY,
    broken_files,
    corpus_files,
    corpus_sources,
    dag_shape,
    files_of,
    is_moka_spark_task,
    is_monarch_spark_task,
    load_dagbag,
    path_map_file,
    rewrite,
    rewrite_corpus,
    task_class,
    task_id_pattern,
)

UPDATE_GOLDEN = os.environ.get("MOKA_UPDATE_GOLDEN") == "1"
FILES = corpus_files()
NAMES = [path.name for path in FILES]
SOURCES = corpus_sources()
MOKA = str(Path(sys.executable).parent / "moka")


# -- shared per module: the rewrites and the two DagBags -------------------------------------------


@pytest.fixture(scope="module")
def moka_rewrites() -> dict[str, Any]:
    """The corpus through the Moka rewrite alone (``moka migrate --no-airflow3``)."""
    return rewrite_corpus(lambda source: rewrite(source, airflow3=False))


@pytest.fixture(scope="module")
def rewritten_folder(
    tmp_path_factory: pytest.TempPathFactory, moka_rewrites: dict[str, Any]
) -> tuple[Path, dict[str, Any]]:
    """The corpus rewritten the way ``moka migrate`` rewrites a folder (helpers included): the
    Moka rewrite, then the Airflow 3 pass."""
    from moka_provider.migration.airflow3 import bring_to_airflow3

    folder = tmp_path_factory.mktemp("rewritten-dags")
    by_source = {(CORPUS / name).read_text(): result for name, result in moka_rewrites.items()}
    return folder, rewrite_corpus(
        lambda source: bring_to_airflow3(by_source[source], source, GOLDEN_TODAY), folder
    )


@pytest.fixture(scope="module")
def rewrites(rewritten_folder: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return rewritten_folder[1]


@pytest.fixture(scope="module")
def original_bag(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The originals, those of :data:`BEFORE_AIRFLOW_3` after the Airflow 3 pass alone."""
    from moka_provider.migration.airflow3 import airflow3_pass

    folder = tmp_path_factory.mktemp("original-dags")
    shutil.copytree(CORPUS, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for name in BEFORE_AIRFLOW_3:
        (folder / name).write_text(airflow3_pass((CORPUS / name).read_text(), GOLDEN_TODAY).source)
    return load_dagbag(folder, legacy_spark=True)


@pytest.fixture(scope="module")
def rewritten_bag(rewritten_folder: tuple[Path, dict[str, Any]]) -> Any:
    return load_dagbag(rewritten_folder[0], legacy_spark=False, legacy=False)  # Airflow 3.3 as it is


# -- the corpus and its golden outputs -------------------------------------------------------------


def test_the_corpus_is_large_enough_and_every_source_has_a_golden_output() -> None:
    assert len(FILES) >= 30
    assert len(broken_files()) >= 3
    if not UPDATE_GOLDEN:
        golden = sorted(str(path.relative_to(GOLDEN)) for path in GOLDEN.rglob("*.py"))
        assert golden == SOURCES
        reports = sorted(str(path.relative_to(GOLDEN)) for path in GOLDEN.rglob("*.md"))
        assert reports == sorted(_report_name(name) for name in SOURCES)


def _report_name(name: str) -> str:
    return name + ".md"  # as ``moka migrate --report-dir`` names it


@pytest.mark.parametrize("name", SOURCES)
def test_rewrite_matches_the_golden_output(name: str, rewrites: dict[str, Any]) -> None:
    result = rewrites[name]
    report = render_report(name, result)
    golden, golden_report = GOLDEN / name, GOLDEN / _report_name(name)
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.source)
        golden_report.write_text(report)
    assert result.error is None
    assert result.changed == (result.source != (CORPUS / name).read_text())
    assert result.source == golden.read_text()
    assert report == golden_report.read_text()


@pytest.mark.parametrize("name", SOURCES)
def test_rewriting_a_rewritten_file_changes_nothing(name: str, rewrites: dict[str, Any]) -> None:
    again = rewrite(rewrites[name].source)
    assert again.error is None
    assert again.source == rewrites[name].source
    assert not again.changed


# -- both versions import in a real DagBag, with the same DAGs ------------------------------------


def test_originals_import_without_errors(original_bag: Any) -> None:
    assert original_bag.import_errors == {}
    assert set(files_of(original_bag)) == set(NAMES)  # every file made at least one DAG


@pytest.mark.parametrize("name", BEFORE_AIRFLOW_3)
def test_monarch_era_originals_do_not_load_on_airflow_3_even_through_the_shim(
    name: str, tmp_path: Path
) -> None:
    shutil.copy(CORPUS / name, tmp_path / name)
    [error] = load_dagbag(tmp_path, legacy_spark=True).import_errors.values()
    assert any(gone in error for gone in ("days_ago", "schedule_interval", "airflow.contrib")), error


def test_rewritten_files_import_without_errors(rewritten_bag: Any) -> None:
    assert rewritten_bag.import_errors == {}
    assert set(files_of(rewritten_bag)) == set(NAMES)


def test_migrated_files_load_on_airflow_3_each_alone_as_moka_migrate_check_loads_them(
    rewrites: dict[str, Any], moka_rewrites: dict[str, Any]
) -> None:
    """The issue's target, measured by ``moka migrate --check``'s loader (another process, a DagBag
    per file, no shim): every migrated file loads unless it needs a module of the team's own or a
    provider not installed, and the check says which; its SparkApplications validate. Printed (and
    bounded): how many originals load, and how many migrated files with and without the Airflow 3 pass."""
    from moka_provider.migration.check import Migrated, check

    originals = {name: (CORPUS / name).read_text() for name in SOURCES}
    checks = check([Migrated(Path(name), CORPUS, originals[name], rewrites[name]) for name in SOURCES])
    without_pass = check(
        [Migrated(Path(name), CORPUS, "", moka_rewrites[name]) for name in SOURCES],
        originals=False,
    )
    excused = {}
    for item in checks:
        missing = item.migrated.missing or ""
        assert item.migrated.loads or missing.startswith(("provider not installed", "the team's own")), (
            f"{item.path}: {item.migrated.error}"
        )
        assert not item.migrated.invalid, item.path
        if not item.migrated.loads:
            excused[Path(item.path).name] = missing
    loads = {
        "originals": sum(bool(item.original and item.original.loads) for item in checks),
        "migrated": sum(item.migrated.loads for item in checks),
        "migrated without the Airflow 3 pass": sum(item.migrated.loads for item in without_pass),
    }
    print(f"\ncorpus files loading on Airflow 3 ({len(SOURCES)} files): {loads}; not loading: {excused}")
    assert loads["migrated"] + len(excused) == len(SOURCES)
    assert loads["originals"] < len(SOURCES) and loads["migrated without the Airflow 3 pass"] < len(SOURCES)


@pytest.mark.parametrize("name", NAMES)
def test_same_dags_tasks_and_dependencies(name: str, original_bag: Any, rewritten_bag: Any) -> None:
    dag_ids = files_of(original_bag)[name]
    assert files_of(rewritten_bag)[name] == dag_ids
    before, after = dag_shape(original_bag), dag_shape(rewritten_bag)
    for dag_id in dag_ids:
        assert after[dag_id] == before[dag_id], dag_id


def _reported_as_left_alone(task: Any, result: Any) -> bool:
    """Whether the report names ``task`` (by its task id, a literal or an f-string pattern) as a
    Spark task left alone, or says in a note that its operator class is not rewritten."""
    own_id = task.task_id.rsplit(".", 1)[-1]  # without its task group
    for entry in result.tasks:
        left_alone = entry.spark and entry.outcome in ("untouched", "needs-human") and entry.task_id
        if left_alone and task_id_pattern(entry.task_id).fullmatch(own_id):
            return True
    return any(task_class(task).__name__ in note for note in result.notes)


@pytest.mark.parametrize("name", NAMES)
def test_no_spark_task_is_silently_left_out(
    name: str, original_bag: Any, rewritten_bag: Any, rewrites: dict[str, Any]
) -> None:
    """Each Spark task of the original is a Moka task after, or is still its original class and the
    report says it was left alone; no other task became a Moka task."""
    spark_tasks = 0
    for dag_id in files_of(original_bag)[name]:
        original, rewritten = original_bag.dags[dag_id], rewritten_bag.dags[dag_id]
        for task in original.tasks:
            after = rewritten.get_task(task.task_id)
            if not is_monarch_spark_task(task):
                assert not is_moka_spark_task(after), f"{task.task_id} runs no Spark yet became a Moka task"
                continue
            spark_tasks += 1
            if not is_moka_spark_task(after):
                assert task_class(after) is task_class(task), task.task_id
                assert _reported_as_left_alone(task, rewrites[name]), (
                    f"{task.task_id} ({task_class(task).__name__}) was left as it was, "
                    f"and the report does not say so: {rewrites[name].tasks}"
                )
    assert spark_tasks, f"{name} has no Spark task: not a migration case"


def test_spark_task_totals_over_the_corpus(
    original_bag: Any, rewritten_bag: Any, rewrites: dict[str, Any]
) -> None:
    """Over the whole corpus: Spark tasks before == Moka tasks after + tasks the reports leave alone."""
    before = moka = left_alone = 0
    for dag_id, original in original_bag.dags.items():
        name = Path(original.fileloc).name
        for task in original.tasks:
            if is_monarch_spark_task(task):
                before += 1
                after = rewritten_bag.dags[dag_id].get_task(task.task_id)
                moka += is_moka_spark_task(after)
                left_alone += not is_moka_spark_task(after) and _reported_as_left_alone(task, rewrites[name])
    assert before >= 50  # the corpus exercises the rewriter on many tasks, loops expanded
    assert before == moka + left_alone


# -- what the review of the golden files found wrong (strict: each must fail until fixed) ------------


def _task_entry(result: Any, task_id: str) -> Any:
    [entry] = [task for task in result.tasks if task.task_id == f'"{task_id}"']
    return entry


def test_driver_class_path_is_not_mapped_to_a_remote_url(rewrites: dict[str, Any]) -> None:
    result = rewrites["24_unused_jdbc_import_hadoop_env.py"]
    [finding] = [
        f for f in _task_entry(result, "load_vendors").findings if f.subject == "--driver-class-path"
    ]
    assert finding.kind == "attention"
    assert '"spark.driver.extraClassPath": "s3a://' not in result.source


def test_a_worker_local_ivy_settings_file_is_flagged(rewrites: dict[str, Any]) -> None:
    entry = _task_entry(rewrites["12_artifacts.py"], "enrich_events")
    assert any(f.kind == "attention" and f.subject == "spark.jars.ivySettings" for f in entry.findings)


def test_env_vars_reach_the_driver_only_as_on_yarn(rewritten_bag: Any) -> None:
    dag = rewritten_bag.dags["monarch_27_price_elasticity"]
    task = dag.get_task("elasticity_model")
    context = render_context(dag, task)
    task.render_template_fields(context)
    spec = task.build_manifest(moka_settings(), context)["spec"]
    driver_env = {item["name"] for item in spec["driver"].get("env", [])} | {
        key.removeprefix("spark.kubernetes.driverEnv.") for key in spec.get("sparkConf", {})
    }
    assert "OMP_NUM_THREADS" in driver_env
    assert "OMP_NUM_THREADS" not in {item["name"] for item in spec["executor"].get("env", [])}


# -- every Moka task renders to a valid SparkApplication -------------------------------------------


class _Variables:
    """``var.value`` / ``var.json`` of the template context: every variable takes its default."""

    def get(self, key: str, default: Any = None) -> Any:
        return default


class _Connections:
    """``conn`` of the template context: every connection exists, with made-up fields."""

    def __getattr__(self, conn_id: str) -> Any:
        import types

        return types.SimpleNamespace(conn_id=conn_id, host="db.test", login="etl", password="not-a-secret")


@dataclasses.dataclass
class _DagRun:
    conf: dict[str, Any]
    run_id: str = "scheduled__2024-03-05T00:00:00+00:00"


class _TaskInstance:
    try_number = 1
    map_index = -1

    def xcom_pull(self, *args: Any, **kwargs: Any) -> str:
        return "xcom-value"


def render_context(dag: Any, task: Any) -> dict[str, Any]:
    """What Airflow gives templates for the run of 2024-03-05 (a made-up, but complete, context)."""
    import pendulum
    from airflow.sdk.execution_time import macros

    logical = pendulum.datetime(2024, 3, 5, tz="UTC")
    end = logical + datetime.timedelta(days=1)
    params = {**dag.params.dump(), **task.params.dump()}
    return {
        "dag": dag,
        "task": task,
        "ti": _TaskInstance(),
        "task_instance": _TaskInstance(),
        "run_id": _DagRun({}).run_id,
        "dag_run": _DagRun({"model": "als", "days": 7, "program": "gold"}),
        "logical_date": logical,
        "data_interval_start": logical,
        "data_interval_end": end,
        "ds": logical.strftime("%Y-%m-%d"),
        "ds_nodash": logical.strftime("%Y%m%d"),
        "ts": logical.isoformat(),
        "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical.strftime("%Y%m%dT%H%M%S%z"),
        "macros": macros,
        "params": params,
        "var": {"value": _Variables(), "json": _Variables()},
        "conn": _Connections(),
    }


#: Hadoop-era URLs; those under a prefix of the path map must have been mapped.
HDFS_URL = re.compile(r"(?:hdfs|s3)://[^\s\"',]+")
MAPPED = tuple(GOLDEN_PATH_MAP)


def moka_settings() -> Any:
    from moka_provider.settings import MokaSettings

    return MokaSettings(
        namespace="moka-migration",
        queue="root.default",
        images={"spark": "registry.moka.test/spark:3.5.3"},
        versions={"spark": "3.5.3"},
        path_map=GOLDEN_PATH_MAP,
        priority_classes=GOLDEN_PRIORITY_CLASSES,
        spark_sql_runner="local:///opt/moka/spark_sql_runner.py",
        spark_jdbc_runner="local:///opt/moka/spark_jdbc_runner.py",
    )


#: The JDBC connections corpus DAGs name: MonarchSparkJDBCOperator reads its connection when it runs.
JDBC_CONNECTIONS: dict[str, dict[str, Any]] = {
    "crm_postgres": {
        "conn_type": "jdbc",
        "host": "crm-db.test",
        "port": 5432,
        "schema": "crm",
        "login": "etl",
        "password": "crm-pw-0",
        "extra": {"conn_prefix": "jdbc:postgresql://", "moka_password_secret": "crm-db"},
    }
}


def unmapped(task: Any) -> Any:
    """A mapped task as its first mapped instance; any other task as it is."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    if not isinstance(task, MappedOperator):
        return task
    expand: Any = task.expand_input.value  # {argument: the list it maps over}
    first = {name: values[0] for name, values in expand.items()}
    return task.unmap(first)


@pytest.mark.parametrize("name", NAMES)
def test_every_moka_task_renders_to_a_valid_spark_application(
    name: str, rewritten_bag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moka_provider.resources import SPARK_APPLICATION
    from moka_provider.schema import validate_against_crd

    for conn_id, connection in JDBC_CONNECTIONS.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
    settings = moka_settings()
    checked = 0
    for dag_id in sorted(files_of(rewritten_bag)[name]):
        dag = rewritten_bag.dags[dag_id]
        for task in dag.tasks:
            if not is_moka_spark_task(task):
                continue
            instance = unmapped(task)
            context = render_context(dag, instance)
            instance.render_template_fields(context)
            manifest = instance.build_manifest(settings, context)
            validate_against_crd(SPARK_APPLICATION, manifest, argument=task.task_id)
            spec = manifest["spec"]
            assert manifest["kind"] == "SparkApplication"
            assert spec["mainApplicationFile"] and "{{" not in json.dumps(spec), task.task_id
            left = [url for url in HDFS_URL.findall(json.dumps(spec)) if url.startswith(MAPPED)]
            assert not left, f"{task.task_id}: paths the path map covers are left: {left}"
            assert not any(c["password"] in json.dumps(manifest) for c in JDBC_CONNECTIONS.values())
            checked += 1
    assert checked, f"{name} has no Moka Spark task"


# -- broken files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(broken_files()))
def test_broken_files_are_reported_and_left_unchanged(name: str) -> None:
    source = broken_files()[name]
    result = rewrite(source)
    try:
        compile(source, name, "exec")
    except SyntaxError:
        assert result.error, "a file that does not parse must be reported"
        assert result.source == source and not result.changed
    else:  # parses, fails only when imported: the rewriter cannot know; the failure must stay the same
        assert result.error is None


def test_a_file_that_fails_at_import_fails_the_same_way_after(tmp_path: Path) -> None:
    name = "b03_fails_at_import.py"
    source = broken_files()[name]
    before, after = tmp_path / "before", tmp_path / "after"
    for folder, text in ((before, source), (after, rewrite(source).source)):
        folder.mkdir()
        (folder / name).write_text(text)
    errors = [load_dagbag(folder, legacy_spark=False).import_errors for folder in (before, after)]
    for found in errors:
        [message] = found.values()
        assert "/etc/monarch/pipelines/churn.json" in message


def test_cli_migrates_a_copy_of_the_corpus_and_leaves_broken_files_alone(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in broken_files().items():
        (folder / name).write_text(text)
    reports = tmp_path / "reports"
    options = {"path_map": GOLDEN_PATH_MAP, "priority_classes": GOLDEN_PRIORITY_CLASSES}
    result = subprocess.run(
        [
            MOKA,
            "migrate",
            str(folder),
            "--report-dir",
            str(reports),
            "--path-map",
            str(path_map_file(tmp_path, options)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    unparsable = [name for name, text in broken_files().items() if not _parses(text)]
    assert len(unparsable) == 2
    for name in unparsable:  # left byte for byte, said on stderr and in its report
        assert (folder / name).read_bytes() == broken_files()[name].encode(), name
        assert name in result.stderr
        assert "Status: error: does not parse" in (reports / _report_name(name)).read_text()
    # `days_ago(n)` becomes n days before the day of the migration: today here, GOLDEN_TODAY there.
    today = datetime.datetime.now(datetime.UTC).date()
    assert _start_date(today - datetime.timedelta(days=2)) in (folder / BEFORE_AIRFLOW_3[0]).read_text()

    def as_of_golden_today(text: str) -> str:
        for days in range(10):
            then = _start_date(today - datetime.timedelta(days=days))
            text = text.replace(then, _start_date(GOLDEN_TODAY - datetime.timedelta(days=days)))
        return text

    for name in SOURCES:  # the DAG files and their helpers, as the harness rewrote them one by one
        assert as_of_golden_today((folder / name).read_text()) == (GOLDEN / name).read_text(), name
        report = as_of_golden_today((reports / _report_name(name)).read_text().replace(f"{folder}/", ""))
        assert report == (GOLDEN / _report_name(name)).read_text(), name  # the same report too


def _start_date(day: datetime.date) -> str:
    """What the Airflow 3 pass writes for ``days_ago`` counting back to ``day``."""
    return f'pendulum.datetime({day.year}, {day.month}, {day.day}, tz="UTC")'


def _parses(text: str) -> bool:
    try:
        compile(text, "<corpus>", "exec")
    except SyntaxError:
        return False
    return True
