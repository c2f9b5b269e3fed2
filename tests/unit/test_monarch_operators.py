"""The Monarch drop-in operators without a cluster: the original arguments, translated at run time."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.apache.spark.operators.spark_sql import SparkSqlOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.bash import BashOperator

from moka_provider.exceptions import MokaJobSpecError
from moka_provider.migration.spark_submit import from_spark_submit_operator, parse_spark_submit_command
from moka_provider.migration.translate import translate
from moka_provider.operators.monarch import (
    MonarchSparkSqlOperator,
    MonarchSparkSubmitBashOperator,
    MonarchSparkSubmitOperator,
)
from moka_provider.operators.spark import MokaSparkOperator
from moka_provider.settings import MokaSettings

SETTINGS = MokaSettings(
    namespace="team",
    images={"spark": "registry/spark:3.5-{arch}"},
    versions={"spark": "3.5.3"},
    path_map={"hdfs://monarch-nn/apps": "s3a://apps"},
    spark_sql_runner="local:///opt/moka/spark_sql_runner.py",
)
SUBMIT_ARGUMENTS: dict[str, Any] = {
    "application": "hdfs://monarch-nn:8020/apps/etl.py",
    "conf": {
        "spark.yarn.queue": "root.ads",
        "spark.yarn.executor.memoryOverhead": "1g",
        "spark.shuffle.service.enabled": "true",
        "spark.sql.shuffle.partitions": 200,
    },
    "conn_id": "yarn_spark",
    "py_files": "hdfs://monarch-nn/apps/lib.zip",
    "executor_memory": "4g",
    "executor_cores": 2,
    "num_executors": 3,
    "driver_memory": "2g",
    "name": "Daily ETL",
    "application_args": ["--day", "{{ ds }}"],
    "env_vars": {"HADOOP_CONF_DIR": "/etc/hadoop", "TZ": "UTC"},
    "status_poll_interval": 5,
}


def _moka_twin(**arguments: Any) -> dict[str, Any]:
    """What MokaSparkOperator builds from the translation of the same SparkSubmitOperator call."""
    submit, _ = from_spark_submit_operator(**arguments)
    translated = dict(translate(submit, path_map=SETTINGS.path_map).arguments)
    translated.pop("name", None)
    return MokaSparkOperator(task_id="twin", **translated).build_manifest(SETTINGS, {})


def test_the_drop_in_takes_every_argument_the_original_takes() -> None:
    """Same keyword names as the apache-spark provider's operators (one import line to change)."""
    import inspect

    pairs: list[tuple[type[Any], type[Any]]] = [
        (SparkSubmitOperator, MonarchSparkSubmitOperator),
        (SparkSqlOperator, MonarchSparkSqlOperator),
        (BashOperator, MonarchSparkSubmitBashOperator),
    ]
    for original, drop_in in pairs:
        wanted = set(inspect.signature(original.__init__).parameters) - {"self", "kwargs"}
        taken = {  # its own and its bases' (the OpenLineage switches are MonarchSparkOperator's)
            name
            for cls in drop_in.__mro__
            if "__init__" in vars(cls)
            for name in inspect.signature(vars(cls)["__init__"]).parameters
        }
        # durable is taken by the lifecycle mixin further up, as in the original
        assert wanted - taken <= {"durable"}, drop_in.__name__
        assert set(original.template_fields) - {"post_submit_commands"} <= set(drop_in.template_fields)


def test_spark_submit_drop_in_builds_what_moka_spark_operator_builds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = MonarchSparkSubmitOperator(task_id="etl", **SUBMIT_ARGUMENTS)
    manifest = task.build_manifest(SETTINGS, {})

    arguments = {k: v for k, v in SUBMIT_ARGUMENTS.items() if k != "status_poll_interval"}
    assert manifest == _moka_twin(**arguments)
    spec = manifest["spec"]
    assert spec["mainApplicationFile"] == "s3a://apps/etl.py"
    assert spec["deps"]["pyFiles"] == ["s3a://apps/lib.zip"]
    assert spec["executor"]["instances"] == 3
    assert spec["batchSchedulerOptions"]["queue"] == "root.ads"
    assert "spark.shuffle.service.enabled" not in spec.get("sparkConf", {})
    assert task.name == "daily-etl"
    logged = capsys.readouterr().out.splitlines()  # the task logger writes there
    assert any("Monarch -> Moka: dropped HADOOP_CONF_DIR" in line for line in logged)
    assert any("Monarch -> Moka: dropped status_poll_interval" in line for line in logged)
    assert any("warning" in line and "attention conn_id" in line for line in logged)


def test_operator_path_map_adds_to_the_connection_s() -> None:
    task = MonarchSparkSubmitOperator(
        task_id="etl",
        application="hdfs://monarch-nn/apps/etl.py",
        files="hdfs://other/conf.json#conf.json",
        path_map={"hdfs://other": "s3a://other"},
    )
    spec = task.build_manifest(SETTINGS, {})["spec"]
    assert spec["mainApplicationFile"] == "s3a://apps/etl.py"
    assert spec["deps"]["files"] == ["s3a://other/conf.json#conf.json"]


