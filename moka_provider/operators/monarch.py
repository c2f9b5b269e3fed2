"""Drop-in operators for Monarch DAGs: the original operators' arguments, run as Moka Spark jobs.

Changing one import line moves a task from Monarch (Spark on YARN) to Moka::

    from moka_provider.operators.monarch import MonarchSparkSubmitOperator as SparkSubmitOperator

Each operator takes the arguments of the operator it stands in for, unchanged: the apache-spark
provider's ``SparkSubmitOperator``, ``SparkSqlOperator`` and ``SparkJDBCOperator``, and
``BashOperator`` running a ``spark-submit`` command. At run time, once the templates are rendered, the arguments are read
into a spark-submit (:mod:`~moka_provider.migration.spark_submit`), translated the way ``moka
migrate`` translates them (:mod:`~moka_provider.migration.translate`), and run through
MokaSparkOperator's lifecycle: validated before submission, adopted on retry, followed in the
worker or deferred, with the same links. Every finding of the translation is logged (warnings
for what needs a human). Hadoop-era paths go through the path map of the ``moka`` connection
(``monarch_path_map``) and of ``path_map=``.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from moka_provider.data import SPARK_JDBC_RUNNER, SPARK_SQL_RUNNER
from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.links.job_links import JobLogLink, MokaUILink, SparkUILink
from moka_provider.merge import deep_merge
from moka_provider.operators.job import MokaJobOperator
from moka_provider.operators.spark import runner_location, spark_application

if TYPE_CHECKING:
    from airflow.sdk import Context

    # The translation is imported where used, at run time: it is not needed to parse a DAG.
    from moka_provider.migration.spark_jdbc import JdbcConnection
    from moka_provider.migration.spark_submit import SparkSubmit
    from moka_provider.migration.translate import Finding
    from moka_provider.settings import MokaSettings


class MonarchSparkOperator(MokaJobOperator):
    """What the drop-in operators share: translate at run time, then run as MokaSparkOperator does.

    :param path_map: path prefixes (``hdfs://nn/data``) and what replaces them, on top of the
        connection's ``monarch_path_map``.
    :param priority_classes: YARN priorities and the PriorityClass each becomes, on top of the
        connection's ``monarch_priority_classes``.
    :param openlineage_inject_parent_job_info: as MokaSparkOperator's (and SparkSubmitOperator's):
        the task's OpenLineage run in the Spark properties; Airflow's ``[openlineage]
        spark_inject_parent_job_info`` by default.
    :param openlineage_inject_transport_info: as MokaSparkOperator's: Airflow's OpenLineage
        transport in the Spark properties; ``[openlineage] spark_inject_transport_info`` by default.
    """

    adapter = SparkAdapter()
    operator_extra_links = (MokaUILink(), SparkUILink(), JobLogLink())
    ui_color = "#f0d9c4"

    def __init__(
        self,
        *,
        path_map: Mapping[str, str] | None = None,
        priority_classes: Mapping[str, str] | None = None,
        openlineage_inject_parent_job_info: bool | None = None,
        openlineage_inject_transport_info: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path_map = path_map
        self.priority_classes = priority_classes
        self.openlineage_inject_parent_job_info = openlineage_inject_parent_job_info
        self.openlineage_inject_transport_info = openlineage_inject_transport_info

    @abstractmethod
    def spark_submit(self, settings: MokaSettings) -> SparkSubmit:
        """The spark-submit the (rendered) original arguments ask for."""

    def build_manifest(self, settings: MokaSettings, context: Context) -> dict[str, Any]:
        """Translate, log the findings, and build the SparkApplication as MokaSparkOperator does.

        The job name prefix is the translated ``--name`` (a DNS label), or the task's.
        """
        from moka_provider.migration.translate import translate
        from moka_provider.operators.openlineage import inject_task_openlineage

        translation = translate(
            self.spark_submit(settings),
            path_map={**settings.path_map, **(self.path_map or {})},
            priority_classes={**settings.priority_classes, **(self.priority_classes or {})},
        )
        self._log_findings(translation.findings)
        arguments = dict(translation.arguments)
        self.name = arguments.pop("name", None)
        overrides = deep_merge(arguments.pop("spec_overrides", {}), self.spec_overrides or {})
        try:
            manifest = spark_application(
                settings,
                arguments,
                application_file=self.application_template(context),
                spec_overrides=overrides,
            )
        except MokaJobSpecError as error:
            translated = error.argument.split("[", 1)[0]
            raise MokaJobSpecError(
                error.argument,
                f"{error.problem} (MokaSparkOperator's {translated}, translated from this "
                f"{type(self).__name__}'s arguments: {translation.arguments.get(translated)!r})",
            ) from error
        return inject_task_openlineage(self, manifest, context)

    def _log_findings(self, findings: Sequence[Finding]) -> None:
        for finding in findings:
            log = self.log.warning if finding.kind == "attention" else self.log.info
            log("Monarch -> Moka: %s %s: %s", finding.kind, finding.subject, finding.detail)


class MonarchSparkSubmitOperator(MonarchSparkOperator):
    """The apache-spark provider's ``SparkSubmitOperator``, run on Moka (same arguments).

    ``conn_id`` names the Monarch Spark connection: it is not read; Moka's ``moka_conn_id`` is.
    Arguments that steer only the original operator (``status_poll_interval``,
    ``post_submit_commands``, YARN tracking, ...) are accepted and have no effect.
    """

    template_fields: Sequence[str] = (
        *MokaJobOperator.template_fields,
        "application",
        "conf",
        "files",
        "py_files",
        "jars",
        "driver_class_path",
        "packages",
        "exclude_packages",
        "keytab",
        "principal",
        "proxy_user",
        "application_args",
        "env_vars",
        "properties_file",
    )
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "conf": "json"}

    def __init__(
        self,
        *,
        application: str = "",
        conf: dict[Any, Any] | None = None,
        conn_id: str = "spark_default",
        files: str | None = None,
        py_files: str | None = None,
        archives: str | None = None,
        driver_class_path: str | None = None,
        jars: str | None = None,
        java_class: str | None = None,
        packages: str | None = None,
        exclude_packages: str | None = None,
        repositories: str | None = None,
        total_executor_cores: int | None = None,
        executor_cores: int | None = None,
        executor_memory: str | None = None,
        driver_memory: str | None = None,
        keytab: str | None = None,
        principal: str | None = None,
        proxy_user: str | None = None,
        name: str | None = None,
        num_executors: int | None = None,
        status_poll_interval: int | None = None,
        application_args: list[Any] | None = None,
        env_vars: dict[str, Any] | None = None,
        verbose: bool = False,
        spark_binary: str | None = None,
        properties_file: str | None = None,
        yarn_queue: str | None = None,
        deploy_mode: str | None = None,
        use_krb5ccache: bool = False,
        post_submit_commands: list[str] | None = None,
        track_driver_via_k8s_api: bool | None = None,
        yarn_track_via_rm_api: bool | None = None,
        yarn_rm_auth: Any = None,
        reconnect_on_retry: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if reconnect_on_retry is not None:
            kwargs.setdefault("durable", reconnect_on_retry)
        super().__init__(name=name, **kwargs)
        self.application = application
        self.conf = conf
        self.conn_id = conn_id
        self.files = files
        self.py_files = py_files
        self.archives = archives
        self.driver_class_path = driver_class_path
        self.jars = jars
        self.java_class = java_class
        self.packages = packages
        self.exclude_packages = exclude_packages
        self.repositories = repositories
        self.total_executor_cores = total_executor_cores
        self.executor_cores = executor_cores
        self.executor_memory = executor_memory
        self.driver_memory = driver_memory
        self.keytab = keytab
        self.principal = principal
        self.proxy_user = proxy_user
        self.num_executors = num_executors
        self.application_args = application_args
        self.env_vars = env_vars
        self.verbose = verbose
        self.spark_binary = spark_binary
        self.properties_file = properties_file
        self.yarn_queue = yarn_queue
        self.deploy_mode = deploy_mode
        self.use_krb5ccache = use_krb5ccache
        #: the original operator's own switches that were set (reported as having no effect)
        self.ignored_arguments = {
            argument: value
            for argument, value in {
                "status_poll_interval": status_poll_interval,
                "post_submit_commands": post_submit_commands,
                "track_driver_via_k8s_api": track_driver_via_k8s_api,
                "yarn_track_via_rm_api": yarn_track_via_rm_api,
                "yarn_rm_auth": yarn_rm_auth,
            }.items()
            if value not in (None, False, [])
        }

    def spark_submit(self, settings: MokaSettings) -> SparkSubmit:
        from moka_provider.migration.spark_submit import OPERATOR_ARGUMENTS, from_spark_submit_operator

        submit, _ = from_spark_submit_operator(
            **{argument: getattr(self, argument) for argument in OPERATOR_ARGUMENTS if argument != "name"},
            name=self.name,
            **self.ignored_arguments,
        )
        return submit


class MonarchSparkSqlOperator(MonarchSparkOperator):
    """The apache-spark provider's ``SparkSqlOperator``, run on Moka (same arguments).

    ``spark-sql`` cannot run in cluster mode, so the statements run in a small PySpark application,
    ``spark_sql_runner.py``, shipped as package data (``moka_provider/data/spark/``; ``moka
    spark-sql-runner`` prints its path or copies it), that must be where the driver can read it:
    the ``moka`` connection's ``spark_sql_runner`` (``local://`` in Moka's Spark image, or
    ``s3a://``; ``moka local`` sets it). Query results are printed to the driver log, tab-separated.
    Tables are those of the catalog Moka's Spark image is configured with.
    """

    template_fields: Sequence[str] = (*MokaJobOperator.template_fields, "sql")
    template_ext: Sequence[str] = (".sql", ".hql")
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "sql": "sql"}

    def __init__(
        self,
        *,
        sql: str,
        conf: dict[str, Any] | str | None = None,
        conn_id: str = "spark_sql_default",
        total_executor_cores: int | None = None,
        executor_cores: int | None = None,
        executor_memory: str | None = None,
        keytab: str | None = None,
        principal: str | None = None,
        master: str | None = None,
        name: str | None = None,
        num_executors: int | None = None,
        verbose: bool = True,
        yarn_queue: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=None if name == "default-name" else name, **kwargs)
        self.sql = sql
        self.conf = conf
        self.conn_id = conn_id
        self.total_executor_cores = total_executor_cores
        self.executor_cores = executor_cores
        self.executor_memory = executor_memory
        self.keytab = keytab
        self.principal = principal
        self.master = master
        self.num_executors = num_executors
        self.verbose = verbose
        self.yarn_queue = yarn_queue

    def spark_submit(self, settings: MokaSettings) -> SparkSubmit:
        from moka_provider.migration.spark_submit import SPARK_SQL_FIELDS, from_spark_sql_operator

        runner = runner_location(settings, SPARK_SQL_RUNNER, self.moka_conn_id)
        if not str(self.sql).strip():
            raise MokaJobSpecError("sql", "no SQL to run")
        fields = {name: getattr(self, name) for name in SPARK_SQL_FIELDS if name != "name"}
        return from_spark_sql_operator(
            runner,
            self.sql,
            self.conf,
            name=self.name,
            yarn_queue=self.yarn_queue,
            **fields,
        )


class MonarchSparkSubmitBashOperator(MonarchSparkOperator):
    """A ``BashOperator`` whose command is one ``spark-submit`` (same arguments), run on Moka.

    The rendered ``bash_command`` is read as spark-submit's command line: ``VAR=value``
    assignments and ``exec`` may come first; ``--master yarn`` and ``--deploy-mode`` are absorbed.
    Anything else (``kinit ... &&``, a pipe, a second command) is refused before submission, naming
    ``bash_command``. ``env`` is the spark-submit's environment (the YARN client's own variables
    are dropped); the other BashOperator arguments have no effect on Moka.
    """

    template_fields: Sequence[str] = (*MokaJobOperator.template_fields, "bash_command", "env", "cwd")
    template_ext: Sequence[str] = (".sh", ".bash")
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "bash_command": "bash"}

    def __init__(
        self,
        *,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Sequence[int] | None = 99,
        cwd: str | None = None,
        output_processor: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.cwd = cwd
        self.append_env = append_env
        self.output_encoding = output_encoding
        self.skip_on_exit_code = skip_on_exit_code
        self.output_processor = output_processor

    def spark_submit(self, settings: MokaSettings) -> SparkSubmit:
        from moka_provider.migration.spark_submit import parse_spark_submit_command

        try:
            submit = parse_spark_submit_command(self.bash_command)
        except ValueError as error:
            raise MokaJobSpecError("bash_command", str(error)) from None
        if self.cwd:
            self.log.info("Monarch -> Moka: dropped cwd: the driver runs in a pod, not in %s", self.cwd)
        return dataclasses.replace(submit, env={**(self.env or {}), **submit.env})


class MonarchSparkJDBCOperator(MonarchSparkOperator):
    """The apache-spark provider's ``SparkJDBCOperator``, run on Moka (same arguments).

    The table is copied by a small PySpark application, ``spark_jdbc_runner.py``, shipped as package
    data (``moka spark-jdbc-runner`` prints its path or copies it), that must be where the driver
    can read it: the ``moka`` connection's ``spark_jdbc_runner`` (``moka local`` sets it). The JDBC
    driver's jar comes with ``spark_jars``, as before.

    The database's URL and user come from the connection ``jdbc_conn_id``, as the original's do
    (``conn_prefix`` extra, host, port, schema). Its password never enters the SparkApplication:
    it must be in a Kubernetes Secret in the jobs' namespace, named in that connection's extra
    ``moka_password_secret`` (``name`` or ``name:key``, key ``password`` by default); the driver
    reads it from there (:mod:`~moka_provider.migration.spark_jdbc`). A connection with a password
    and no such Secret is refused before submission. ``spark_conn_id`` is not read; Moka's
    ``moka_conn_id`` is. Unlike the original, the table arguments and ``spark_conf`` are templated.
    """

    template_fields: Sequence[str] = (
        *MokaJobOperator.template_fields,
        "spark_app_name",
        "spark_conf",
        "jdbc_table",
        "metastore_table",
        "lower_bound",
        "upper_bound",
    )
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "spark_conf": "json"}

    def __init__(
        self,
        *,
        spark_app_name: str = "airflow-spark-jdbc",
        spark_conn_id: str = "spark-default",
        spark_conf: dict[str, Any] | None = None,
        spark_py_files: str | None = None,
        spark_files: str | None = None,
        spark_jars: str | None = None,
        cmd_type: str = "spark_to_jdbc",
        jdbc_table: str | None = None,
        jdbc_conn_id: str = "jdbc-default",
        jdbc_driver: str | None = None,
        metastore_table: str | None = None,
        jdbc_truncate: bool = False,
        save_mode: str | None = None,
        save_format: str | None = None,
        batch_size: int | None = None,
        fetch_size: int | None = None,
        num_partitions: int | None = None,
        partition_column: str | None = None,
        lower_bound: str | None = None,
        upper_bound: str | None = None,
        create_table_column_types: str | None = None,
        num_executors: int | None = None,
        executor_cores: int | None = None,
        executor_memory: str | None = None,
        driver_memory: str | None = None,
        verbose: bool = False,
        keytab: str | None = None,
        principal: str | None = None,
        use_krb5ccache: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spark_app_name = spark_app_name
        self.spark_conn_id = spark_conn_id
        self.spark_conf = spark_conf
        self.spark_py_files = spark_py_files
        self.spark_files = spark_files
        self.spark_jars = spark_jars
        self.cmd_type = cmd_type
        self.jdbc_table = jdbc_table
        self.jdbc_conn_id = jdbc_conn_id
        self.jdbc_driver = jdbc_driver
        self.metastore_table = metastore_table
        self.jdbc_truncate = jdbc_truncate
        self.save_mode = save_mode
        self.save_format = save_format
        self.batch_size = batch_size
        self.fetch_size = fetch_size
        self.num_partitions = num_partitions
        self.partition_column = partition_column
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.create_table_column_types = create_table_column_types
        self.num_executors = num_executors
        self.executor_cores = executor_cores
        self.executor_memory = executor_memory
        self.driver_memory = driver_memory
        self.verbose = verbose
        self.keytab = keytab
        self.principal = principal
        self.use_krb5ccache = use_krb5ccache

    def spark_submit(self, settings: MokaSettings) -> SparkSubmit:
        from moka_provider.migration.spark_jdbc import (
            RUNNER_ARGUMENTS,
            SUBMIT_ARGUMENTS,
            from_spark_jdbc_operator,
        )

        runner = runner_location(settings, SPARK_JDBC_RUNNER, self.moka_conn_id)
        spark_arguments = {name: getattr(self, name) for name in SUBMIT_ARGUMENTS}
        if spark_arguments["spark_app_name"] == "airflow-spark-jdbc":  # the default: the task's name
            spark_arguments["spark_app_name"] = None
        submit, unused = from_spark_jdbc_operator(
            runner,
            self.jdbc_connection(),
            cmd_type=self.cmd_type,
            spark_arguments=spark_arguments,
            jdbc_arguments={name: getattr(self, name) for name in (*RUNNER_ARGUMENTS, "jdbc_truncate")},
        )
        for name in unused:
            self.log.info(
                "Monarch -> Moka: %s has no effect with cmd_type=%s (nor had it on Monarch)",
                name,
                self.cmd_type,
            )
        return submit

    def jdbc_connection(self) -> JdbcConnection:
        """The Airflow connection ``jdbc_conn_id``, read when the task runs."""
        from airflow.providers.common.compat.sdk import AirflowNotFoundException
        from airflow.sdk import BaseHook

        from moka_provider.migration.spark_jdbc import JdbcConnection

        try:
            connection = BaseHook.get_connection(self.jdbc_conn_id)
        except AirflowNotFoundException:  # other errors (the API server's) may pass with a retry
            raise MokaJobSpecError("jdbc_conn_id", f"no connection {self.jdbc_conn_id!r}") from None
        return JdbcConnection(
            conn_id=self.jdbc_conn_id,
            host=connection.host,
            port=connection.port,
            schema=connection.schema,
            login=connection.login,
            has_password=bool(connection.password),
            extra=connection.extra_dejson,
        )
