"""What to do with one Spark or Bash operator call of a DAG file: convert, rename, or leave it.

The decision is made on the call's keyword arguments as source text, without the syntax tree:
:func:`plan_call` reads the values that are literals, asks :mod:`~.translate` for MokaSparkOperator
arguments when everything that matters is known, and otherwise names the drop-in operator (which
reads the values when the DAG runs) or says why the call is left alone. The rewriter
(:mod:`~.rewrite`) applies the plan to the source.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moka_provider.migration.rewrite_values import PLACEHOLDER, NotLiteral, command_text, literal_value
from moka_provider.migration.shell_words import shell_commands
from moka_provider.migration.spark_submit import (
    ASSIGNMENT,
    JINJA,
    OPERATOR_ARGUMENTS,
    OPERATOR_ONLY,
    OPERATOR_SPELLINGS,
    SPARK_SUBMIT_BINARIES,
    SparkSubmit,
    from_spark_submit_operator,
    parse_spark_submit_command,
)
from moka_provider.migration.translate import Finding, translate

CONVERTED, DROP_IN, UNTOUCHED, NEEDS_HUMAN = "converted", "drop-in", "untouched", "needs-human"
OUTCOMES = (CONVERTED, DROP_IN, NEEDS_HUMAN, UNTOUCHED)
SPARK_SUBMIT, SPARK_SQL, BASH = "spark-submit", "spark-sql", "bash"
SPARK_JDBC = "spark-jdbc"

MOKA_SPARK = "MokaSparkOperator"
MONARCH_SUBMIT, MONARCH_SQL, MONARCH_BASH = (
    "MonarchSparkSubmitOperator",
    "MonarchSparkSqlOperator",
    "MonarchSparkSubmitBashOperator",
)
MONARCH_JDBC = "MonarchSparkJDBCOperator"
#: The drop-in of each kind of Spark operator class (an in-house subclass extends it instead), and
#: of every kind of call (a spark-submit in Bash included).
CLASS_DROP_INS = {SPARK_SUBMIT: MONARCH_SUBMIT, SPARK_SQL: MONARCH_SQL, SPARK_JDBC: MONARCH_JDBC}
DROP_INS = {**CLASS_DROP_INS, BASH: MONARCH_BASH}
#: The module of each name the rewriter writes.
NEW_NAMES = {
    MOKA_SPARK: "moka_provider.operators.spark",
    MONARCH_SUBMIT: "moka_provider.operators.monarch",
    MONARCH_SQL: "moka_provider.operators.monarch",
    MONARCH_BASH: "moka_provider.operators.monarch",
    MONARCH_JDBC: "moka_provider.operators.monarch",
}

#: SparkSubmitOperator's own arguments (the job's, those that only steer the operator, and the
#: Airflow 1 contrib spellings). Every other keyword (``task_id``, ``queue``: the Airflow worker
#: queue, ``pool``, ...) belongs to BaseOperator and is kept as written.
SPARK_SUBMIT_ARGUMENTS = frozenset([*OPERATOR_ARGUMENTS, *OPERATOR_ONLY, *OPERATOR_SPELLINGS])
#: BashOperator arguments that only shape the shell of the worker.
BASH_ONLY = {
    "append_env": "adds the worker's environment to env=; the job's pods have their own",
    "cwd": "the working directory of the Bash task; the driver runs in a pod",
    "output_encoding": "decodes the Bash task's output; the job's logs come from the pods",
    "skip_on_exit_code": "an exit code of the shell; Moka's job ends succeeded or failed",
    "skip_exit_code": "an exit code of the shell; Moka's job ends succeeded or failed",
    "output_processor": "turned the shell's last output line into the XCom; Moka pushes no shell output",
}
_SPARK_SUBMIT_WORD = re.compile(
    r"(?<![\w.-])(?:\S*/)?(?:" + "|".join(map(re.escape, SPARK_SUBMIT_BINARIES)) + r")(?![\w.-])"
)
_SCRIPT = re.compile(r"^(?:(?:ba|z)?sh\s+)?(\S+\.(?:sh|bash))(?:\s|$)")
_SHOWN = 60


@dataclass(frozen=True)
class CallSite:
    """One operator call as source text: ``kind`` (:data:`SPARK_SUBMIT`, :data:`SPARK_SQL`,
    :data:`BASH`), each keyword's value as written, descriptions of arguments the rewriter cannot
    see into (positional, ``*args``, ``**kwargs``), the module's constants (name -> source), the
    keys its ``default_args`` dicts set, and the keywords whose value is a list mapped over
    (``.expand(...)``)."""

    kind: str
    keywords: Mapping[str, str]
    hidden: tuple[str, ...] = ()
    constants: Mapping[str, str] = field(default_factory=dict)
    default_keys: frozenset[str] = frozenset()
    mapped: frozenset[str] = frozenset()


@dataclass
class Plan:
    """The outcome for a call and why. ``callee`` is the drop-in's name when only the callee
    changes; ``arguments`` the translated MokaSparkOperator arguments replacing the ``removed``
    keywords when the call is converted; ``added`` keywords (name -> source) written into the call
    (an in-house wrapper's values). ``spark`` is False for a task that does not run Spark."""

    outcome: str
    reasons: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    callee: str | None = None
    arguments: dict[str, Any] | None = None
    removed: tuple[str, ...] = ()
    spark: bool = True
    added: dict[str, str] = field(default_factory=dict)


def shorten(code: str, width: int = _SHOWN) -> str:
    """Source text on one line, cut to ``width`` characters."""
    flat = " ".join(code.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def plan_call(
    site: CallSite,
    *,
    path_map: Mapping[str, str] | None = None,
    priority_classes: Mapping[str, str] | None = None,
) -> Plan:
    """What to do with ``site`` (see the module docstring)."""
    options = {"path_map": path_map, "priority_classes": priority_classes}
    if site.kind == BASH and "bash_command" in site.mapped:
        return _mapped_bash(site, options)
    if site.kind == SPARK_SUBMIT:
        return _spark_submit(site, options)
    if site.kind == SPARK_SQL:
        return _spark_sql(site)
    if site.kind == SPARK_JDBC:
        return _drop_in(MONARCH_JDBC, ["SparkJDBCOperator runs through the drop-in operator"])
    return _bash(site, options)


def _drop_in(callee: str, reasons: list[str]) -> Plan:
    return Plan(DROP_IN, reasons, callee=callee)


def _hidden_reasons(site: CallSite) -> list[str]:
    return [f"{shorten(hidden)}: arguments the rewriter cannot read" for hidden in site.hidden]


def _literals(site: CallSite, names: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The literal values of ``names``, and a reason for each computed one."""
    values: dict[str, Any] = {}
    computed = []
    for name in names:
        try:
            values[name] = literal_value(site.keywords[name])
        except NotLiteral:
            computed.append(f"{name}={shorten(site.keywords[name])} is computed when the DAG file runs")
    return values, computed


def _local_master(master: Any) -> bool:
    return isinstance(master, str) and master.strip().lower().startswith("local")


_LOCAL_REASON = "master {master}: runs Spark inside the Airflow worker, not on YARN; left as it is"


def _spark_submit(site: CallSite, options: dict[str, Any]) -> Plan:
    if site.hidden:
        return _drop_in(MONARCH_SUBMIT, _hidden_reasons(site))
    defaults = sorted(site.default_keys & SPARK_SUBMIT_ARGUMENTS - set(site.keywords))
    if defaults:
        return _drop_in(
            MONARCH_SUBMIT,
            [f"default_args sets {', '.join(defaults)}: the drop-in reads it, MokaSparkOperator would not"],
        )
    names = [name for name in site.keywords if name in SPARK_SUBMIT_ARGUMENTS]
    values, computed = _literals(site, names)
    if computed:
        return _drop_in(MONARCH_SUBMIT, computed)
    submit, _ = from_spark_submit_operator(**values)
    master = submit.conf.get("spark.master")
    if _local_master(master):
        return Plan(UNTOUCHED, [_LOCAL_REASON.format(master=master)])
    return _converted(site, submit, tuple(names), [], options, MONARCH_SUBMIT)


def _converted(
    site: CallSite,
    submit: SparkSubmit,
    removed: tuple[str, ...],
    findings: list[Finding],
    options: dict[str, Any],
    drop_in: str,
) -> Plan:
    translation = translate(submit, **options)
    clashes = [name for name in site.keywords if name not in removed and name in translation.arguments]
    if clashes:
        return _drop_in(
            drop_in, [f"{name}= is also a MokaSparkOperator argument; kept for a human" for name in clashes]
        )
    return Plan(
        CONVERTED,
        findings=[*findings, *translation.findings],
        arguments=translation.arguments,
        removed=removed,
    )


def _spark_sql(site: CallSite) -> Plan:
    master = site.keywords.get("master")
    if master is not None:
        try:
            value = literal_value(master)
        except NotLiteral:
            value = None
        if _local_master(value):
            return Plan(UNTOUCHED, [_LOCAL_REASON.format(master=value)])
    return _drop_in(MONARCH_SQL, ["SparkSqlOperator runs through the drop-in operator"])


def _bash(site: CallSite, options: dict[str, Any]) -> Plan:
    code = site.keywords.get("bash_command")
    if code is None:
        return Plan(UNTOUCHED, ["no bash_command= to read"], spark=False)
    text, computed = command_text(code, site.constants)
    if not _SPARK_SUBMIT_WORD.search(text):
        script = _SCRIPT.match(text.strip())
        if script and PLACEHOLDER not in script[1]:
            return Plan(
                NEEDS_HUMAN,
                [f"runs the script {script[1]}: if it calls spark-submit, move that command to Moka"],
            )
        return Plan(UNTOUCHED, ["not a Spark task"], spark=False)
    try:
        commands = shell_commands(text)
    except ValueError as error:
        return Plan(NEEDS_HUMAN, [f"{error}; split the command, then move its spark-submit to Moka"])
    if not any(_is_spark_submit(word) for words in commands for word in words):
        return Plan(UNTOUCHED, ["not a Spark task"], spark=False)
    if len(commands) != 1:
        shown = "; ".join(shorten(" ".join(words), 40) for words in commands)
        return Plan(
            NEEDS_HUMAN,
            [
                f"{len(commands)} commands ({shown}): Moka runs one spark-submit; "
                "split the task (a kinit is not needed on Moka)"
            ],
        )
    program = _program(commands[0])
    if not _is_spark_submit(program):
        return Plan(NEEDS_HUMAN, [f"spark-submit runs through {program}: check what that adds, then move it"])
    expanded = [word for word in commands[0] if re.search(r"[$`]", JINJA.sub("", word))]
    if expanded:
        shown = ", ".join(shorten(word, 30) for word in expanded)
        return Plan(
            NEEDS_HUMAN,
            [f"the shell expands {shown}; Moka runs no shell: write it out or use Jinja, then run again"],
        )
    try:
        submit: SparkSubmit | None = parse_spark_submit_command(text)
    except ValueError as error:
        if not computed:
            return Plan(NEEDS_HUMAN, [str(error)])
        submit = None  # the drop-in parses the rendered command
    master = submit and (submit.master or submit.conf.get("spark.master"))
    if _local_master(master):
        return Plan(UNTOUCHED, [_LOCAL_REASON.format(master=master)])
    if master and PLACEHOLDER not in master and not master.strip().lower().startswith("yarn"):
        return Plan(NEEDS_HUMAN, [f"master {master} is neither YARN nor local; check where this job runs"])
    if computed or submit is None:
        return _drop_in(MONARCH_BASH, [f"bash_command={shorten(code)} is computed when the DAG file runs"])
    return _bash_converted(site, submit, options)


def _mapped_bash(site: CallSite, options: dict[str, Any]) -> Plan:
    """A BashOperator mapped over ``bash_command``: each command planned on its own; the drop-in
    when every one runs spark-submit and could move, left alone when none does."""
    code = site.keywords["bash_command"]
    try:
        commands = literal_value(site.constants.get(code.strip(), code))
    except NotLiteral:
        commands = None
    if not isinstance(commands, list | tuple) or not all(isinstance(command, str) for command in commands):
        if "spark" not in command_text(code, site.constants)[0].lower() + code.lower():
            return Plan(UNTOUCHED, ["not a Spark task"], spark=False)
        return Plan(
            NEEDS_HUMAN,
            [f"mapped over bash_command={shorten(code)}, computed when the DAG runs: check what it runs"],
        )
    plans = [
        plan_call(
            dataclasses.replace(
                site, keywords={**site.keywords, "bash_command": repr(command)}, mapped=frozenset()
            ),
            **options,
        )
        for command in commands
    ]
    spark = [plan for plan in plans if plan.spark]
    if not spark:
        return Plan(UNTOUCHED, ["not a Spark task"], spark=False)
    if len(spark) == len(plans) and all(plan.outcome in (CONVERTED, DROP_IN) for plan in plans):
        return _drop_in(MONARCH_BASH, [])
    reasons = [f"{len(spark)} of the {len(plans)} mapped commands runs Spark: split the mapping"]
    reasons += [
        reason for plan in spark if plan.outcome not in (CONVERTED, DROP_IN) for reason in plan.reasons
    ]
    return Plan(NEEDS_HUMAN, list(dict.fromkeys(reasons)) if len(spark) < len(plans) else reasons[1:])


def _is_spark_submit(word: str) -> bool:
    return word.rsplit("/", 1)[-1] in SPARK_SUBMIT_BINARIES


def _program(words: list[str]) -> str:
    """The program a simple command runs (after ``VAR=value`` assignments and ``exec``)."""
    programs = list(itertools.dropwhile(ASSIGNMENT.match, words))
    if programs[:1] == ["exec"]:
        programs = programs[1:]
    return programs[0] if programs else ""


def _bash_converted(site: CallSite, submit: SparkSubmit, options: dict[str, Any]) -> Plan:
    if site.hidden:
        return _drop_in(MONARCH_BASH, _hidden_reasons(site))
    env_names = ["env"] if "env" in site.keywords else []
    values, computed = _literals(site, env_names)
    env = values.get("env") or {}
    if computed or not isinstance(env, dict):
        return _drop_in(MONARCH_BASH, computed or [f"env={shorten(site.keywords['env'])} is not a dict"])
    submit = dataclasses.replace(submit, env={**env, **submit.env})
    bash_only = [name for name in site.keywords if name in BASH_ONLY]
    findings = [
        Finding("attention" if name == "output_processor" else "dropped", name, BASH_ONLY[name])
        for name in bash_only
    ]
    removed = ("bash_command", *env_names, *bash_only)
    return _converted(site, submit, removed, findings, options, MONARCH_BASH)
