"""The Monarch drop-in operators in a real Airflow 3 (``airflow dags test``) with real Spark on `moka local`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import AirflowHomes, SyncOrAsync, airflow_with_links, clean, jobs_of, run_dag

WORKLOADS = Path(__file__).resolve().parent / "workloads"
DAG_ID = "moka_monarch_dropins"


@pytest.fixture(scope="module")
def airflow_env(moka_local: Any, airflow_homes: AirflowHomes) -> dict[str, str]:
    extras = {"monarch_path_map": json.dumps({"hdfs://monarch-nn/apps": f"local://{WORKLOADS}"})}
    return airflow_with_links(airflow_homes, extras)


def test_spark_submit_sql_and_bash_tasks_run_on_moka_unchanged(airflow_env: dict[str, str]) -> None:
    hook = SyncOrAsync("sync")
    clean(hook, "spark", DAG_ID)

    output = run_dag(airflow_env, DAG_ID, "2024-03-05")

    jobs = {job["metadata"]["labels"]["moka.dev/task-id"]: job for job in jobs_of(hook, "spark", DAG_ID)}
    assert sorted(jobs) == ["bash", "sql", "submit"]  # one job per task
    submit, sql, bash = jobs["submit"], jobs["sql"], jobs["bash"]
    # SparkSubmitOperator's arguments: the HDFS path mapped, the name a DNS label, YARN settings gone
    assert submit["spec"]["mainApplicationFile"] == f"local://{WORKLOADS}/script.py"
    assert submit["metadata"]["name"].startswith("nightly-load-20240305-")
    assert submit["spec"]["arguments"] == ["dropin-20240305", "0", "0"]
    assert "spark.shuffle.service.enabled" not in submit["spec"].get("sparkConf", {})
    assert submit["spec"]["restartPolicy"] == {"type": "Never"}
    assert "script says: dropin-20240305" in output
    assert "Monarch -> Moka: dropped HADOOP_CONF_DIR" in output
    # SparkSqlOperator's statements, run by the runner: each query's rows in the driver log
    assert sql["spec"]["mainApplicationFile"].endswith("/spark_sql_runner.py")
    assert sql["spec"]["sparkConf"]["spark.sql.shuffle.partitions"] == "2"
    driver_says = re.findall(r"\[sql-[0-9a-f]+-driver\] (.*?) +\[airflow", output)
    assert "14" in driver_says  # 0 + 1 + 4 + 9
    assert "semi;colon" in driver_says
    # BashOperator's spark-submit command, rendered then read, deferred in the triggerer
    assert bash["spec"]["mainApplicationFile"] == f"local://{WORKLOADS}/script.py"
    assert bash["spec"]["arguments"] == ["bash-20240305", "0", "0"]
    assert bash["spec"]["executor"]["instances"] == 1
    assert "script says: bash-20240305" in output
    for job in jobs.values():
        assert job["status"]["applicationState"]["state"] == "COMPLETED"
