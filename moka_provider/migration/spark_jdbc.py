"""What a ``SparkJDBCOperator`` asks for, as a spark-submit of the Spark JDBC runner.

The apache-spark provider's operator runs its own PySpark script with the table names, the Spark
JDBC options and the database's URL, user and password as arguments (``hooks/spark_jdbc.py``,
``_build_jdbc_application_arguments``). On Moka the script is ``spark_jdbc_runner.py``, shipped as
package data, and the password never becomes an argument: arguments and Spark properties are part
of the SparkApplication, readable by anyone who can read Spark applications in the namespace. It
reaches the driver from a Kubernetes Secret the JDBC connection names, through Spark's own
``spark.kubernetes.driver.secretKeyRef.<ENV>=<secret>:<key>`` property (spark-submit puts the
variable into the driver pod; the Spark operator passes its ``envSecretKeyRefs`` the same way).
The provider creates no Secret: its Role has no access to Secrets, and needs none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moka_provider.exceptions import MokaJobSpecError
from moka_provider.migration.spark_submit import SparkSubmit, from_spark_submit_operator

CMD_TYPES = ("spark_to_jdbc", "jdbc_to_spark")
#: The JDBC connection's extra naming the Secret that holds its password: ``name`` or ``name:key``.
PASSWORD_SECRET_EXTRA = "moka_password_secret"
PASSWORD_SECRET_KEY = "password"
#: The driver's environment variable the password is put in, and the runner reads.
PASSWORD_ENV = "MOKA_JDBC_PASSWORD"
SECRET_KEY_REF_CONF = "spark.kubernetes.driver.secretKeyRef."

#: SparkJDBCOperator's arguments that become the runner's (``--fetch-size`` ...), and the direction
#: each has an effect in (``None``: both).
RUNNER_ARGUMENTS: dict[str, str | None] = {
    "metastore_table": None,
    "jdbc_table": None,
    "jdbc_driver": None,
    "save_mode": None,
    "save_format": "jdbc_to_spark",
    "batch_size": "spark_to_jdbc",
    "fetch_size": "jdbc_to_spark",
    "num_partitions": None,
    "partition_column": "jdbc_to_spark",
    "lower_bound": "jdbc_to_spark",
    "upper_bound": "jdbc_to_spark",
    "create_table_column_types": "spark_to_jdbc",
}
_PARTITIONING = ("partition_column", "lower_bound", "upper_bound", "num_partitions")
#: SparkJDBCOperator's spark-submit arguments: its own spelling -> SparkSubmitOperator's.
SUBMIT_ARGUMENTS = {
    "spark_app_name": "name",
    "spark_conn_id": "conn_id",
    "spark_conf": "conf",
    "spark_py_files": "py_files",
    "spark_files": "files",
    "spark_jars": "jars",
    "num_executors": "num_executors",
    "executor_cores": "executor_cores",
    "executor_memory": "executor_memory",
    "driver_memory": "driver_memory",
    "verbose": "verbose",
    "keytab": "keytab",
    "principal": "principal",
    "use_krb5ccache": "use_krb5ccache",
}
_SECRET = re.compile(r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)(:([-._a-zA-Z0-9]+))?")


@dataclass(frozen=True)
class JdbcConnection:
    """What the operator reads from the Airflow connection ``jdbc_conn_id``."""

    conn_id: str
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    has_password: bool = False
    extra: Mapping[str, Any] | None = None

    @property
    def url(self) -> str:
        """The JDBC URL, built as the original hook builds it: ``conn_prefix``, host, port, schema."""
        where = f"the JDBC connection {self.conn_id!r}"
        extra = self.extra or {}
        prefix = str(extra.get("conn_prefix") or "")
        if not self.host:
            raise MokaJobSpecError("jdbc_conn_id", f"{where} has no host")
        if "/" in self.host:
            raise MokaJobSpecError("jdbc_conn_id", f"{where}: the host should not contain a '/'")
        if "?" in (self.schema or ""):
            raise MokaJobSpecError("jdbc_conn_id", f"{where}: the schema should not contain a '?'")
        if "?" in prefix:
            raise MokaJobSpecError("jdbc_conn_id", f"{where}: the extra conn_prefix should not contain a '?'")
        address = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"{prefix}{address}/{self.schema or ''}"

    def password_secret(self) -> tuple[str, str] | None:
        """The Secret (name, key) holding the password, or ``None`` when there is no password.

        A password in the Airflow connection alone is refused: Moka would have to write it into the
        SparkApplication.
        """
        value = str((self.extra or {}).get(PASSWORD_SECRET_EXTRA) or "").strip()
        if not value:
            if self.has_password:
                raise MokaJobSpecError(
                    "jdbc_conn_id",
                    f"the JDBC connection {self.conn_id!r} has a password, and Moka does not write "
                    "passwords into Spark applications (anyone who can read them would see it): put it "
                    "in a Kubernetes Secret in the jobs' namespace and name that Secret in the "
                    f"connection's extra {PASSWORD_SECRET_EXTRA!r} ('name' or 'name:key', key "
                    f"{PASSWORD_SECRET_KEY!r} by default)",
                )
            return None
        match = _SECRET.fullmatch(value)
        if match is None:
            raise MokaJobSpecError(
                "jdbc_conn_id",
                f"the JDBC connection {self.conn_id!r}'s extra {PASSWORD_SECRET_EXTRA} {value!r} is not "
                "'name' or 'name:key' (a Kubernetes Secret's name, a key in it)",
            )
        return match.group(1), match.group(4) or PASSWORD_SECRET_KEY


def runner_arguments(
    cmd_type: str, url: str, user: str | None, **arguments: Any
) -> tuple[list[str], list[str]]:
    """The runner's command line for SparkJDBCOperator's ``arguments``, and the arguments given
    that have no effect in this direction (as with the original, which ignores them too).

    Checks what the original leaves to fail in Spark, naming the argument: ``cmd_type``, both
    tables, and the partitioning arguments, which work only all together.
    """
    if cmd_type not in CMD_TYPES:
        raise MokaJobSpecError("cmd_type", f"{cmd_type!r} is not one of {', '.join(CMD_TYPES)}")
    for table in ("jdbc_table", "metastore_table"):
        if not arguments.get(table):
            raise MokaJobSpecError(table, f"no {table}: {cmd_type} copies between the two tables")
    command = ["--cmd-type", cmd_type, "--url", url]
    if user:
        command += ["--user", user]
    unused = []
    for name, direction in RUNNER_ARGUMENTS.items():
        value = arguments.get(name)
        if value in (None, ""):
            continue
        if direction not in (None, cmd_type):
            unused.append(name)
        else:
            command += ["--" + name.replace("_", "-"), str(value)]
    partitioning = [name for name in _PARTITIONING[:3] if arguments.get(name) not in (None, "")]
    if partitioning and cmd_type == "jdbc_to_spark":
        missing = [name for name in _PARTITIONING if arguments.get(name) in (None, "")]
        if missing:
            raise MokaJobSpecError(
                missing[0],
                f"{', '.join(partitioning)} given without {', '.join(missing)}: Spark partitions a "
                "JDBC read only with partition_column, lower_bound, upper_bound and num_partitions",
            )
    if arguments.get("jdbc_truncate"):
        if cmd_type == "spark_to_jdbc":
            command.append("--truncate")
        else:
            unused.append("jdbc_truncate")
    return command, unused


def from_spark_jdbc_operator(
    runner: str,
    connection: JdbcConnection,
    *,
    cmd_type: str,
    spark_arguments: Mapping[str, Any],
    jdbc_arguments: Mapping[str, Any],
) -> tuple[SparkSubmit, list[str]]:
    """The spark-submit of the ``runner`` application doing what a ``SparkJDBCOperator`` did, and the
    arguments given that have no effect (for the operator to log).

    ``spark_arguments`` are the operator's :data:`SUBMIT_ARGUMENTS`, ``jdbc_arguments`` its
    :data:`RUNNER_ARGUMENTS` and ``jdbc_truncate``.
    """
    command, unused = runner_arguments(cmd_type, connection.url, connection.login, **jdbc_arguments)
    conf = dict(spark_arguments.get("spark_conf") or {})
    if secret := connection.password_secret():
        command += ["--password-env", PASSWORD_ENV]
        conf[SECRET_KEY_REF_CONF + PASSWORD_ENV] = ":".join(secret)
    submit_arguments = {SUBMIT_ARGUMENTS[name]: value for name, value in spark_arguments.items()}
    submit, _ = from_spark_submit_operator(
        **{**submit_arguments, "conf": conf}, application=runner, application_args=command
    )
    return submit, unused
