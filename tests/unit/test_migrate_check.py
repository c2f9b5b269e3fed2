"""``moka migrate --check``: each migrated file and its original loaded in real DagBags, in another
process, and what the report says about them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moka_provider.cli import main
from moka_provider.migration.check import missing_module
from tests.migration.corpus_tools import CORPUS

S3_WAIT = """\
from datetime import datetime

from airflow import DAG
from airflow.sensors.s3_key_sensor import S3KeySensor

with DAG("s3_wait", start_date=datetime(2024, 1, 1), schedule_interval=None):
    S3KeySensor(task_id="wait", bucket_key="s3://acme/ready")
"""
TEAM = """\
from datetime import datetime

from acme_airflow.sensors import PartitionSensor
from airflow import DAG

with DAG("team", start_date=datetime(2024, 1, 1), schedule=None):
    PartitionSensor(task_id="wait", table="events")
"""


def test_check_loads_migrated_files_next_to_their_originals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(CORPUS / "02_contrib_jar_job.py", dags)  # Airflow 1 paths: only the migrated file loads
    shutil.copy(CORPUS / "09_kwargs_unpacking_inhouse.py", dags)  # imports the team's monarch_common
    shutil.copytree(
        CORPUS / "monarch_common", dags / "monarch_common", ignore=shutil.ignore_patterns("__pycache__")
    )
    (dags / "s3_wait.py").write_text(S3_WAIT)
    (dags / "team.py").write_text(TEAM)
    code = main(["migrate", str(dags), "--output-dir", str(tmp_path / "out"), "--check"])
    out = capsys.readouterr().out
    check = out[out.index("moka migrate --check") :].splitlines()
    table = check[2 : next(index for index, line in enumerate(check) if line.startswith("loads: "))]
    rows = {line.split()[0]: line.split()[1:] for line in table}
    assert rows[f"{dags}/02_contrib_jar_job.py"] == ["fails", "loads", "1", "0", "0", "1", "valid"]
    assert rows[f"{dags}/09_kwargs_unpacking_inhouse.py"][:2] == ["loads", "loads"]
    assert rows[f"{dags}/s3_wait.py"][:2] == ["fails", "fails"]
    assert rows[f"{dags}/team.py"][:2] == ["fails", "fails"]
    assert "loads: 4 of 7 originals, 5 of 7 migrated files" in check  # with monarch_common's 3 modules
    assert (
        f"{dags}/02_contrib_jar_job.py (original): ModuleNotFoundError: No module named 'airflow.contrib' "
        "[a module Airflow 3 no longer has: airflow.contrib]"
    ) in check
    assert any(
        line.startswith(f"{dags}/s3_wait.py (migrated): ModuleNotFoundError")
        and line.endswith("[provider not installed: apache-airflow-providers-amazon]")
        for line in check
    )
    assert (
        f"{dags}/team.py (migrated): ModuleNotFoundError: No module named 'acme_airflow' "
        "[the team's own module, not in the DAG folder nor installed: acme_airflow]"
    ) in check
    assert code == 1  # two migrated files do not load


@pytest.mark.parametrize(
    ("error", "source", "expected"),
    [
        (
            "ModuleNotFoundError: No module named 'airflow.providers.apache.hive'",
            "from airflow.providers.apache.hive.operators.hive import HiveOperator",
            "provider not installed: apache-airflow-providers-apache-hive",
        ),
        (
            "ModuleNotFoundError: No module named 'airflow.providers.microsoft'",
            "from airflow.providers.microsoft.azure.hooks.wasb import WasbHook",
            "provider not installed: apache-airflow-providers-microsoft-azure",
        ),
        (
            "ModuleNotFoundError: No module named 'airflow.contrib'",
            "",
            "a module Airflow 3 no longer has: airflow.contrib",
        ),
        ("KeyError: 'x'", "", None),
    ],
)
def test_what_a_missing_module_is(error: str, source: str, expected: str | None) -> None:
    assert missing_module(error, source) == expected
