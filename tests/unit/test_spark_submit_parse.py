"""spark-submit command lines and SparkSubmitOperator arguments read into SparkSubmit."""

from __future__ import annotations

import dataclasses
import re
import shlex
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moka_provider.migration.shell_words import shell_commands
from moka_provider.migration.spark_submit import (
    FLAG_OF,
    OPTIONS,
    SparkSubmit,
    from_spark_submit_operator,
    parse_spark_submit_command,
    split_list,
)


def test_a_typical_bash_task_with_continuations_and_jinja() -> None:
    submit = parse_spark_submit_command(
        """
        HADOOP_CONF_DIR=/etc/hadoop/conf spark-submit \\
          --master yarn --deploy-mode=cluster \\
          --conf "spark.driver.extraJavaOptions=-Dx=1 -Dy=2" \\
          -c spark.sql.shuffle.partitions=400 \\
          --name daily_{{ ds_nodash }} \\
          --num-executors {{ params.executors }} --executor-cores 4 \\
          --jars hdfs:///libs/a.jar,hdfs:///libs/{{ macros.ds_add(ds, -1) }}.jar \\
          hdfs:///apps/job.py --date {{ ds }} --conf not-an-option
        """
    )
    assert submit == SparkSubmit(
        application="hdfs:///apps/job.py",
        application_args=("--date", "{{ ds }}", "--conf", "not-an-option"),
        master="yarn",
        deploy_mode="cluster",
        name="daily_{{ ds_nodash }}",
        conf={"spark.driver.extraJavaOptions": "-Dx=1 -Dy=2", "spark.sql.shuffle.partitions": "400"},
        jars=("hdfs:///libs/a.jar", "hdfs:///libs/{{ macros.ds_add(ds, -1) }}.jar"),
        num_executors="{{ params.executors }}",
        executor_cores=4,
        env={"HADOOP_CONF_DIR": "/etc/hadoop/conf"},
        spark_binary="spark-submit",
    )


def test_conf_values_keep_every_equals_sign_after_the_first() -> None:
    submit = parse_spark_submit_command(
        ["spark-submit", "--conf", "spark.a=b=c", "--conf=spark.d==", "app.jar"]
    )
    assert submit.conf == {"spark.a": "b=c", "spark.d": "="}


def test_repeated_options_keep_the_last_value_and_are_recorded() -> None:
    submit = parse_spark_submit_command(
        "spark-submit --jars a.jar --jars b.jar --conf spark.x=1 --conf spark.x=2 --conf spark.y=3 "
        "--queue a --queue=b app.jar"
    )
    assert (submit.jars, submit.conf, submit.queue) == (("b.jar",), {"spark.x": "2", "spark.y": "3"}, "b")
    assert submit.repeated == ("--jars", "spark.x", "--queue")


def test_everything_after_the_application_is_an_application_argument() -> None:
    submit = parse_spark_submit_command("spark-submit app.py --master local -v --bogus")
    assert (submit.master, submit.verbose, submit.application_args) == (
        None,
        False,
        ("--master", "local", "-v", "--bogus"),
    )


@pytest.mark.parametrize(
    ("command", "binary"),
    [
        ("exec spark2-submit app.jar", "spark2-submit"),
        ("A=1 B='x y' exec /opt/spark/bin/spark3-submit app.jar", "/opt/spark/bin/spark3-submit"),
        (
            "{{ var.value.spark_home }}/bin/spark-submit app.jar",
            "{{ var.value.spark_home }}/bin/spark-submit",
        ),
    ],
)
def test_binaries_assignments_and_exec(command: str, binary: str) -> None:
    assert parse_spark_submit_command(command).spark_binary == binary


def test_quoting_follows_the_shell() -> None:
    submit = parse_spark_submit_command(
        """spark-submit --name 'it'"'"'s' --conf "spark.a=\\"q\\" \\$HOME" app.py 'a b' "" c\\ d $HOME"""
    )
    assert submit.name == "it's"
    assert submit.conf == {"spark.a": '"q" $HOME'}
    assert submit.application_args == ("a b", "", "c d", "$HOME")


