"""MonarchSparkJDBCOperator without a cluster: SparkJDBCOperator's arguments, the JDBC connection
read into the runner's command line (the password only as a Secret's name), the checks made before
submission, and the JDBC runner's own functions run directly."""

from __future__ import annotations

import importlib.util
import inspect
import json
from typing import Any

import pytest
from airflow.providers.apache.spark.operators.spark_jdbc import SparkJDBCOperator

from moka_provider.data import SPARK_JDBC_RUNNER
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.operators.monarch import MonarchSparkJDBCOperator
from moka_provider.settings import MokaSettings

# The runner is package data, not a module of the provider: loaded from its file, as the driver runs it.
_spec = importlib.util.spec_from_file_location("spark_jdbc_runner", SPARK_JDBC_RUNNER.path)
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

SETTINGS = MokaSettings(
    namespace="team",
    images={"spark": "registry/spark:3.5-{arch}"},
    versions={"spark": "3.5.3"},
    spark_jdbc_runner="local:///opt/moka/spark_jdbc_runner.py",
)
PASSWORD = "s3cr3t-Pa55"
CONNECTION = {
    "conn_type": "jdbc",
    "host": "db.example",
    "port": 5432,
    "schema": "shop",
    "login": "etl",
    "password": PASSWORD,
    "extra": {"conn_prefix": "jdbc:postgresql://", "moka_password_secret": "shop-db:pw"},
}
READ: dict[str, Any] = {
    "cmd_type": "jdbc_to_spark",
    "jdbc_conn_id": "shop_db",
    "jdbc_table": "public.orders",
    "metastore_table": "lake.orders",
    "jdbc_driver": "org.postgresql.Driver",
    "spark_jars": "local:///opt/jars/postgresql.jar",
    "save_mode": "overwrite",
    "save_format": "parquet",
    "fetch_size": 500,
    "num_partitions": 4,
    "partition_column": "id",
    "lower_bound": "1",
    "upper_bound": "1000",
    "executor_memory": "2g",
    "spark_conf": {"spark.sql.shuffle.partitions": 8},
}


def _connection(monkeypatch: pytest.MonkeyPatch, conn_id: str = "shop_db", **changes: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**CONNECTION, **changes}))


def _build(**arguments: Any) -> dict[str, Any]:
    return MonarchSparkJDBCOperator(task_id="copy", **arguments).build_manifest(SETTINGS, {})


def test_the_drop_in_takes_every_argument_the_original_takes() -> None:
    """SparkJDBCOperator's own arguments, and the SparkSubmitOperator ones its hook passes on."""
    wanted = set(inspect.signature(SparkJDBCOperator.__init__).parameters) - {"self", "kwargs"}
    wanted |= {"num_executors", "executor_cores", "executor_memory", "driver_memory", "verbose"}
    wanted |= {"keytab", "principal", "use_krb5ccache"}
    assert wanted <= set(inspect.signature(MonarchSparkJDBCOperator.__init__).parameters)


def test_a_read_becomes_the_runner_with_the_connection_and_no_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _connection(monkeypatch)

    spec = _build(**READ)["spec"]

    assert spec["mainApplicationFile"] == SETTINGS.spark_jdbc_runner
    assert spec["type"] == "Python"
    arguments = spec["arguments"]
    assert arguments[:6] == [
        "--cmd-type",
        "jdbc_to_spark",
        "--url",
        "jdbc:postgresql://db.example:5432/shop",
        "--user",
        "etl",
    ]
    # the password: the Secret's name and key in Spark's own property, the variable's name for the runner
    assert spec["sparkConf"]["spark.kubernetes.driver.secretKeyRef.MOKA_JDBC_PASSWORD"] == "shop-db:pw"
    assert arguments[-2:] == ["--password-env", "MOKA_JDBC_PASSWORD"]
    assert PASSWORD not in json.dumps(spec)
    assert spec["sparkConf"]["spark.sql.shuffle.partitions"] == "8"
    assert spec["deps"]["jars"] == ["local:///opt/jars/postgresql.jar"]
    assert spec["executor"]["memory"] == "2g"
    # what the runner reads back from that command line: the original's options, one for one
    parsed = runner.parse_arguments(arguments)
    options = runner.jdbc_options(parsed, {"MOKA_JDBC_PASSWORD": PASSWORD})
    assert options == {
        "url": "jdbc:postgresql://db.example:5432/shop",
        "dbtable": "public.orders",
        "user": "etl",
        "password": PASSWORD,
        "driver": "org.postgresql.Driver",
        "fetchsize": "500",
        "numPartitions": "4",
        "partitionColumn": "id",
        "lowerBound": "1",
        "upperBound": "1000",
    }
    assert (parsed.metastore_table, parsed.save_mode, parsed.save_format) == (
        "lake.orders",
        "overwrite",
        "parquet",
    )


