"""The DAG rewriter: one small source per case, each also checked for idempotence and validity."""

from __future__ import annotations

import ast
import dataclasses
import json
import shlex
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moka_provider.migration.report import render_report, report_data, summary_table
from moka_provider.migration.rewrite import FileRewrite, rewrite_source
from moka_provider.migration.rewrite_calls import SPARK_SUBMIT, CallSite, plan_call
from moka_provider.migration.rewrite_values import (
    NotLiteral,
    command_text,
    literal_value,
    render_string,
    render_value,
)
from moka_provider.migration.spark_submit import from_spark_submit_operator, parse_spark_submit_command
from moka_provider.migration.translate import translate

SUBMIT_IMPORT = "from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator\n"
BASH_IMPORT = "from airflow.operators.bash import BashOperator\n"
LAKE = {"hdfs://nn/": "s3a://lake/"}


def _rewrite(source: str, **options: Any) -> FileRewrite:
    """Rewrite ``source``; the result must be valid Python and a second run must change nothing."""
    result = rewrite_source(dedent(source), **options)
    if result.error is None:
        ast.parse(result.source)
    again = rewrite_source(result.source, **options)
    assert again.source == result.source
    assert not again.changed
    return result


def _calls(source: str, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def _only_task(result: FileRewrite) -> Any:
    (task,) = result.tasks
    return task


# -- SparkSubmitOperator: static conversion --------------------------------------------------------


def test_static_conversion_exact_text() -> None:
    result = _rewrite(
        '''\
        """A Monarch DAG."""
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

        with DAG("etl", start_date=datetime(2024, 1, 1)) as dag:
            # the nightly job
            etl = SparkSubmitOperator(
                task_id="etl",  # keep me
                application="hdfs://nn/apps/etl.jar",
                java_class="com.acme.Etl",
                # sizing
                executor_memory="4g",
                conf={"spark.yarn.queue": "etl", "spark.yarn.executor.memoryOverhead": "1g"},
                queue="big_workers",
                retries=2,
            )
            etl >> done
        ''',
        path_map=LAKE,
    )
    assert result.source == dedent(
        '''\
        """A Monarch DAG."""
        from datetime import datetime

        from airflow import DAG
        from moka_provider.operators.spark import MokaSparkOperator

        with DAG("etl", start_date=datetime(2024, 1, 1)) as dag:
            # the nightly job
            # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
            etl = MokaSparkOperator(
                task_id="etl",  # keep me
                # sizing
                application="s3a://lake/apps/etl.jar",
                main_class="com.acme.Etl",
                spark_conf={"spark.executor.memoryOverhead": "1g"},
                executors={"memory": "4g"},
                yunikorn_queue="etl",
                queue="big_workers",
                retries=2,
            )
            etl >> done
        '''
    )
    task = _only_task(result)
    assert (task.line, task.task_id, task.operator, task.outcome) == (
        9,
        '"etl"',
        "SparkSubmitOperator",
        "converted",
    )
    assert result.changed and result.error is None


def test_short_call_stays_on_one_line_with_attention_comments_above() -> None:
    result = _rewrite(
        SUBMIT_IMPORT
        + 'pi = SparkSubmitOperator(task_id="pi", application="local:///opt/pi.jar", conn_id="yarn")\n'
    )
    lines = result.source.splitlines()
    assert lines[0] == "from moka_provider.operators.spark import MokaSparkOperator"
    assert lines[1].startswith("# moka migrate: check conn_id: Moka uses the moka connection")
    assert len(lines[1]) <= 100 and lines[1].endswith("...")
    assert lines[2] == 'pi = MokaSparkOperator(task_id="pi", application="local:///opt/pi.jar")'


STATIC_ARGUMENTS = [
    {"application": "app.py", "conf": {"spark.executor.instances": 4, "spark.yarn.maxAppAttempts": 2}},
    {"application": "s3a://b/a.jar", "jars": "a.jar,b.jar", "application_args": ["--day", "{{ ds }}"]},
    {"application": "a.py", "py_files": ["x.zip"], "env_vars": {"PYSPARK_PYTHON": "./venv/bin/python"}},
    {
        "application": "hdfs://nn/a.py",
        "num_executors": 10,
        "executor_cores": 2,
        "verbose": True,
        "name": "Daily Job",
        "conf": {"spark.dynamicAllocation.enabled": "true", "spark.shuffle.service.enabled": "true"},
    },
    {"application": "a.py", "keytab": "/k/me.keytab", "principal": "me@R", "yarn_queue": "root.etl"},
]


@pytest.mark.parametrize("arguments", STATIC_ARGUMENTS)
def test_converted_arguments_are_what_translate_gives(arguments: dict[str, Any]) -> None:
    call = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    source = SUBMIT_IMPORT + f"t = SparkSubmitOperator(task_id='t', {call}, pool='p')\n"
    result = _rewrite(source, path_map=LAKE)
    (moka,) = _calls(result.source, "MokaSparkOperator")
    written = {keyword.arg: keyword.value for keyword in moka.keywords}
    expected = translate(from_spark_submit_operator(**arguments)[0], path_map=LAKE).arguments
    assert list(written) == ["task_id", *expected, "pool"]
    assert {key: ast.literal_eval(written[key]) for key in expected} == expected
    assert [ast.unparse(written[key]) for key in ("task_id", "pool")] == ["'t'", "'p'"]
    assert "SparkSubmitOperator" not in result.source


def test_literal_forms_are_read_as_literals() -> None:
    source = SUBMIT_IMPORT + dedent(
        """\
        t = SparkSubmitOperator(
            task_id="t",
            application=f"s3a://b/app.py",
            application_args=["--day", f"{{{{ ds }}}}", "--x", -1],
            name=("nightly"
                  "-job"),
            conf={"spark.sql.shuffle.partitions": 200, "spark.x": 1.5},
        )
        """
    )
    result = _rewrite(source)
    assert _only_task(result).outcome == "converted"
    (moka,) = _calls(result.source, "MokaSparkOperator")
    written = {keyword.arg: ast.literal_eval(keyword.value) for keyword in moka.keywords}
    assert written["application"] == "s3a://b/app.py"
    assert written["arguments"] == ["--day", "{{ ds }}", "--x", -1]
    assert written["name"] == "nightly-job"
    assert written["spark_conf"] == {"spark.sql.shuffle.partitions": 200, "spark.x": 1.5}


def test_worker_queue_stays_and_yarn_queue_moves() -> None:
    result = _rewrite(
        SUBMIT_IMPORT
        + 't = SparkSubmitOperator(task_id="t", application="a.jar", queue="w", yarn_queue="y")\n'
    )
    (moka,) = _calls(result.source, "MokaSparkOperator")
    assert {keyword.arg: ast.literal_eval(keyword.value) for keyword in moka.keywords} == {
        "task_id": "t",
        "application": "a.jar",
        "yunikorn_queue": "y",
        "queue": "w",
    }


def test_long_dicts_are_written_one_key_per_line() -> None:
    conf = {f"spark.sql.option.number{index}": f"value-{index}" for index in range(4)}
    result = _rewrite(
        SUBMIT_IMPORT + f"t = SparkSubmitOperator(task_id='t', application='a.jar', conf={conf!r})\n"
    )
    assert "    spark_conf={\n        'spark.sql.option.number0': 'value-0',\n" in result.source
    assert all(len(line) <= 88 for line in result.source.splitlines() if not line.startswith("# moka"))


def test_removed_arguments_comments_are_kept() -> None:
    result = _rewrite(
        SUBMIT_IMPORT
        + dedent(
            """\
            t = SparkSubmitOperator(  # the job
                task_id="t",
                application="a.jar",  # built by CI
                conf={
                    # tuned in 2023
                    "spark.sql.shuffle.partitions": 400,  # was 200
                },
                # dag=dag,
            )
            """
        )
    )
    assert result.source.endswith(
        dedent(
            """\
            t = MokaSparkOperator(  # the job
                task_id="t",
                # built by CI
                # tuned in 2023
                # was 200
                application="a.jar",
                spark_conf={"spark.sql.shuffle.partitions": 400},
                # dag=dag,
            )
            """
        )
    )


def test_local_master_in_conf_is_left_alone() -> None:
    source = (
        SUBMIT_IMPORT
        + 't = SparkSubmitOperator(task_id="t", application="a.py", conf={"spark.master": "local[*]"})\n'
    )
    result = _rewrite(source)
    assert result.source == source and not result.changed
    assert _only_task(result).outcome == "untouched"
    assert "inside the Airflow worker" in _only_task(result).reasons[0]


# -- SparkSubmitOperator: drop-in ------------------------------------------------------------------

DYNAMIC = [
    "conf=CONF",
    "conf=dict(CONF, **{'spark.x': 1})",
    "conf={**CONF, 'spark.x': 1}",
    "application=APP_DIR + '/etl.py'",
    "application=f'{APP_DIR}/etl.py'",
    "application=Variable.get('app')",
    "application=os.path.join(APP_DIR, 'etl.py')",
    "application='a.py', conf=CONF if PROD else {}",
    "application='a.py', application_args=['--day', ds]",
    "**config",
    "*args",
    "'positional'",
]


@pytest.mark.parametrize("arguments", DYNAMIC)
def test_dynamic_arguments_only_rename_the_callee(arguments: str) -> None:
    call = f't = SparkSubmitOperator({arguments}, task_id="t", dag=dag)\n'
    result = _rewrite(SUBMIT_IMPORT + call)
    assert result.source == (
        "from moka_provider.operators.monarch import MonarchSparkSubmitOperator\n"
        + call.replace("SparkSubmitOperator", "MonarchSparkSubmitOperator")
    )
    task = _only_task(result)
    assert task.outcome == "drop-in" and task.reasons


@pytest.mark.parametrize(
    "default_args",
    [
        'default_args = {"owner": "etl", "conn_id": "yarn_spark"}\nDAG("d", default_args=default_args)',
        'DAG("d", default_args=dict(owner="etl", conn_id="yarn_spark"))',
    ],
)
def test_spark_settings_in_default_args_keep_the_drop_in(default_args: str) -> None:
    source = SUBMIT_IMPORT + default_args + '\nt = SparkSubmitOperator(task_id="t", application="a.py")\n'
    result = _rewrite(source)
    assert 't = MonarchSparkSubmitOperator(task_id="t", application="a.py")' in result.source
    assert _only_task(result).reasons == [
        "default_args sets conn_id: the drop-in reads it, MokaSparkOperator would not"
    ]
    explicit = source.replace('application="a.py"', 'application="a.py", conn_id="spark"')
    assert _only_task(_rewrite(explicit)).outcome == "converted"


def test_argument_clashing_with_a_moka_argument_falls_back_to_drop_in() -> None:
    call = (
        't = SparkSubmitOperator(task_id="t", application="a.py", application_args=["x"], arguments=["y"])\n'
    )
    result = _rewrite(SUBMIT_IMPORT + call)
    assert call.replace("SparkSubmitOperator", "MonarchSparkSubmitOperator") in result.source
    assert _only_task(result).reasons == ["arguments= is also a MokaSparkOperator argument; kept for a human"]


def test_new_strings_follow_the_files_quote_style() -> None:
    source = (
        SUBMIT_IMPORT.replace('"', "'")
        + "t = SparkSubmitOperator(task_id='t', application='a.jar', name='x')\n"
    )
    result = _rewrite(source)
    assert "t = MokaSparkOperator(task_id='t', name='x', application='a.jar')\n" in result.source


def test_mapped_tasks_use_the_drop_in() -> None:
    source = (
        SUBMIT_IMPORT
        + BASH_IMPORT
        + dedent(
            """\
        s = SparkSubmitOperator.partial(task_id="s", application="a.py").expand(application_args=[["1"]])
        b = BashOperator.partial(task_id="b", bash_command="spark-submit a.py").expand(env=[{}])
        e = BashOperator.partial(task_id="e").expand(bash_command=["echo 1"])
        """
        )
    )
    result = _rewrite(source)
    assert 's = MonarchSparkSubmitOperator.partial(task_id="s", application="a.py").expand(' in result.source
    assert 'b = MonarchSparkSubmitBashOperator.partial(task_id="b", bash_command=' in result.source
    assert 'e = BashOperator.partial(task_id="e")' in result.source
    assert [task.outcome for task in result.tasks] == ["drop-in", "drop-in", "untouched"]


# -- imports ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("imports", "callee"),
    [
        (
            "from airflow.contrib.operators.spark_submit_operator import SparkSubmitOperator",
            "SparkSubmitOperator",
        ),
        (
            "from airflow.providers.apache.spark.operators import spark_submit",
            "spark_submit.SparkSubmitOperator",
        ),
        ("from airflow.providers.apache.spark.operators import spark_submit as ss", "ss.SparkSubmitOperator"),
        ("import airflow.providers.apache.spark.operators.spark_submit as ss", "ss.SparkSubmitOperator"),
        (
            "from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator as SSO",
            "SSO",
        ),
        (
            "import airflow.contrib.operators.spark_submit_operator",
            "airflow.contrib.operators.spark_submit_operator.SparkSubmitOperator",
        ),
        ("from airflow.operators import bash_operator", "bash_operator.BashOperator"),
        ("from airflow.operators import BashOperator", "BashOperator"),
        ("from airflow.providers.standard.operators.bash import BashOperator as Bash", "Bash"),
    ],
)
def test_every_import_style_is_recognised(imports: str, callee: str) -> None:
    bash = "Bash" in callee
    arguments = "task_id='t', " + ("bash_command=f'spark-submit {APP}'" if bash else "conf=CONF")
    drop_in = "MonarchSparkSubmitBashOperator" if bash else "MonarchSparkSubmitOperator"
    result = _rewrite(f"{imports}\n\nt = {callee}({arguments})\n")
    assert f"t = {drop_in}({arguments})\n" in result.source
    assert f"from moka_provider.operators.monarch import {drop_in}\n" in result.source
    dotted = imports.startswith("import airflow.contrib")
    assert (imports in result.source) == dotted  # a dotted import binds `airflow`: left alone