def test_comments_and_trailing_newlines_are_ignored() -> None:
    assert parse_spark_submit_command("\n  spark-submit app.py x  # run it\n\n").application_args == ("x",)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("cd /tmp && spark-submit app.py", "exactly one spark-submit command, found 2"),
        ("kinit -kt k p; spark-submit app.py", "found 2"),
        ("spark-submit app.py > out.log", "redirection"),
        ("python app.py", "expected spark-submit"),
        ("", "found 0"),
        ("spark-submit --master yarn", "names no application"),
        ("spark-submit --bogus 1 --other app.py", "unknown spark-submit option(s): --bogus"),
        ("spark-submit --conf spark.a app.py", "expected key=value"),
        ("spark-submit --name", "needs a value"),
        ("spark-submit --kill app-1", "does not submit"),
        ("spark-submit 'app.py", "unclosed single quote"),
        ('spark-submit "app.py', "unclosed double quote"),
        ("spark-submit --name= app.py", "unknown spark-submit option(s): --name="),
    ],
)
def test_refused_commands_say_why(command: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_spark_submit_command(command)


def test_lists_split_on_commas_outside_jinja() -> None:
    assert split_list(" a.jar, ,{{ f(x, y) }}/b.jar,") == ("a.jar", "{{ f(x, y) }}/b.jar")


def test_jinja_is_one_piece_of_a_word_even_with_spaces_and_quotes() -> None:
    assert shell_commands("""echo x_{{ "a b" | d('c;d') }}_y "{{ 'q"' }}" """) == [
        ["echo", """x_{{ "a b" | d('c;d') }}_y""", "{{ 'q\"' }}"]
    ]


def test_operator_arguments() -> None:
    submit, unknown = from_spark_submit_operator(
        task_id="t",
        application="app.py",
        conf={"spark.executor.instances": 4},
        jars="a.jar,b.jar",
        py_files=["x.zip"],
        java_class=None,
        yarn_queue="etl",
        env_vars={"A": "1"},
        driver_classpath="/opt/lib/*",
        num_executors=0,
        use_krb5ccache=True,
        status_poll_interval=5,
        my_custom=1,
    )
    assert submit == SparkSubmit(
        application="app.py",
        conf={"spark.executor.instances": 4, "spark.kerberos.renewal.credentials": "ccache"},
        jars=("a.jar", "b.jar"),
        py_files=("x.zip",),
        queue="etl",
        env={"A": "1"},
        driver_class_path="/opt/lib/*",
        operator_only=("status_poll_interval",),
    )
    assert unknown == {"task_id": "t", "my_custom": 1}


# -- property-based -------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\0"), max_size=12)
_word = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Z", "Cc")), min_size=1, max_size=10)
_item = _word.filter(lambda w: "," not in w and w == w.strip() and "{" not in w)
_key = st.from_regex(r"spark\.[a-zA-Z][a-zA-Z0-9.\-]{0,12}", fullmatch=True)
_count = st.one_of(st.integers(min_value=1, max_value=999), st.just("{{ params.n }}"))
_application = _word.filter(lambda w: not w.startswith("-"))

_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {}
for _flag, (_name, _kind) in OPTIONS.items():
    _FIELD_VALUES[_name] = (
        st.lists(_item, min_size=1, max_size=3).map(tuple)
        if _kind == "list"
        else _count
        if _kind == "count"
        else _text.filter(lambda t: not t.isdigit())
    )


@st.composite
def submissions(draw: st.DrawFn) -> SparkSubmit:
    names = draw(st.lists(st.sampled_from(sorted(_FIELD_VALUES)), unique=True, max_size=8))
    fields = {name: draw(_FIELD_VALUES[name]) for name in names}
    return SparkSubmit(
        application=draw(_application),
        application_args=tuple(
            draw(st.lists(st.one_of(_text, st.sampled_from(["--conf", "-v", "--master=x"]))))
        ),
        conf=draw(st.dictionaries(_key, _text, max_size=4)),
        env=draw(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True), _text, max_size=2)),
        verbose=draw(st.booleans()),
        supervise=draw(st.booleans()),
        spark_binary=draw(st.sampled_from(["spark-submit", "spark3-submit", "/opt/spark/bin/spark-submit"])),
        **fields,
    )


def render(submit: SparkSubmit, equals: bool, continuations: bool) -> str:
    """``submit`` as a shell command (values quoted, as a DAG author would write them)."""
    options: list[list[str]] = []
    for name, flag in FLAG_OF.items():
        value = getattr(submit, name)
        if isinstance(value, bool):
            options += [[flag]] if value else []
        elif value not in (None, ()):
            text = ",".join(value) if isinstance(value, tuple) else str(value)
            options.append([f"{flag}={text}"] if equals and text else [flag, text])
    options += [["--conf", f"{key}={value}"] for key, value in submit.conf.items()]
    lines = [
        " ".join(
            [
                *(f"{k}={shlex.quote(str(v))}" for k, v in submit.env.items()),
                shlex.quote(submit.spark_binary or ""),
            ]
        ),
        *(shlex.join(option) for option in options),
        shlex.join([submit.application or "", *submit.application_args]),
    ]
    return (" \\\n    " if continuations else " ").join(lines)


@settings(max_examples=300, deadline=None)
@given(submissions(), st.booleans(), st.booleans())
def test_parse_reads_back_what_was_rendered(submit: SparkSubmit, equals: bool, continuations: bool) -> None:
    assert parse_spark_submit_command(render(submit, equals, continuations)) == submit