def test_a_write_takes_the_write_options_and_logs_the_read_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _connection(monkeypatch, extra={"conn_prefix": "jdbc:postgresql://", "moka_password_secret": "shop-db"})
    write: dict[str, Any] = {
        "cmd_type": "spark_to_jdbc",
        "jdbc_conn_id": "shop_db",
        "jdbc_table": "public.orders_copy",
        "metastore_table": "lake.orders",
        "jdbc_truncate": True,
        "batch_size": 2000,
        "create_table_column_types": "note VARCHAR(1024)",
        "fetch_size": 10,  # a read option: no effect when writing, as on Monarch
        "spark_app_name": "Orders to Postgres",
    }
    task = MonarchSparkJDBCOperator(task_id="copy", **write)
    manifest = task.build_manifest(SETTINGS, {})

    parsed = runner.parse_arguments(manifest["spec"]["arguments"])
    options = runner.jdbc_options(parsed, {"MOKA_JDBC_PASSWORD": "pw"})
    assert {key: options[key] for key in ("truncate", "batchsize", "createTableColumnTypes")} == {
        "truncate": "true",
        "batchsize": "2000",
        "createTableColumnTypes": "note VARCHAR(1024)",
    }
    assert "fetchsize" not in options
    assert "fetch_size has no effect with cmd_type=spark_to_jdbc" in capsys.readouterr().out  # the task log
    # the key defaults to "password"; the job is named after spark_app_name (as a DNS label)
    secret = manifest["spec"]["sparkConf"]["spark.kubernetes.driver.secretKeyRef.MOKA_JDBC_PASSWORD"]
    assert secret == "shop-db:password"
    assert task.name == "orders-to-postgres"


def test_a_connection_without_password_needs_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    _connection(monkeypatch, password=None, login=None, extra={"conn_prefix": "jdbc:postgresql://"})

    spec = _build(**READ)["spec"]

    assert "--password-env" not in spec["arguments"]
    assert "--user" not in spec["arguments"]
    assert not any(key.startswith("spark.kubernetes.driver.secretKeyRef.") for key in spec["sparkConf"])


@pytest.mark.parametrize(
    ("changes", "connection", "field", "message"),
    [
        ({"cmd_type": "jdbc_to_hive"}, {}, "cmd_type", "not one of spark_to_jdbc, jdbc_to_spark"),
        ({"jdbc_table": None}, {}, "jdbc_table", "no jdbc_table"),
        ({"metastore_table": ""}, {}, "metastore_table", "no metastore_table"),
        ({"upper_bound": None}, {}, "upper_bound", "given without upper_bound"),
        ({"num_partitions": None}, {}, "num_partitions", "without num_partitions"),
        ({}, {"extra": {"conn_prefix": "jdbc:postgresql://"}}, "jdbc_conn_id", "moka_password_secret"),
        ({}, {"extra": {"moka_password_secret": "Not_A_Secret"}}, "jdbc_conn_id", "is not 'name' or"),
        ({}, {"host": "db.example/shop"}, "jdbc_conn_id", "host should not contain a '/'"),
        ({}, {"host": None}, "jdbc_conn_id", "has no host"),
        ({"jdbc_conn_id": "missing_db"}, {}, "jdbc_conn_id", "no connection 'missing_db'"),
    ],
)
def test_bad_arguments_are_refused_before_submission_naming_the_field(
    monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, Any],
    connection: dict[str, Any],
    field: str,
    message: str,
) -> None:
    _connection(monkeypatch, **connection)

    with pytest.raises(MokaJobSpecError, match=message) as raised:
        _build(**{**READ, **changes})

    assert raised.value.argument == field
    assert PASSWORD not in str(raised.value)


def test_the_moka_connection_must_say_where_the_runner_is(monkeypatch: pytest.MonkeyPatch) -> None:
    _connection(monkeypatch)
    task = MonarchSparkJDBCOperator(task_id="copy", **READ)

    with pytest.raises(MokaJobSpecError, match="spark_jdbc_runner"):
        task.build_manifest(MokaSettings(spark_sql_runner="local:///opt/moka/spark_sql_runner.py"), {})


def test_the_runner_reads_the_password_only_from_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    command = ["--cmd-type", "spark_to_jdbc", "--url", "jdbc:h2:mem:x", "--jdbc-table", "t"]
    command += ["--metastore-table", "m", "--password-env", "DB_PASSWORD"]

    assert runner.main(command, environ={}) == 2  # before Spark starts

    assert "DB_PASSWORD" in capsys.readouterr().err
    assert runner.jdbc_options(runner.parse_arguments(command), {"DB_PASSWORD": "x"})["password"] == "x"
    with pytest.raises(SystemExit):
        runner.parse_arguments(["--cmd-type", "jdbc_to_hive", "--url", "u", "--jdbc-table", "t"])
