"""What a Monarch task asks spark-submit to do, read from a command line or from operator arguments.

Monarch DAGs launch Spark two ways: the apache-spark provider's ``SparkSubmitOperator`` (whose hook
builds a ``spark-submit`` command) and Bash tasks that run ``spark-submit`` themselves. Both say the
same things, so both are read into one neutral :class:`SparkSubmit`, and the translation to Moka
(:mod:`~moka_provider.migration.translate`) is written once.

The command-line reader follows spark-submit's own parser: options before the first non-option
word, which is the application; every word after it is an application argument even when it looks
like an option; ``--flag value`` and ``--flag=value``; ``--conf``/``-c`` split at the first ``=``;
a repeated option keeps its last value, while ``--conf`` accumulates (the last value of a key
wins). Repeats are recorded, because a DAG author rarely means them. Unknown options are refused,
as spark-submit refuses them. Nothing is evaluated: Jinja and ``$VAR`` stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moka_provider.migration.shell_words import shell_commands

SPARK_SUBMIT_BINARIES = ("spark-submit", "spark2-submit", "spark3-submit")

_TEXT, _LIST, _COUNT = "text", "list", "count"

#: spark-submit's options that take a value (``--conf`` aside): the field each fills, and how.
OPTIONS: dict[str, tuple[str, str]] = {
    "--master": ("master", _TEXT),
    "--deploy-mode": ("deploy_mode", _TEXT),
    "--class": ("main_class", _TEXT),
    "--name": ("name", _TEXT),
    "--jars": ("jars", _LIST),
    "--files": ("files", _LIST),
    "--py-files": ("py_files", _LIST),
    "--archives": ("archives", _LIST),
    "--packages": ("packages", _LIST),
    "--exclude-packages": ("exclude_packages", _LIST),
    "--repositories": ("repositories", _LIST),
    "--properties-file": ("properties_file", _TEXT),
    "--driver-memory": ("driver_memory", _TEXT),
    "--driver-cores": ("driver_cores", _COUNT),
    "--driver-java-options": ("driver_java_options", _TEXT),
    "--driver-library-path": ("driver_library_path", _TEXT),
    "--driver-class-path": ("driver_class_path", _TEXT),
    "--executor-memory": ("executor_memory", _TEXT),
    "--executor-cores": ("executor_cores", _COUNT),
    "--num-executors": ("num_executors", _COUNT),
    "--total-executor-cores": ("total_executor_cores", _COUNT),
    "--queue": ("queue", _TEXT),
    "--keytab": ("keytab", _TEXT),
    "--principal": ("principal", _TEXT),
    "--proxy-user": ("proxy_user", _TEXT),
}
CONF_OPTIONS = ("--conf", "-c")
SWITCHES = {"--verbose": "verbose", "-v": "verbose", "--supervise": "supervise"}
#: Options that make spark-submit do something other than submit an application.
NOT_SUBMISSIONS = ("--kill", "--status", "--help", "-h", "--version", "--usage-error", "--remote")
#: The long option of each field, for messages and findings.
FLAG_OF = {name: flag for flag, (name, _) in OPTIONS.items()} | {
    "verbose": "--verbose",
    "supervise": "--supervise",
}

_EQUALS_FORM = re.compile(r"(--[^=]+)=(.+)", re.DOTALL)
#: ``NAME=value`` before a command (an environment assignment).
ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)
_DIGITS = re.compile(r"[0-9]+")
#: A Jinja expression, statement or comment: kept whole, never read into.
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class SparkSubmit:
    """One spark-submit invocation, whichever way it was written. ``None`` / empty: not given.

    Counts are ints, or the text as written when it is not a number (a Jinja expression). Conf
    values are as given: an operator's ``conf`` keeps its ints, a command line gives text. ``env``
    is the environment of the spark-submit process (``env_vars``, or ``VAR=value`` before the
    command). ``repeated`` names the options and conf keys given more than once (last one kept);
    ``operator_only`` the operator arguments that only steer the operator, not the job.
    """

    application: str | None = None
    application_args: tuple[Any, ...] = ()
    master: str | None = None
    deploy_mode: str | None = None
    main_class: str | None = None
    name: str | None = None
    conf: dict[str, Any] = field(default_factory=dict)
    jars: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    py_files: tuple[str, ...] = ()
    archives: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    exclude_packages: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    properties_file: str | None = None
    driver_memory: str | None = None
    driver_cores: int | str | None = None
    driver_java_options: str | None = None
    driver_library_path: str | None = None
    driver_class_path: str | None = None
    executor_memory: str | None = None
    executor_cores: int | str | None = None
    num_executors: int | str | None = None
    total_executor_cores: int | str | None = None
    queue: str | None = None
    keytab: str | None = None
    principal: str | None = None
    proxy_user: str | None = None
    env: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False
    supervise: bool = False
    spark_binary: str | None = None
    conn_id: str | None = None
    repeated: tuple[str, ...] = ()
    operator_only: tuple[str, ...] = ()


def split_list(value: str) -> tuple[str, ...]:
    """A comma-separated list as spark-submit reads it (blank items dropped); commas inside a Jinja
    expression (``{{ macros.ds_add(ds, -1) }}``) do not split."""
    hidden = JINJA.sub(lambda match: "\0" * len(match[0]), value)
    items, start = [], 0
    for index, char in enumerate(hidden + ","):
        if char == ",":
            items.append(value[start:index].strip())
            start = index + 1
    return tuple(item for item in items if item)


def _count(value: str) -> int | str:
    return int(value) if _DIGITS.fullmatch(value) else value


# -- the command line ------------------------------------------------------------------------------


def parse_spark_submit_command(command: str | Sequence[str]) -> SparkSubmit:
    """The spark-submit a shell command line (or an argv list) runs.

    Accepted before the binary: ``VAR=value`` assignments (they become :attr:`SparkSubmit.env`) and
    ``exec``. The binary is ``spark-submit``, ``spark2-submit`` or ``spark3-submit``, bare or as a
    path. Anything else (``cd dir && ...``, a second command, redirections) is a ``ValueError``.
    """
    if isinstance(command, str):
        commands = shell_commands(command)
        if len(commands) != 1:
            shown = "; ".join(" ".join(words)[:60] for words in commands) or "nothing"
            raise ValueError(f"expected exactly one spark-submit command, found {len(commands)}: {shown}")
        argv = commands[0]
    else:
        argv = list(command)
    env: dict[str, Any] = {}
    index = 0
    while index < len(argv) and (assignment := ASSIGNMENT.fullmatch(argv[index])):
        env[assignment[1]] = assignment[2]
        index += 1
    if index < len(argv) and argv[index] == "exec":
        index += 1
    binary = argv[index] if index < len(argv) else ""
    if binary.rsplit("/", 1)[-1] not in SPARK_SUBMIT_BINARIES:
        raise ValueError(
            f"expected {', '.join(SPARK_SUBMIT_BINARIES)} (after optional VAR=value assignments and "
            f"exec), got {binary!r}"
        )
    return _parse_arguments(argv[index + 1 :], env=env, spark_binary=binary)


def _parse_arguments(arguments: Sequence[str], **given: Any) -> SparkSubmit:
    fields: dict[str, Any] = dict(given)
    conf: dict[str, Any] = {}
    repeated: list[str] = []
    unknown: list[str] = []
    index = 0
    while index < len(arguments):
        word = arguments[index]
        option, value = word, None
        if equals := _EQUALS_FORM.fullmatch(word):
            option, value = equals[1], equals[2]
        if option in OPTIONS or option in CONF_OPTIONS:
            if value is None:
                if index + 1 >= len(arguments):
                    raise ValueError(f"spark-submit option {option} needs a value")
                index += 1
                value = arguments[index]
            store, key, subject, value = _option_value(option, value, fields, conf)
            if key in store and subject not in repeated:
                repeated.append(subject)
            store[key] = value
        elif option in SWITCHES:
            fields[SWITCHES[option]] = True
        elif option in NOT_SUBMISSIONS:
            raise ValueError(f"spark-submit {option} does not submit an application; nothing to translate")
        elif word.startswith("-"):
            unknown.append(word)
        else:
            fields["application"] = word
            fields["application_args"] = tuple(arguments[index + 1 :])
            break
        index += 1
    if unknown:
        raise ValueError(f"unknown spark-submit option(s): {', '.join(unknown)}")
    if "application" not in fields:
        raise ValueError("the spark-submit command names no application (a .jar, .py or .R file)")
    return SparkSubmit(**fields, conf=conf, repeated=tuple(repeated))


def _option_value(
    option: str, value: str, fields: dict[str, Any], conf: dict[str, Any]
) -> tuple[dict[str, Any], str, str, Any]:
    """Where an option's value goes: ``(mapping, key, subject for repeats, value)``."""
    if option in CONF_OPTIONS:
        key, equals, conf_value = value.partition("=")
        if not equals or not key:
            raise ValueError(f"spark-submit {option} {value!r}: expected key=value")
        return conf, key, key, conf_value
    name, kind = OPTIONS[option]
    if kind == _LIST:
        return fields, name, FLAG_OF[name], split_list(value)
    return fields, name, FLAG_OF[name], _count(value) if kind == _COUNT else value