def test_an_in_house_wrapper_without_source_moves_onto_the_drop_in_with_parent_keywords_only() -> None:
    source = "from acme.operators import SparkSubmitOperator\n\nt = SparkSubmitOperator(task_id='t', application='a.py', retries=2)\n"
    result = _rewrite(source)
    assert result.source == (
        "from moka_provider.operators.monarch import MonarchSparkSubmitOperator\n\n"
        "t = MonarchSparkSubmitOperator(task_id='t', application='a.py', retries=2)\n"
    )
    task = _only_task(result)
    assert task.outcome == "drop-in"
    assert (
        "acme.operators.SparkSubmitOperator" in task.reasons[0]
        and "not in the scanned tree" in task.reasons[0]
    )


def test_an_in_house_wrapper_without_source_and_unknown_keywords_needs_a_person() -> None:
    source = "from acme.operators import TwoRPSparkSubmitOperator\n\nt = TwoRPSparkSubmitOperator(task_id='t', application='a.py', team='x', rp=2)\n"
    result = _rewrite(source)
    assert result.source == source
    task = _only_task(result)
    assert task.outcome == "needs-human" and task.spark
    assert "takes rp, team, which SparkSubmitOperator does not" in task.reasons[0]


def test_uses_the_rewriter_cannot_follow_are_noted() -> None:
    source = SUBMIT_IMPORT + dedent(
        """\
        import functools
        from airflow.providers.apache.spark.operators.spark_sql import *

        OPERATORS = {"submit": SparkSubmitOperator}
        t = OPERATORS["submit"](task_id="t", application="a.py")
        """
    )
    result = _rewrite(source)
    assert result.source == source and result.tasks == []
    assert result.notes == [
        "line 3: `from airflow.providers.apache.spark.operators.spark_sql import *` hides which names are "
        "operators: its tasks are not rewritten; import the operators by name and run again",
        "line 5: SparkSubmitOperator is used other than in a call or as a base class (an alias, "
        "functools.partial, ...): the rewriter cannot follow it; check the tasks it makes",
    ]