def test_a_bad_translated_value_names_the_moka_argument_and_where_it_came_from() -> None:
    task = MonarchSparkSubmitOperator(task_id="etl", application="s3a://a/etl.py", executor_memory="lots")
    with pytest.raises(MokaJobSpecError) as raised:
        task.build_manifest(SETTINGS, {})
    assert raised.value.argument == "executors['memory']"
    assert "MonarchSparkSubmitOperator" in str(raised.value) and "'lots'" in str(raised.value)


def test_bash_drop_in_reads_the_rendered_command_and_its_env() -> None:
    command = (
        "HADOOP_CONF_DIR=/etc/hadoop spark-submit --master yarn --deploy-mode cluster \\\n"
        "  --queue root.ads --num-executors 2 --conf spark.yarn.maxAppAttempts=2 \\\n"
        "  hdfs://monarch-nn/apps/etl.py --day 2024-01-01"
    )
    task = MonarchSparkSubmitBashOperator(task_id="etl", bash_command=command, env={"TZ": "UTC"})
    spec = task.build_manifest(SETTINGS, {})["spec"]

    submit = parse_spark_submit_command(command)
    assert submit.env == {"HADOOP_CONF_DIR": "/etc/hadoop"}
    assert spec["mainApplicationFile"] == "s3a://apps/etl.py"
    assert spec["arguments"] == ["--day", "2024-01-01"]
    assert spec["executor"]["instances"] == 2
    assert spec["restartPolicy"]["onFailureRetries"] == 1
    assert {"name": "TZ", "value": "UTC"} in spec["driver"]["env"]
    assert all(item["name"] != "HADOOP_CONF_DIR" for item in spec["driver"]["env"])


@pytest.mark.parametrize(
    "command",
    ["kinit -kt a.keytab me && spark-submit app.py", "spark-submit --kill app-1", "echo hello", ""],
)
def test_bash_drop_in_refuses_what_is_not_one_spark_submit(command: str) -> None:
    task = MonarchSparkSubmitBashOperator(task_id="etl", bash_command=command)
    with pytest.raises(MokaJobSpecError) as raised:
        task.build_manifest(SETTINGS, {})
    assert raised.value.argument == "bash_command"


def test_sql_drop_in_runs_the_runner_with_the_statements() -> None:
    sql = "INSERT INTO t SELECT * FROM hdfs_table WHERE ds = '2024-01-01'; SELECT 1"
    task = MonarchSparkSqlOperator(
        task_id="sql",
        sql=sql,
        conf="spark.sql.shuffle.partitions=10,spark.yarn.queue=root.bi",
        num_executors=2,
        executor_memory="3g",
        name="default-name",
    )
    spec = task.build_manifest(SETTINGS, {})["spec"]
    assert spec["mainApplicationFile"] == SETTINGS.spark_sql_runner
    assert spec["type"] == "Python"
    assert spec["arguments"] == ["-e", sql]
    assert spec["sparkConf"]["spark.sql.shuffle.partitions"] == "10"
    assert spec["batchSchedulerOptions"]["queue"] == "root.bi"
    assert spec["executor"] == {**spec["executor"], "instances": 2, "memory": "3g"}
    assert task.name is None  # SparkSqlOperator's default name names nothing: the task does


def test_sql_drop_in_needs_the_runner_location_and_some_sql() -> None:
    without_runner = MokaSettings(images=SETTINGS.images, versions=SETTINGS.versions)
    with pytest.raises(MokaJobSpecError, match="spark_sql_runner"):
        MonarchSparkSqlOperator(task_id="sql", sql="SELECT 1").build_manifest(without_runner, {})
    with pytest.raises(MokaJobSpecError) as raised:
        MonarchSparkSqlOperator(task_id="sql", sql="  ").build_manifest(SETTINGS, {})
    assert raised.value.argument == "sql"


def test_sql_conf_text_must_be_key_value_pairs() -> None:
    task = MonarchSparkSqlOperator(task_id="sql", sql="SELECT 1", conf="spark.a=1,oops")
    with pytest.raises(ValueError, match="'oops'"):
        task.build_manifest(SETTINGS, {})


def test_drop_ins_parse_in_a_dag_and_keep_airflow_s_own_queue() -> None:
    from airflow.sdk import DAG

    with DAG("monarch", schedule=None):
        task = MonarchSparkSubmitOperator(
            task_id="etl", application="s3a://a/etl.py", queue="spark-workers", yarn_queue="root.ads"
        )
    assert task.queue == "spark-workers"
    assert task.build_manifest(SETTINGS, {})["spec"]["batchSchedulerOptions"]["queue"] == "root.ads"