# -- SparkSubmitOperator arguments -----------------------------------------------------------------

#: SparkSubmitOperator arguments that name a SparkSubmit field differently (the others match).
OPERATOR_SPELLINGS = {
    "java_class": "main_class",
    "yarn_queue": "queue",
    "env_vars": "env",
    "driver_classpath": "driver_class_path",  # the Airflow 1 contrib operator's spelling
}
#: Arguments that steer the operator or its hook, not the Spark job. (``openlineage_inject_*``
#: are not among them: Moka's Spark operators take them too, with the same meaning.)
OPERATOR_ONLY = (
    "status_poll_interval",
    "post_submit_commands",
    "track_driver_via_k8s_api",
    "yarn_track_via_rm_api",
    "yarn_rm_auth",
    "reconnect_on_retry",
    "durable",
)
#: SparkSubmitOperator's arguments that describe the job, as the operator spells them.
OPERATOR_ARGUMENTS = (
    "application",
    "conf",
    "conn_id",
    "files",
    "py_files",
    "archives",
    "driver_class_path",
    "jars",
    "java_class",
    "packages",
    "exclude_packages",
    "repositories",
    "total_executor_cores",
    "executor_cores",
    "executor_memory",
    "driver_memory",
    "keytab",
    "principal",
    "proxy_user",
    "name",
    "num_executors",
    "application_args",
    "env_vars",
    "verbose",
    "spark_binary",
    "properties_file",
    "yarn_queue",
    "deploy_mode",
    "use_krb5ccache",
)
_KINDS = {name: kind for name, kind in OPTIONS.values()}
KRB5CCACHE_CONF = ("spark.kerberos.renewal.credentials", "ccache")