def test_import_is_trimmed_only_of_names_no_longer_used() -> None:
    source = dedent(
        """\
        from airflow.providers.apache.spark.operators.spark_submit import (
            SparkSubmitHook,  # used below
            SparkSubmitOperator,
        )
        from airflow.operators.bash import BashOperator

        t = SparkSubmitOperator(task_id="t", conf=CONF)
        hook = SparkSubmitHook
        echo = BashOperator(task_id="echo", bash_command="echo hi")
        """
    )
    result = _rewrite(source)
    assert result.source.startswith(
        dedent(
            """\
            from airflow.providers.apache.spark.operators.spark_submit import (
                SparkSubmitHook,  # used below
            )
            from airflow.operators.bash import BashOperator
            from moka_provider.operators.monarch import MonarchSparkSubmitOperator
            """
        )
    )


def test_import_still_used_elsewhere_is_kept() -> None:
    source = SUBMIT_IMPORT + dedent(
        """\
        t = SparkSubmitOperator(task_id="t", conf=CONF)
        assert issubclass(SparkSubmitOperator, object)
        """
    )
    result = _rewrite(source)
    assert result.source.startswith(SUBMIT_IMPORT + "from moka_provider.operators.monarch import")


def test_unused_spark_import_is_left_alone() -> None:
    source = (
        SUBMIT_IMPORT
        + "from airflow.providers.apache.spark.operators.spark_sql import SparkSqlOperator\n\nx = 1\n"
    )
    result = _rewrite(source)
    assert result.source == source and not result.changed


