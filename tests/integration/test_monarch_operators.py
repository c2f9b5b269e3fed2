"""The Monarch drop-in operators in a real Airflow 3 (``airflow dags test``) with real Spark on `moka local`.

The JDBC task writes into a real PostgreSQL (Debian's, as the deployment tests run it) that asks
its ``etl`` user for a password: the driver has it only from a Kubernetes Secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.postgres import Postgres, start_postgres
from tests.integration.conftest import AirflowHomes, SyncOrAsync, airflow_with_links, clean, jobs_of, run_dag

WORKLOADS = Path(__file__).resolve().parent / "workloads"
DAG_ID = "moka_monarch_dropins"


JDBC_PASSWORD = "etl-Pa55-in-a-secret"


@pytest.fixture(scope="module")
def crm_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """A PostgreSQL whose ``etl`` user logs in over TCP with a password only (scram-sha-256)."""
    import psycopg2

    server = start_postgres(tmp_path_factory.mktemp("crm-db"))
    try:
        database = psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="airflow")
        database.autocommit = True
        with database.cursor() as cursor:
            cursor.execute("CREATE ROLE etl LOGIN PASSWORD %s", (JDBC_PASSWORD,))
            cursor.execute("GRANT ALL ON SCHEMA public TO etl")
            (server.root / "data" / "pg_hba.conf").write_text(
                "local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
                "host all all 127.0.0.1/32 scram-sha-256\n"
            )
            cursor.execute("SELECT pg_reload_conf()")
        database.close()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def airflow_env(
    moka_local: Any, admin_api: Any, airflow_homes: AirflowHomes, crm_database: Postgres
) -> dict[str, str]:
    from kubernetes import client

    secret = {"metadata": {"name": "crm-db"}, "stringData": {"password": JDBC_PASSWORD}}
    client.CoreV1Api(admin_api).create_namespaced_secret(moka_local[1].namespace, secret)
    extras = {"monarch_path_map": json.dumps({"hdfs://monarch-nn/apps": f"local://{WORKLOADS}"})}
    env = airflow_with_links(airflow_homes, extras)
    crm_pg = {
        "conn_type": "jdbc",
        "host": "127.0.0.1",
        "port": crm_database.port,
        "schema": "airflow",
        "login": "etl",
        "password": JDBC_PASSWORD,
        "extra": {"conn_prefix": "jdbc:postgresql://", "moka_password_secret": "crm-db"},
    }
    return {**env, "AIRFLOW_CONN_CRM_PG": json.dumps(crm_pg)}


def test_spark_submit_sql_bash_and_jdbc_tasks_run_on_moka_unchanged(
    airflow_env: dict[str, str], crm_database: Postgres
) -> None:
    import psycopg2

    hook = SyncOrAsync("sync")
    clean(hook, "spark", DAG_ID)

    output = run_dag(airflow_env, DAG_ID, "2024-03-05")

    jobs = {job["metadata"]["labels"]["moka.dev/task-id"]: job for job in jobs_of(hook, "spark", DAG_ID)}
    assert sorted(jobs) == ["bash", "jdbc", "sql", "submit"]  # one job per task
    submit, sql, bash, jdbc = jobs["submit"], jobs["sql"], jobs["bash"], jobs["jdbc"]
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
    # SparkJDBCOperator's spark_to_jdbc, run by the JDBC runner: the password from the Secret only
    assert jdbc["spec"]["mainApplicationFile"].endswith("/spark_jdbc_runner.py")
    assert jdbc["spec"]["sparkConf"]["spark.kubernetes.driver.secretKeyRef.MOKA_JDBC_PASSWORD"] == (
        "crm-db:password"
    )
    assert JDBC_PASSWORD not in json.dumps(jdbc)
    database = psycopg2.connect(host="127.0.0.1", port=crm_database.port, user="postgres", dbname="airflow")
    with database, database.cursor() as cursor:
        cursor.execute("SELECT id, name, segment FROM customers_20240305 ORDER BY id")
        assert cursor.fetchall() == [(1, "Ada", "gold"), (2, "Grace", "blue"), (3, "Edsger", "gold")]
        cursor.execute(
            "SELECT character_maximum_length FROM information_schema.columns "
            "WHERE table_name = 'customers_20240305' AND column_name = 'segment'"
        )
        assert cursor.fetchone() == (16,)  # create_table_column_types
    database.close()
    for job in jobs.values():
        assert job["status"]["applicationState"]["state"] == "COMPLETED"
