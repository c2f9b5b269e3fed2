"""Where Airflow 1 and 2 modules that Airflow 3 no longer has went: data for the Airflow 3 pass.

ruff's AIR3 fixes move the names it knows when they are used; this table covers what it reports
without a fix or does not report: ``airflow.contrib`` (Airflow 2 kept it only as deprecation
aliases, listed in its ``airflow/contrib/{operators,hooks,sensors}/__init__.py``), the Airflow 1
``*_operator`` / ``*_sensor`` / ``*_hook`` modules, and their Airflow 2 successors that moved into
the standard provider in Airflow 3 (modules Airflow 3 keeps as deprecated aliases are ruff's: AIR311,
AIR312). Each home names the distribution that provides it, so that a
move into a provider that is not installed is reported. Names not listed under ``names`` keep
their name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The distributions of the providers the homes below are in.
STANDARD = "apache-airflow-providers-standard"
SPARK = "apache-airflow-providers-apache-spark"
AMAZON = "apache-airflow-providers-amazon"
COMMON_SQL = "apache-airflow-providers-common-sql"
HIVE = "apache-airflow-providers-apache-hive"
HTTP = "apache-airflow-providers-http"
SSH = "apache-airflow-providers-ssh"
KUBERNETES = "apache-airflow-providers-cncf-kubernetes"
POSTGRES = "apache-airflow-providers-postgres"
MYSQL = "apache-airflow-providers-mysql"
SMTP = "apache-airflow-providers-smtp"
#: Airflow itself (the Task SDK): always there.
AIRFLOW = "apache-airflow-task-sdk"


@dataclass(frozen=True)
class Home:
    """The Airflow 3 module of an old one, the distribution it is in, and renamed classes."""

    module: str
    provider: str
    names: Mapping[str, str] = field(default_factory=dict)


_EMPTY = Home("airflow.providers.standard.operators.empty", STANDARD, {"DummyOperator": "EmptyOperator"})
_PYTHON = Home("airflow.providers.standard.operators.python", STANDARD)
_EXTERNAL_TASK = Home("airflow.providers.standard.sensors.external_task", STANDARD)
_FILE_SENSOR = Home("airflow.providers.standard.sensors.filesystem", STANDARD)
_SQL = Home(
    "airflow.providers.common.sql.operators.sql",
    COMMON_SQL,
    {
        "CheckOperator": "SQLCheckOperator",
        "ValueCheckOperator": "SQLValueCheckOperator",
        "IntervalCheckOperator": "SQLIntervalCheckOperator",
        "ThresholdCheckOperator": "SQLThresholdCheckOperator",
    },
)

#: Old module -> its Airflow 3 home.
MODULES: dict[str, Home] = {
    # Airflow 1 and 2 core operators and sensors, now in the standard provider.
    "airflow.operators.dummy_operator": _EMPTY,
    "airflow.operators.dummy": _EMPTY,
    "airflow.operators.bash_operator": Home("airflow.providers.standard.operators.bash", STANDARD),
    "airflow.operators.python_operator": _PYTHON,
    "airflow.operators.branch_operator": Home("airflow.providers.standard.operators.branch", STANDARD),
    "airflow.operators.latest_only_operator": Home(
        "airflow.providers.standard.operators.latest_only", STANDARD
    ),
    "airflow.operators.dagrun_operator": Home(
        "airflow.providers.standard.operators.trigger_dagrun", STANDARD
    ),
    "airflow.sensors.external_task_sensor": _EXTERNAL_TASK,
    "airflow.sensors.time_delta_sensor": Home("airflow.providers.standard.sensors.time_delta", STANDARD),
    "airflow.sensors.date_time_sensor": Home("airflow.providers.standard.sensors.date_time", STANDARD),
    "airflow.contrib.sensors.file_sensor": _FILE_SENSOR,
    # Airflow 1 modules of operators, sensors and hooks that moved into other providers.
    "airflow.operators.check_operator": _SQL,
    "airflow.operators.sql": _SQL,
    "airflow.operators.postgres_operator": Home(
        "airflow.providers.common.sql.operators.sql",
        COMMON_SQL,
        {"PostgresOperator": "SQLExecuteQueryOperator"},
    ),
    "airflow.operators.mysql_operator": Home(
        "airflow.providers.common.sql.operators.sql", COMMON_SQL, {"MySqlOperator": "SQLExecuteQueryOperator"}
    ),
    "airflow.operators.hive_operator": Home("airflow.providers.apache.hive.operators.hive", HIVE),
    "airflow.operators.email_operator": Home("airflow.providers.smtp.operators.smtp", SMTP),
    "airflow.operators.http_operator": Home(
        "airflow.providers.http.operators.http", HTTP, {"SimpleHttpOperator": "HttpOperator"}
    ),
    "airflow.sensors.s3_key_sensor": Home("airflow.providers.amazon.aws.sensors.s3", AMAZON),
    "airflow.sensors.sql_sensor": Home("airflow.providers.common.sql.sensors.sql", COMMON_SQL),
    "airflow.sensors.http_sensor": Home("airflow.providers.http.sensors.http", HTTP),
    "airflow.sensors.hive_partition_sensor": Home(
        "airflow.providers.apache.hive.sensors.hive_partition", HIVE
    ),
    "airflow.hooks.base_hook": Home("airflow.sdk", AIRFLOW),
    "airflow.hooks.S3_hook": Home("airflow.providers.amazon.aws.hooks.s3", AMAZON),
    "airflow.hooks.postgres_hook": Home("airflow.providers.postgres.hooks.postgres", POSTGRES),
    "airflow.hooks.mysql_hook": Home("airflow.providers.mysql.hooks.mysql", MYSQL),
    "airflow.hooks.hive_hooks": Home("airflow.providers.apache.hive.hooks.hive", HIVE),
    "airflow.hooks.http_hook": Home("airflow.providers.http.hooks.http", HTTP),
    "airflow.hooks.dbapi_hook": Home("airflow.providers.common.sql.hooks.sql", COMMON_SQL),
    # airflow.contrib (Airflow 1), as Airflow 2's deprecation aliases pointed.
    "airflow.contrib.operators.spark_submit_operator": Home(
        "airflow.providers.apache.spark.operators.spark_submit", SPARK
    ),
    "airflow.contrib.operators.spark_sql_operator": Home(
        "airflow.providers.apache.spark.operators.spark_sql", SPARK
    ),
    "airflow.contrib.operators.spark_jdbc_operator": Home(
        "airflow.providers.apache.spark.operators.spark_jdbc", SPARK
    ),
    "airflow.contrib.hooks.spark_submit_hook": Home(
        "airflow.providers.apache.spark.hooks.spark_submit", SPARK
    ),
    "airflow.contrib.hooks.spark_sql_hook": Home("airflow.providers.apache.spark.hooks.spark_sql", SPARK),
    "airflow.contrib.operators.ssh_operator": Home("airflow.providers.ssh.operators.ssh", SSH),
    "airflow.contrib.hooks.ssh_hook": Home("airflow.providers.ssh.hooks.ssh", SSH),
    "airflow.contrib.operators.kubernetes_pod_operator": Home(
        "airflow.providers.cncf.kubernetes.operators.pod", KUBERNETES
    ),
    "airflow.contrib.hooks.aws_hook": Home(
        "airflow.providers.amazon.aws.hooks.base_aws", AMAZON, {"AwsHook": "AwsBaseHook"}
    ),
    "airflow.contrib.sensors.emr_step_sensor": Home("airflow.providers.amazon.aws.sensors.emr", AMAZON),
    "airflow.contrib.operators.emr_add_steps_operator": Home(
        "airflow.providers.amazon.aws.operators.emr", AMAZON
    ),
    "airflow.contrib.operators.emr_create_job_flow_operator": Home(
        "airflow.providers.amazon.aws.operators.emr", AMAZON
    ),
}


def home_of(module: str) -> Home | None:
    """The Airflow 3 home of ``module``, if the table knows it."""
    return MODULES.get(module)


def is_gone(module: str) -> bool:
    """Whether Airflow 3 has no ``module``: a key of the table, or anything under ``airflow.contrib``."""
    return module in MODULES or module == "airflow.contrib" or module.startswith("airflow.contrib.")