def test_existing_moka_import_is_not_added_twice() -> None:
    source = "from moka_provider.operators.monarch import MonarchSparkSubmitOperator\n" + SUBMIT_IMPORT
    result = _rewrite(source + "t = SparkSubmitOperator(task_id='t', conf=CONF)\n")
    assert result.source == (
        "from moka_provider.operators.monarch import MonarchSparkSubmitOperator\n"
        "t = MonarchSparkSubmitOperator(task_id='t', conf=CONF)\n"
    )


def test_imports_inside_try_blocks_are_never_emptied() -> None:
    source = dedent(
        """\
        try:
            from airflow.operators.bash import BashOperator
        except ImportError:
            from airflow.operators.bash_operator import BashOperator

        t = BashOperator(task_id="t", bash_command="spark-submit --master yarn app.py")
        """
    )
    result = _rewrite(source)
    assert result.source.startswith(source.split("\n\n")[0])
    assert "MokaSparkOperator(" in result.source


# -- SparkSqlOperator and subclasses ---------------------------------------------------------------


def test_spark_sql_is_always_a_drop_in() -> None:
    source = "from airflow.contrib.operators.spark_sql_operator import SparkSqlOperator\n\nq = SparkSqlOperator(task_id='q', sql='SELECT 1', name='q')\n"
    result = _rewrite(source)
    assert result.source == (
        "from moka_provider.operators.monarch import MonarchSparkSqlOperator\n\n"
        "q = MonarchSparkSqlOperator(task_id='q', sql='SELECT 1', name='q')\n"
    )
    assert _only_task(result).outcome == "drop-in"