def from_spark_submit_operator(**kwargs: Any) -> tuple[SparkSubmit, dict[str, Any]]:
    """What a ``SparkSubmitOperator(**kwargs)`` would submit, and the arguments it does not know.

    The second value holds everything that is not a SparkSubmitOperator argument (``task_id`` and
    the other BaseOperator arguments, or an in-house subclass's extras), for the caller to place.
    Lists are comma-separated strings as the operator takes them (sequences are accepted too);
    empty values count as not given, as the operator's hook leaves them out of the command. What
    the Spark connection supplies (master, deploy mode, queue, binary) is unknown here: only
    ``conn_id`` is recorded, and ``name`` is ``None`` unless given (not the operator's default).
    """
    fields: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    operator_only = []
    for argument, value in kwargs.items():
        name = OPERATOR_SPELLINGS.get(argument, argument)
        if argument in OPERATOR_ONLY:
            operator_only.append(argument)
        elif argument in OPERATOR_ARGUMENTS or argument in OPERATOR_SPELLINGS:
            if value:  # the hook leaves empty values (and 0) out of the command
                fields[name] = value
        else:
            unknown[argument] = value
    for name, kind in _KINDS.items():
        if kind == _LIST and isinstance(fields.get(name), str):
            fields[name] = split_list(fields[name])
        elif kind == _LIST and name in fields:
            fields[name] = tuple(fields[name])
    fields["conf"] = {str(key): value for key, value in (fields.get("conf") or {}).items()}
    fields["env"] = dict(fields.get("env") or {})
    fields["application_args"] = tuple(fields.get("application_args") or ())
    repeated: tuple[str, ...] = ()
    if fields.pop("use_krb5ccache", False):
        key, value = KRB5CCACHE_CONF
        repeated = (key,) if key in fields["conf"] else ()
        fields["conf"] = {**{k: v for k, v in fields["conf"].items() if k != key}, key: value}
    return SparkSubmit(**fields, repeated=repeated, operator_only=tuple(operator_only)), unknown


#: SparkSqlOperator's arguments that say something about the job (besides ``sql`` and ``conf``).
SPARK_SQL_FIELDS = (
    "conn_id",
    "total_executor_cores",
    "executor_cores",
    "executor_memory",
    "keytab",
    "principal",
    "master",
    "name",
    "num_executors",
    "verbose",
)


def from_spark_sql_operator(
    runner: str, sql: str, conf: dict[str, Any] | str | None = None, **kwargs: Any
) -> SparkSubmit:
    """The spark-submit that runs what a ``SparkSqlOperator`` ran with ``spark-sql -e``: the
    ``runner`` application (``moka_provider/data/spark/spark_sql_runner.py``) with the SQL text
    as its argument. ``conf`` may be a mapping or the operator's ``"k=v,k2=v2"`` text."""
    unknown = set(kwargs) - {*SPARK_SQL_FIELDS, "yarn_queue"}
    if unknown:
        raise TypeError(f"not SparkSqlOperator arguments: {', '.join(sorted(unknown))}")
    properties: dict[str, Any] = {}
    if isinstance(conf, str):
        for item in conf.split(","):
            key, equals, value = item.partition("=")
            if not equals or not key.strip():
                raise ValueError(f"conf {item!r}: expected key=value (comma-separated)")
            properties[key.strip()] = value
    else:
        properties = {str(key): value for key, value in (conf or {}).items()}
    fields = {OPERATOR_SPELLINGS.get(name, name): value for name, value in kwargs.items() if value}
    for name in ("total_executor_cores", "executor_cores", "num_executors"):
        if isinstance(fields.get(name), str):
            fields[name] = _count(fields[name])
    return SparkSubmit(application=runner, application_args=("-e", sql), conf=properties, **fields)