@settings(max_examples=100, deadline=None)
@given(submissions())
def test_an_argv_list_reads_the_same_as_its_command_line(submit: SparkSubmit) -> None:
    command = render(submit, equals=False, continuations=False)
    assert parse_spark_submit_command(shlex.split(command)) == parse_spark_submit_command(command)


# The order and form of the apache-spark provider's hook command: --master, the confs, then the
# options in its own order, the application and its arguments. env_vars are rendered as the hook
# does outside YARN/Kubernetes (the spark-submit process environment), which is what SparkSubmit.env is.
_HOOK_ORDER = [
    ("properties_file", "--properties-file"),
    ("files", "--files"),
    ("py_files", "--py-files"),
    ("archives", "--archives"),
    ("driver_class_path", "--driver-class-path"),
    ("jars", "--jars"),
    ("packages", "--packages"),
    ("exclude_packages", "--exclude-packages"),
    ("repositories", "--repositories"),
    ("num_executors", "--num-executors"),
    ("total_executor_cores", "--total-executor-cores"),
    ("executor_cores", "--executor-cores"),
    ("executor_memory", "--executor-memory"),
    ("driver_memory", "--driver-memory"),
    ("keytab", "--keytab"),
    ("principal", "--principal"),
    ("proxy_user", "--proxy-user"),
    ("name", "--name"),
    ("java_class", "--class"),
    ("verbose", "--verbose"),
    ("yarn_queue", "--queue"),
    ("deploy_mode", "--deploy-mode"),
]
_LIST_ARGUMENTS = {"files", "py_files", "archives", "jars", "packages", "exclude_packages", "repositories"}
_COUNT_ARGUMENTS = {"num_executors", "total_executor_cores", "executor_cores"}


@st.composite
def operator_arguments(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from([name for name, _ in _HOOK_ORDER]), unique=True))
    kwargs: dict[str, Any] = {"application": draw(_application)}
    for name in names:
        if name == "verbose":
            kwargs[name] = True
        elif name in _LIST_ARGUMENTS:
            kwargs[name] = ",".join(draw(st.lists(_item, min_size=1, max_size=3)))
        elif name in _COUNT_ARGUMENTS:
            kwargs[name] = draw(st.integers(min_value=1, max_value=64))
        else:
            kwargs[name] = draw(_text.filter(lambda t: t and not t.isdigit()))
    kwargs["conf"] = draw(st.dictionaries(_key, st.one_of(_text, st.integers(0, 9))))
    kwargs["application_args"] = draw(st.lists(st.one_of(_text, st.just("--conf"))))
    kwargs["env_vars"] = draw(
        st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,5}", fullmatch=True), _text, max_size=2)
    )
    kwargs["spark_binary"] = draw(st.sampled_from(["spark-submit", "spark2-submit", "spark3-submit"]))
    return kwargs


def hook_command(kwargs: dict[str, Any]) -> list[str]:
    env = [f"{key}={value}" for key, value in kwargs["env_vars"].items()]
    argv = [*env, kwargs["spark_binary"], "--master", "yarn"]
    argv += [part for key, value in kwargs["conf"].items() for part in ("--conf", f"{key}={value}")]
    for name, flag in _HOOK_ORDER:
        if kwargs.get(name):
            argv += [flag] if name == "verbose" else [flag, str(kwargs[name])]
    return [*argv, kwargs["application"], *kwargs["application_args"]]


@settings(max_examples=200, deadline=None)
@given(operator_arguments())
def test_operator_arguments_and_the_hook_command_agree(kwargs: dict[str, Any]) -> None:
    from_operator, unknown = from_spark_submit_operator(**kwargs)
    parsed = parse_spark_submit_command(shlex.join(hook_command(kwargs)))
    assert unknown == {}
    # The command shows what the connection supplies (the master) and spells every conf value as text.
    expected = dataclasses.replace(
        from_operator, master="yarn", conf={key: str(value) for key, value in from_operator.conf.items()}
    )
    assert parsed == expected


def test_only_the_operator_s_own_arguments_describe_the_job() -> None:
    """``queue=`` is the Airflow worker queue, and ``master`` / ``main_class`` / ``env`` are not
    SparkSubmitOperator arguments: they stay with the caller, never become spark-submit settings."""
    submit, unknown = from_spark_submit_operator(
        application="a.py", queue="spark-workers", master="local[*]", main_class="x.Y", env={"A": "1"}
    )
    assert (submit.queue, submit.master, submit.main_class, submit.env) == (None, None, None, {})
    assert unknown == {"queue": "spark-workers", "master": "local[*]", "main_class": "x.Y", "env": {"A": "1"}}