def test_spark_sql_on_a_local_master_is_left_alone() -> None:
    source = "from airflow.providers.apache.spark.operators.spark_sql import SparkSqlOperator\n\nq = SparkSqlOperator(task_id='q', sql='x', master='local[2]')\n"
    result = _rewrite(source)
    assert result.source == source and _only_task(result).outcome == "untouched"


def test_in_house_subclass_gets_the_drop_in_base_and_needs_a_human() -> None:
    source = SUBMIT_IMPORT + dedent(
        """\


        class AcmeSparkSubmitOperator(SparkSubmitOperator):
            def execute(self, context):
                return super().execute(context)


        t = AcmeSparkSubmitOperator(task_id="t", application="a.py")
        """
    )
    result = _rewrite(source)
    assert "class AcmeSparkSubmitOperator(MonarchSparkSubmitOperator):" in result.source
    assert "# moka migrate: needs a human: an in-house subclass of SparkSubmitOperator" in result.source
    assert 't = AcmeSparkSubmitOperator(task_id="t", application="a.py")' in result.source
    assert SUBMIT_IMPORT not in result.source
    task = _only_task(result)
    assert (task.task_id, task.operator, task.outcome) == (
        None,
        "class AcmeSparkSubmitOperator(SparkSubmitOperator)",
        "needs-human",
    )


# -- BashOperator ----------------------------------------------------------------------------------


def test_bash_spark_submit_is_converted_with_env_and_bash_only_arguments_dropped() -> None:
    source = BASH_IMPORT + dedent(
        """\
        t = BashOperator(
            task_id="t",
            bash_command="spark-submit --master yarn --deploy-mode cluster --class a.B "
            "--conf spark.yarn.queue=etl s3a://b/app.jar {{ ds }}",
            env={"HADOOP_CONF_DIR": "/etc/hadoop", "MODE": "prod"},
            cwd="/tmp",
            append_env=True,
            output_processor=lambda output: output.strip(),
        )
        """
    )
    result = _rewrite(source)
    lines = result.source.splitlines()
    assert lines[:3] == [
        "from moka_provider.operators.spark import MokaSparkOperator",
        "# moka migrate: check output_processor: turned the shell's last output line into the XCom; Moka...",
        "t = MokaSparkOperator(",
    ]
    (moka,) = _calls(result.source, "MokaSparkOperator")
    written = {keyword.arg: ast.literal_eval(keyword.value) for keyword in moka.keywords}
    command = "spark-submit --master yarn --deploy-mode cluster --class a.B --conf spark.yarn.queue=etl "
    submit = parse_spark_submit_command(command + "s3a://b/app.jar {{ ds }}")
    with_env = dataclasses.replace(submit, env={"HADOOP_CONF_DIR": "/etc/hadoop", "MODE": "prod"})
    assert written == {"task_id": "t", **translate(with_env).arguments}
    assert "/etc/hadoop" not in result.source and "prod" in result.source
    task = _only_task(result)
    dropped = {finding.subject for finding in task.findings if finding.kind == "dropped"}
    assert {"cwd", "append_env", "HADOOP_CONF_DIR", "--master", "--deploy-mode"} <= dropped
    assert [finding.kind for finding in task.findings if finding.subject == "output_processor"] == [
        "attention"
    ]


def test_bash_task_translation_matches_the_parser() -> None:
    command = (
        "PYSPARK_PYTHON=./venv/bin/python spark2-submit --num-executors 4 --py-files deps.zip hdfs://nn/a.py"
    )
    result = _rewrite(
        BASH_IMPORT + f"t = BashOperator(task_id='t', bash_command={command!r})\n", path_map=LAKE
    )
    (moka,) = _calls(result.source, "MokaSparkOperator")
    written = {
        keyword.arg: ast.literal_eval(keyword.value) for keyword in moka.keywords if keyword.arg != "task_id"
    }
    assert written == translate(parse_spark_submit_command(command), path_map=LAKE).arguments


