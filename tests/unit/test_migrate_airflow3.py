"""The Airflow 3 pass of ``moka migrate``: ruff's AIR3 fixes, then what ruff leaves (libcst)."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import pytest

from moka_provider.cli import main
from moka_provider.migration.airflow3 import airflow3_pass, bring_to_airflow3, lines_back
from moka_provider.migration.airflow3_paths import MODULES, SPARK, STANDARD
from moka_provider.migration.airflow3_rewrite import rewrite_for_airflow3
from moka_provider.migration.rewrite import FileRewrite, rewrite_source

TODAY = datetime.date(2026, 3, 10)


def _imports(source: str) -> set[tuple[str, str, str | None]]:
    """(module, name, alias) of every ``from ... import ...`` in ``source``."""
    return {
        (node.module or "", alias.name, alias.asname)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


@pytest.mark.parametrize(
    ("old_module", "name", "new_module", "new_name"),
    [
        (
            "airflow.contrib.operators.spark_submit_operator",
            "SparkSubmitOperator",
            None,
            "SparkSubmitOperator",
        ),
        ("airflow.contrib.operators.spark_jdbc_operator", "SparkJDBCOperator", None, "SparkJDBCOperator"),
        ("airflow.contrib.hooks.ssh_hook", "SSHHook", None, "SSHHook"),
        ("airflow.contrib.hooks.aws_hook", "AwsHook", None, "AwsBaseHook"),
        ("airflow.contrib.sensors.file_sensor", "FileSensor", None, "FileSensor"),
        ("airflow.sensors.time_delta_sensor", "TimeDeltaSensor", None, "TimeDeltaSensor"),
        ("airflow.operators.dummy_operator", "DummyOperator", None, "EmptyOperator"),
    ],
)
def test_an_old_module_path_moves_to_its_airflow3_home(
    old_module: str, name: str, new_module: str | None, new_name: str
) -> None:
    source = f"from {old_module} import {name}\n\ntask = {name}(task_id='t')\n"
    done = rewrite_for_airflow3(source, TODAY)
    home = MODULES[old_module]
    assert _imports(done.source) == {(new_module or home.module, new_name, None)}
    assert f"task = {new_name}(task_id='t')" in done.source  # a renamed class is renamed where used
    assert home.provider in done.providers
    [change] = done.changes
    assert change.startswith(f"line 1: {name} from {old_module} -> from {home.module}")


def test_an_alias_keeps_its_local_name() -> None:
    source = "from airflow.operators.dummy_operator import DummyOperator as Noop\n\nt = Noop(task_id='t')\n"
    done = rewrite_for_airflow3(source, TODAY)
    assert _imports(done.source) == {("airflow.providers.standard.operators.empty", "EmptyOperator", "Noop")}
    assert "t = Noop(task_id='t')" in done.source


def test_an_unused_import_of_a_gone_module_is_removed_and_a_module_without_home_is_reported() -> None:
    source = (
        "# the imports\n"
        "from airflow.operators.dummy_operator import DummyOperator\n"
        "from airflow.contrib.operators.s3_to_gcs_operator import S3ToGoogleCloudStorageOperator\n"
        "\n"
        "copy = S3ToGoogleCloudStorageOperator(task_id='copy')\n"
    )
    done = rewrite_for_airflow3(source, TODAY)
    assert "dummy_operator" not in done.source
    assert done.source.startswith("# the imports\nfrom airflow.contrib.operators.s3_to_gcs_operator import")
    assert done.changes == [
        "line 2: removed the import of DummyOperator from airflow.operators.dummy_operator (not in Airflow 3)"
    ]
    [left] = done.left
    assert left.startswith(
        "line 3: S3ToGoogleCloudStorageOperator from airflow.contrib.operators.s3_to_gcs_operator"
    )


def test_days_ago_becomes_a_fixed_pendulum_start_date() -> None:
    source = (
        '"""A DAG."""\n'
        "from airflow.utils.dates import days_ago\n"
        "from airflow.sdk import DAG\n"
        "\n"
        "dag = DAG('d', start_date=days_ago(2), default_args={'start_date': days_ago(0, hour=6)})\n"
        "late = DAG('e', start_date=days_ago(N))\n"
    )
    done = rewrite_for_airflow3(source, TODAY)
    assert 'start_date=pendulum.datetime(2026, 3, 8, tz="UTC")' in done.source
    assert "{'start_date': pendulum.datetime(2026, 3, 10, 6, tz=\"UTC\")}" in done.source
    assert done.source.startswith(  # after the import block, as the other new imports
        '"""A DAG."""\nfrom airflow.utils.dates import days_ago\nfrom airflow.sdk import DAG\nimport pendulum\n\n'
    )
    assert "days_ago(N)" in done.source  # not a number: left, and the import it needs kept
    assert any("days_ago(N)" in line and "write a fixed start date" in line for line in done.left)
    assert sum("check it is the one you want" in line for line in done.changes) == 2


def test_days_ago_import_goes_when_every_use_is_replaced() -> None:
    source = "import pendulum\nfrom airflow.utils.dates import days_ago\n\nSTART = days_ago(1)\n"
    done = rewrite_for_airflow3(source, TODAY)
    assert done.source == 'import pendulum\n\nSTART = pendulum.datetime(2026, 3, 9, tz="UTC")\n'


def test_schedule_interval_and_provide_context() -> None:
    source = (
        "from airflow.sdk import DAG, dag\n"
        "from airflow.providers.standard.operators.python import PythonOperator\n"
        "\n"
        "d = DAG('d', schedule_interval='@daily')\n"
        "@dag(schedule_interval=None)\n"
        "def f():\n"
        "    PythonOperator(task_id='p', python_callable=print, provide_context=True)\n"
        "other = dict(schedule_interval=1)\n"
    )
    done = rewrite_for_airflow3(source, TODAY)
    assert "DAG('d', schedule='@daily')" in done.source
    assert "@dag(schedule=None)" in done.source
    assert "PythonOperator(task_id='p', python_callable=print)" in done.source
    assert "dict(schedule_interval=1)" in done.source  # not a DAG
    assert len(done.changes) == 3


def test_the_whole_pass_applies_ruff_fixes_names_them_and_reports_missing_providers() -> None:
    source = (
        "from airflow import DAG\n"
        "from airflow.operators.dummy_operator import DummyOperator\n"
        "from airflow.sensors.s3_key_sensor import S3KeySensor\n"
        "from airflow.utils.dates import days_ago\n"
        "\n"
        "with DAG('d', start_date=days_ago(1), schedule_interval='@daily') as dag:\n"
        "    DummyOperator(task_id='start') >> S3KeySensor(task_id='wait', bucket_key='k')\n"
    )
    done = airflow3_pass(source, TODAY)
    imports = _imports(done.source)
    assert ("airflow.sdk", "DAG", None) in imports
    assert ("airflow.providers.standard.operators.empty", "EmptyOperator", None) in imports
    assert ("airflow.providers.amazon.aws.sensors.s3", "S3KeySensor", None) in imports
    assert not any("dummy_operator" in module or "dates" in module for module, _, _ in imports)
    assert "schedule='@daily'" in done.source and 'pendulum.datetime(2026, 3, 9, tz="UTC")' in done.source
    assert any(
        line.startswith("line 6: `airflow.DAG`") and line.endswith("(ruff AIR311)") for line in done.changes
    )
    assert any("`schedule_interval`" in line and "(ruff AIR301)" in line for line in done.changes)
    assert "apache-airflow-providers-amazon is not installed here: install it where the DAGs run" in done.left
    assert not any("days_ago" in line for line in done.left)  # ruff's finding is the pass's change
    again = airflow3_pass(done.source, TODAY)
    assert again.source == done.source and again.changes == []


def test_bring_to_airflow3_reports_in_the_file_rewrite() -> None:
    source = "from airflow.operators.bash_operator import BashOperator\n\nBashOperator(task_id='t')\n"
    result = bring_to_airflow3(FileRewrite(source, False), source, TODAY)
    assert result.changed  # by the Airflow 3 pass alone
    assert _imports(result.source) == {("airflow.providers.standard.operators.bash", "BashOperator", None)}
    [line] = result.airflow3
    assert line.startswith("line 3: `airflow.operators.bash_operator.BashOperator`: Install")
    broken = FileRewrite("def (", False, error="does not parse")
    assert bring_to_airflow3(broken, "def (", TODAY) is broken


def test_lines_back_takes_each_new_line_to_the_old_line_it_came_from() -> None:
    old = "a\nb\nc\nd\ne\n"
    back = lines_back(old, "top\na\nadded\nb\nC\nD1\nD2\ne\n")  # c, d changed into C, D1, D2
    assert [back(line) for line in range(1, 9)] == [1, 1, 1, 2, 3, 4, 4, 5]
    back = lines_back(old, "a\nX\ne\n")  # b, c, d changed into one line
    assert [back(line) for line in range(1, 4)] == [1, 2, 5]
    back = lines_back(old, "a\nc\ne\n")  # b, d removed
    assert [back(line) for line in range(1, 4)] == [1, 3, 5]


def test_the_report_gives_lines_of_the_original_file_though_the_moka_rewrite_moved_them() -> None:
    source = (
        "from airflow import DAG\n"
        "from airflow.contrib.operators.spark_submit_operator import SparkSubmitOperator\n"
        "from airflow.operators.dummy_operator import DummyOperator\n"
        "from airflow.utils.dates import days_ago\n"
        "\n"
        "dag = DAG('d', start_date=days_ago(1), schedule_interval='@daily')\n"
        "job = SparkSubmitOperator(task_id='job', application='s3://b/job.py', dag=dag)\n"
        "end = DummyOperator(task_id='end', dag=dag)\n"
    )
    moka = rewrite_source(source)
    assert moka.source.splitlines()[1].startswith("from airflow.operators.dummy_operator")  # moved up
    result = bring_to_airflow3(moka, source, TODAY)
    lines = {line.split(": ")[1].split(" ")[0]: line.split(":")[0] for line in result.airflow3}
    assert lines == {
        "`airflow.DAG`": "line 6",  # ruff's fix, found on the Moka rewrite
        "`schedule_interval`": "line 6",
        "`airflow.operators.dummy_operator.DummyOperator`": "line 8",
        "days_ago(1)": "line 6",  # the Airflow 3 rewrite's, made on ruff's output
        "removed": "line 4",
    }
    assert "line 3: removed the import of DummyOperator" in " ".join(result.airflow3)


def test_table_homes_name_their_providers() -> None:
    assert MODULES["airflow.operators.bash_operator"].provider == STANDARD
    assert MODULES["airflow.contrib.operators.spark_sql_operator"].provider == SPARK
    assert all(home.module.startswith("airflow.") for home in MODULES.values())


def test_cli_no_airflow3_leaves_the_pass_out(tmp_path: Path) -> None:
    legacy = (
        "from airflow import DAG\n"
        "from airflow.operators.dummy_operator import DummyOperator\n"
        "\n"
        "dag = DAG('d', schedule_interval=None)\n"
        "start = DummyOperator(task_id='start', dag=dag)\n"
    )
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    (tmp_path / "with" / "d.py").write_text(legacy)
    (tmp_path / "without" / "d.py").write_text(legacy)
    reports = tmp_path / "reports"
    assert main(["migrate", str(tmp_path / "with"), "--report-dir", str(reports)]) == 0
    assert main(["migrate", str(tmp_path / "without"), "--no-airflow3"]) == 0
    migrated = (tmp_path / "with" / "d.py").read_text()
    assert "EmptyOperator(task_id='start', dag=dag)" in migrated and "schedule=None" in migrated
    assert (tmp_path / "without" / "d.py").read_text() == legacy
    report = (reports / "d.py.md").read_text()
    assert "## Airflow 3" in report and "(ruff AIR302)" in report


def test_other_names_of_the_import_stay_as_written_and_a_plain_import_of_a_gone_module_is_reported() -> None:
    source = (
        "import airflow.contrib.operators.ssh_operator\n"
        "from airflow.utils.dates import (  # dates\n"
        "    cron_presets,\n"
        "    days_ago,\n"
        ")\n"
        "\n"
        "START = days_ago(3)\n"
    )
    done = rewrite_for_airflow3(source, TODAY)
    assert "from airflow.utils.dates import (  # dates\n    cron_presets,\n)\n" in done.source
    assert "days_ago" not in done.source
    [left] = done.left
    assert left.startswith(
        "line 1: import airflow.contrib.operators.ssh_operator: Airflow 3 has no such module"
    )