@pytest.mark.parametrize(
    "command",
    [
        "f'spark-submit --master yarn {APP}'",
        "'spark-submit --master yarn ' + APP",
        "'spark-submit --master yarn {}'.format(APP)",
        "'spark-submit --master yarn %s' % APP",
        "' '.join(['spark3-submit', APP])",
        "SUBMIT",
        "f'{BINARY} --master yarn app.py'",
    ],
)
def test_dynamic_bash_spark_submit_is_a_drop_in(command: str) -> None:
    source = (
        BASH_IMPORT
        + f"SUBMIT = 'spark-submit --master yarn app.py'\nBINARY = 'spark-submit'\nt = BashOperator(task_id='t', bash_command={command})\n"
    )
    result = _rewrite(source)
    assert result.source == (
        BASH_IMPORT.replace(
            "airflow.operators.bash import BashOperator",
            "moka_provider.operators.monarch import MonarchSparkSubmitBashOperator",
        )
        + source.split("\n", 1)[1].replace("BashOperator(", "MonarchSparkSubmitBashOperator(")
    )
    assert _only_task(result).outcome == "drop-in"


@pytest.mark.parametrize(
    "command",
    [
        "kinit -kt /k/me.keytab me@R",
        "beeline -u jdbc:hive2://h -f q.sql",
        "hdfs dfs -rm -r -f /tmp/out",
        "echo 'spark-submit runs next'",
        "python check_spark-submit-output.py",
    ],
)
def test_non_spark_bash_is_untouched_and_needs_no_human(command: str) -> None:
    source = BASH_IMPORT + f"t = BashOperator(task_id='t', bash_command={command!r})\n"
    result = _rewrite(source)
    assert result.source == source
    task = _only_task(result)
    assert (task.outcome, task.spark) == ("untouched", False)


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("'kinit -kt k me@R && spark-submit --master yarn a.py'", "2 commands"),
        ("'cd /opt/jobs; spark-submit a.py'", "2 commands"),
        ("f'kinit -kt {KEYTAB} me && spark-submit {APP}'", "2 commands"),
        ("'spark-submit a.py > /tmp/log 2>&1'", "redirection"),
        ("'/opt/jobs/run_etl.sh'", "runs the script /opt/jobs/run_etl.sh"),
        ("'bash /opt/jobs/run_etl.sh {{ ds }}'", "runs the script /opt/jobs/run_etl.sh"),
        ("'spark-submit --master spark://m:7077 a.py'", "neither YARN nor local"),
        ("'sudo -u etl spark-submit --master yarn a.py'", "spark-submit runs through sudo"),
        ("'spark-submit --master yarn $SPARK_OPTS a.py {{ ds }}'", "the shell expands $SPARK_OPTS"),
        ('"spark-submit a.py --day `date +%F`"', "the shell expands `date"),
        ("'spark-submit --master yarn --bogus a.py'", "unknown spark-submit option(s): --bogus"),
    ],
)
def test_bash_that_needs_a_human_is_untouched(command: str, reason: str) -> None:
    source = BASH_IMPORT + f"t = BashOperator(task_id='t', bash_command={command})\n"
    result = _rewrite(source)
    assert result.source == source
    task = _only_task(result)
    assert task.outcome == "needs-human" and reason in task.reasons[0]


@pytest.mark.parametrize("master", ["--master local[4]", "--master=local", "--conf spark.master=local[*]"])
def test_bash_spark_on_a_local_master_is_untouched(master: str) -> None:
    source = BASH_IMPORT + f"t = BashOperator(task_id='t', bash_command='spark-submit {master} app.py')\n"
    result = _rewrite(source)
    assert result.source == source
    assert _only_task(result).outcome == "untouched"
    assert _only_task(result).reasons[0].startswith("master local")


def test_bash_with_computed_env_is_a_drop_in() -> None:
    source = BASH_IMPORT + "t = BashOperator(task_id='t', bash_command='spark-submit a.py', env=ENV)\n"
    result = _rewrite(source)
    assert (
        "t = MonarchSparkSubmitBashOperator(task_id='t', bash_command='spark-submit a.py', env=ENV)"
        in result.source
    )


def test_bash_import_stays_while_other_bash_tasks_use_it() -> None:
    source = BASH_IMPORT + dedent(
        """\
        kinit = BashOperator(task_id="kinit", bash_command="kinit -kt k me@R")
        job = BashOperator(task_id="job", bash_command="spark-submit --master yarn s3a://b/a.jar")
        """
    )
    result = _rewrite(source)
    assert result.source.startswith(
        BASH_IMPORT + "from moka_provider.operators.spark import MokaSparkOperator\n"
    )
    assert 'kinit = BashOperator(task_id="kinit"' in result.source


# -- what must not change --------------------------------------------------------------------------


def test_task_ids_dependencies_comments_and_strings_stay() -> None:
    source = SUBMIT_IMPORT + dedent(
        """\
        from airflow.models.baseoperator import chain

        # t0 = SparkSubmitOperator(task_id="old", conn_id="yarn", conf={"spark.yarn.queue": "x"})
        NOTE = "runs on yarn with spark.yarn.queue=etl"
        tasks = [SparkSubmitOperator(task_id=f"part_{i}", application="a.py", conf=CONF) for i in range(3)]
        last = SparkSubmitOperator(task_id="last", application="a.py")
        chain(*tasks, last)
        last.set_upstream(tasks[0])
        tasks[1] >> last
        """
    )
    result = _rewrite(source)
    before, after = source.splitlines(), result.source.splitlines()
    for line in before:
        if "SparkSubmitOperator(" not in line and line != SUBMIT_IMPORT.strip():
            assert line in after
    assert [task.task_id for task in result.tasks] == ['f"part_{i}"', '"last"']
    assert 'task_id=f"part_{i}"' in result.source


def test_os_environ_of_the_yarn_client_is_noted_and_kept() -> None:
    source = 'import os\n\nos.environ["HADOOP_CONF_DIR"] = "/etc/hadoop/conf"\nos.environ.setdefault("YARN_CONF_DIR", "/etc/y")\nx = os.environ["HADOOP_CONF_DIR"]\n'
    result = _rewrite(source)
    assert result.source == source
    assert [note.split(":")[0] for note in result.notes] == ["line 3", "line 4"]
    assert "no effect on Moka" in result.notes[0]


def test_file_that_does_not_parse_is_reported_and_unchanged() -> None:
    source = SUBMIT_IMPORT + "t = SparkSubmitOperator(task_id='t',\n"
    result = rewrite_source(source)
    assert (result.source, result.changed, result.tasks) == (source, False, [])
    assert result.error is not None and result.error.startswith("does not parse: line 2")


def test_windows_line_endings_and_unicode_are_kept() -> None:
    source = (
        SUBMIT_IMPORT + "# café\nt = SparkSubmitOperator(\n    task_id='é',\n    application='a.jar',\n)\n"
    ).replace("\n", "\r\n")
    result = rewrite_source(source)
    assert "\n" not in result.source.replace("\r\n", "")
    assert "# café\r\n# moka migrate: check application: a.jar" in result.source
    assert "t = MokaSparkOperator(\r\n    task_id='é',\r\n    application='a.jar',\r\n)\r\n" in result.source
    assert rewrite_source(result.source).source == result.source


# -- values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ('"a" "b"', "ab"),
        ("f'x{{y}}'", "x{y}"),
        ("('a'  # comment\n 'b')", "ab"),
        ("{'k': [1, -2.5, None, True]}", {"k": [1, -2.5, None, True]}),
    ],
)
def test_literal_values(code: str, value: Any) -> None:
    assert literal_value(code) == value


@pytest.mark.parametrize("code", ["f'{x}'", "x", "{**a}", "dict(a=1)", "'a' + b", "[1, x]"])
def test_computed_values(code: str) -> None:
    with pytest.raises(NotLiteral):
        literal_value(code)


def test_command_text_sees_through_built_commands() -> None:
    assert command_text("f'spark-submit {app} --x'", {}) == ("spark-submit __moka_dynamic__ --x", True)
    assert command_text("CMD + ' x'", {"CMD": "'spark-submit'"}) == ("spark-submit x", True)
    assert command_text("'a' 'b'", {}) == ("ab", False)
    constants = {"SUBMIT": "'/opt/spark/bin/spark-submit'", "N": "12"}
    assert command_text("f'{SUBMIT} --num-executors {N} {N!r}'", constants) == (
        "/opt/spark/bin/spark-submit --num-executors __moka_dynamic__ __moka_dynamic__",
        True,
    )


def test_rendering_values() -> None:
    assert render_string("it's") == '"it\'s"'
    assert render_string('say "hi"') == "'say \"hi\"'"
    assert render_value({"a": [1, "b"], "c": None}, "", 0) == '{"a": [1, "b"], "c": None}'
    long = {"key": "v" * 90}
    assert render_value(long, "    ", 10) == '{\n        "key": "' + "v" * 90 + '",\n    }'
    for value in ({"a": {"b": ["x" * 50, "y" * 50]}}, ["z" * 100], ("t",)):
        assert ast.literal_eval(render_value(value, "", 0)) == value


def test_plan_is_made_from_source_text_alone() -> None:
    plan = plan_call(CallSite(SPARK_SUBMIT, {"task_id": "'t'", "application": "'a.jar'", "queue": "Q"}))
    assert (plan.outcome, plan.removed, plan.arguments) == (
        "converted",
        ("application",),
        {"application": "a.jar"},
    )


# -- reports ---------------------------------------------------------------------------------------


def test_reports() -> None:
    source = BASH_IMPORT + dedent(
        """\
        import os
        os.environ["YARN_CONF_DIR"] = "/etc/y"
        a = BashOperator(task_id="a|b", bash_command="spark-submit --master yarn a.py")
        b = BashOperator(task_id="b", bash_command="kinit && spark-submit a.py")
        c = BashOperator(task_id="c", bash_command="echo c")
        """
    )
    result = _rewrite(source)
    markdown = render_report("dags/x.py", result)
    assert markdown.startswith("# moka migrate: dags/x.py\n\nStatus: changed\n")
    assert '| 4 | `"a\\|b"` | `BashOperator` | converted | 0 | 0 | 2 | 2 |' in markdown
    assert '| 6 | `"c"` | `BashOperator` | untouched (not Spark) | 0 | 0 | 0 | 0 |' in markdown
    assert '## line 5: "b" (needs-human)\n\n- why: 2 commands' in markdown
    assert "## File notes\n\n- line 3: sets YARN_CONF_DIR" in markdown
    data = json.loads(json.dumps(report_data("dags/x.py", result)))
    assert data["status"] == "changed"
    assert [task["outcome"] for task in data["tasks"]] == ["converted", "needs-human", "untouched"]
    summary = summary_table([("dags/x.py", result), ("bad.py", rewrite_source("("))])
    assert summary.splitlines()[1].split() == ["dags/x.py", "changed", "1", "0", "1", "0"]
    assert summary.splitlines()[2].split()[:4] == ["bad.py", "error:", "does", "not"]


# -- property: any literal call converts to exactly what translate() says ---------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=15)
_conf_keys = st.sampled_from(
    ["spark.yarn.queue", "spark.executor.memory", "spark.sql.shuffle.partitions", "spark.yarn.tags", "x.y"]
)
_operator_arguments = st.fixed_dictionaries(
    {"application": _text},
    optional={
        "conf": st.dictionaries(_conf_keys, st.one_of(_text, st.integers(0, 10**6), st.booleans())),
        "jars": st.lists(_text.filter(lambda text: "," not in text and text.strip()), max_size=3),
        "application_args": st.lists(_text, max_size=3),
        "num_executors": st.integers(1, 500),
        "executor_memory": _text,
        "name": _text,
        "yarn_queue": _text,
    },
)


@settings(max_examples=150, deadline=None)
@given(arguments=_operator_arguments, quote=st.sampled_from(["'", '"']))
def test_any_literal_call_converts_to_what_translate_gives(arguments: dict[str, Any], quote: str) -> None:
    call = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    source = SUBMIT_IMPORT.replace('"', quote) + f"t = SparkSubmitOperator(task_id={quote}t{quote}, {call})\n"
    result = _rewrite(source, path_map=LAKE)
    (moka,) = _calls(result.source, "MokaSparkOperator")
    written = {keyword.arg: ast.literal_eval(keyword.value) for keyword in moka.keywords}
    expected = translate(from_spark_submit_operator(**arguments)[0], path_map=LAKE).arguments
    assert written == {"task_id": "t", **expected}


# Without $ and `: the rewriter cannot tell a quoted one from a shell expansion and leaves both alone.
_word = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="$`"),
    min_size=1,
    max_size=10,
)
_options = st.lists(
    st.tuples(
        st.sampled_from(["--name", "--queue", "--executor-memory", "--num-executors", "--conf"]), _word
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(options=_options, application=_word, application_args=st.lists(_word, max_size=3))
def test_any_single_spark_submit_command_converts_to_what_translate_gives(
    options: list[tuple[str, str]], application: str, application_args: list[str]
) -> None:
    pairs = [(flag, f"spark.k={value}" if flag == "--conf" else value) for flag, value in options]
    words = ["spark-submit", "--master", "yarn", *(word for pair in pairs for word in pair)]
    command = shlex.join([*words, "app-" + application, *application_args])
    source = BASH_IMPORT + f"t = BashOperator(task_id='t', bash_command={command!r})\n"
    result = _rewrite(source)
    (moka,) = _calls(result.source, "MokaSparkOperator")
    written = {keyword.arg: ast.literal_eval(keyword.value) for keyword in moka.keywords}
    assert written == {"task_id": "t", **translate(parse_spark_submit_command(command)).arguments}
