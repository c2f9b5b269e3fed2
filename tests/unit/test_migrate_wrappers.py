"""``moka migrate`` on in-house wrappers and the other forms of issue 17: ``@task.bash``,
``.partial().expand(bash_command=...)``, ``functools.partial`` aliases; ``--wrapper`` and
``[tool.moka.migrate]``."""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath
from textwrap import dedent
from typing import Any

import pytest

from moka_provider.cli import main
from moka_provider.migration.rewrite import FileRewrite, rewrite_source
from moka_provider.migration.rewrite_config import configured_wrappers, known_wrappers
from moka_provider.migration.rewrite_wrappers import (
    Wrapper,
    find_wrappers,
    module_names,
    parse_wrapper_option,
)

SUBMIT = "airflow.providers.apache.spark.operators.spark_submit.SparkSubmitOperator"
WRAPPER_SOURCE = '''\
"""The team's operator."""
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator as Base


class TeamSparkSubmitOperator(Base):
    """Defaults of the team."""

    ui_color = "#fff"

    def __init__(self, *, team_queue="etl", owner=None, cost_center="none", **kwargs):
        super().__init__(conn_id="yarn_team", yarn_queue=team_queue, **kwargs)
        self.cost_center = cost_center
'''
OPAQUE_SOURCE = """\
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator


class TaggedSparkSubmitOperator(SparkSubmitOperator):
    template_fields = ("application",)

    def __init__(self, *, tag="x", **kwargs):
        kwargs["name"] = tag.upper()
        super().__init__(verbose=tag == "debug", **kwargs)

    def execute(self, context):
        return super().execute(context)
"""
TEAM = "team_airflow.operators.TeamSparkSubmitOperator"


def _wrappers() -> dict[str, Wrapper]:
    return known_wrappers(
        {},
        [
            (PurePosixPath("plugins/team_airflow/operators.py"), WRAPPER_SOURCE),
            (PurePosixPath("tagged.py"), OPAQUE_SOURCE),
        ],
    )


def _rewrite(source: str, **options: Any) -> FileRewrite:
    """Rewrite ``source``; valid Python, and a second run changes nothing."""
    result = rewrite_source(dedent(source), **options)
    assert result.error is None
    ast.parse(result.source)
    again = rewrite_source(result.source, **options)
    assert again.source == result.source and not again.changed
    return result


# -- reading wrappers ------------------------------------------------------------------------------


def test_module_names_are_every_folder_on_the_path() -> None:
    assert module_names(PurePosixPath("plugins/team/ops.py")) == ["plugins.team.ops", "team.ops", "ops"]
    assert module_names(PurePosixPath("team/__init__.py")) == ["team"]


def test_a_wrapper_that_only_passes_values_is_read_from_its_init() -> None:
    wrapper = _wrappers()[TEAM]
    assert wrapper.kind == "spark-submit" and wrapper.origin == "plugins/team_airflow/operators.py:5"
    assert wrapper.parameters == {"team_queue": '"etl"', "owner": "None", "cost_center": '"none"'}
    assert wrapper.passed == {"conn_id": '"yarn_team"', "yarn_queue": "team_queue"}
    assert wrapper.opaque == ()
    assert "plugins.team_airflow.operators.TeamSparkSubmitOperator" in _wrappers()


def test_what_else_a_wrapper_does_is_listed() -> None:
    wrapper = _wrappers()["tagged.TaggedSparkSubmitOperator"]
    assert wrapper.opaque == (
        'its class body sets template_fields = ("application",)',
        "it overrides execute()",
        '__init__ runs kwargs["name"] = tag.upper()',
        '__init__ computes verbose=tag == "debug"',
    )


def test_a_file_that_does_not_parse_holds_no_wrapper() -> None:
    assert find_wrappers([(PurePosixPath("x.py"), "class XSparkSubmitOperator(:\n")], {}) == {}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("a.B=spark", "'a.B=spark': expected MODULE.CLASS=spark-submit|spark-sql"),
        ("Operator=spark-submit", "'Operator' is not a MODULE.CLASS name"),
        ("a.b-c.D=spark-sql", "'a.b-c.D' is not a MODULE.CLASS name"),
    ],
)
def test_a_malformed_wrapper_option_is_refused(option: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_wrapper_option(option)
    assert message in str(raised.value)


def test_wrapper_options_win_over_the_nearest_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.moka.migrate]\nwrappers = {"a.One" = "spark-submit", "a.Two" = "spark-submit"}\n'
    )
    (tmp_path / "dags" / "team").mkdir(parents=True)
    found = configured_wrappers(["a.Two=spark-sql"], [tmp_path / "dags" / "team"])
    assert found == {"a.One": "spark-submit", "a.Two": "spark-sql"}


def test_a_bad_pyproject_table_names_the_file_and_the_field(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.moka.migrate]\nwrappers = {"a.One" = "pyspark"}\n')
    with pytest.raises(ValueError, match=r"pyproject.toml \[tool.moka.migrate\] wrappers: 'a.One=pyspark'"):
        configured_wrappers([], [tmp_path])


# -- rewriting calls of wrappers -------------------------------------------------------------------


def test_a_transparent_wrapper_call_is_converted_with_its_values_applied() -> None:
    result = _rewrite(
        """\
        from team_airflow.operators import TeamSparkSubmitOperator

        t = TeamSparkSubmitOperator(task_id="t", application="local:///a.py", team_queue="q", cost_center="c1")
        """,
        wrappers=_wrappers(),
    )
    assert (
        't = MokaSparkOperator(task_id="t", application="local:///a.py", yunikorn_queue="q")' in result.source
    )
    assert "team_airflow" not in result.source
    [task] = result.tasks
    assert task.outcome == "converted"
    assert "cost_center= is team_airflow.operators.TeamSparkSubmitOperator's own" in task.reasons[1]


def test_a_transparent_wrapper_call_with_computed_values_moves_onto_the_drop_in() -> None:
    result = _rewrite(
        """\
        from team_airflow.operators import TeamSparkSubmitOperator

        t = TeamSparkSubmitOperator(task_id="t", application=APP, cost_center="c1")
        m = TeamSparkSubmitOperator.partial(task_id="m", application="a.py").expand(application_args=[["1"]])
        """,
        wrappers=_wrappers(),
    )
    assert result.source.endswith(
        dedent(
            """\
            t = MonarchSparkSubmitOperator(
                task_id="t",
                application=APP,
                conn_id="yarn_team",
                yarn_queue="etl",
            )
            m = MonarchSparkSubmitOperator.partial(
                task_id="m",
                application="a.py",
                conn_id="yarn_team",
                yarn_queue="etl",
            ).expand(application_args=[["1"]])
            """
        )
    )
    assert [task.outcome for task in result.tasks] == ["drop-in", "drop-in"]


def test_a_wrapper_that_does_more_needs_a_person_and_is_left_as_it_is() -> None:
    source = "from tagged import TaggedSparkSubmitOperator\n\nt = TaggedSparkSubmitOperator(task_id='t', application='a.py')\n"
    result = _rewrite(source, wrappers=_wrappers())
    assert result.source == source
    [task] = result.tasks
    assert task.outcome == "needs-human"
    assert task.reasons[0].startswith("TaggedSparkSubmitOperator (tagged.py:4) does more than pass values")


def test_kwargs_that_may_hold_a_wrappers_own_arguments_need_a_person() -> None:
    source = "from team_airflow.operators import TeamSparkSubmitOperator\n\nt = TeamSparkSubmitOperator(task_id='t', **CONFIG)\n"
    [task] = _rewrite(source, wrappers=_wrappers()).tasks
    assert task.outcome == "needs-human"
    assert task.reasons == [
        "**CONFIG may hold arguments of TeamSparkSubmitOperator itself (cost_center, owner)"
    ]


def test_a_configured_wrapper_of_any_name_is_recognised() -> None:
    source = "from custom_operators import TwoRP\n\nt = TwoRP(task_id='t', application='a.py', rp=2)\n"
    plain = _rewrite(source)
    assert plain.tasks == []
    [task] = _rewrite(
        source, wrappers={"custom_operators.TwoRP": Wrapper("custom_operators.TwoRP", "spark-sql")}
    ).tasks
    assert (
        task.outcome == "needs-human"
        and "takes application, rp, which SparkSqlOperator does not" in task.reasons[0]
    )


# -- the other forms -------------------------------------------------------------------------------


def test_task_bash_used_other_than_called_once_needs_a_person() -> None:
    source = """\
        from airflow.sdk import task

        @task.bash
        def job():
            return "spark-submit --master yarn a.py"

        job()
        job()
        """
    result = _rewrite(source)
    assert result.source == dedent(source)
    [task] = result.tasks
    assert task.outcome == "needs-human" and task.task_id == '"job"'
    assert "it is used other than called once without arguments" in task.reasons[0]


def test_task_bash_returning_one_spark_submit_returns_the_operator() -> None:
    result = _rewrite(
        """\
        from airflow.decorators import task

        @task.bash(task_id="nightly")
        def job():
            return "spark-submit --master yarn --num-executors 2 local:///a.jar"

        job()
        """
    )
    assert "@task.bash" not in result.source
    assert result.source.endswith(
        dedent(
            """\
            def job():
                return MokaSparkOperator(
                    task_id="nightly",
                    application="local:///a.jar",
                    executors={"instances": 2},
                )

            job()
            """
        )
    )
    assert [task.outcome for task in result.tasks] == ["converted"]


def test_bash_mapped_over_computed_commands_is_reported_when_they_may_run_spark() -> None:
    result = _rewrite(
        """\
        from airflow.providers.standard.operators.bash import BashOperator

        COMMANDS = ["spark-submit --master yarn a.py", "spark-submit --master yarn b.py"]
        a = BashOperator.partial(task_id="a").expand(bash_command=COMMANDS)
        b = BashOperator.partial(task_id="b").expand(bash_command=spark_commands())
        c = BashOperator.partial(task_id="c").expand(bash_command=list_files())
        """
    )
    assert "a = MonarchSparkSubmitBashOperator.partial(" in result.source
    assert [(task.outcome, task.spark) for task in result.tasks] == [
        ("drop-in", True),
        ("needs-human", True),
        ("untouched", False),
    ]


def test_an_alias_used_only_for_spark_names_the_drop_in() -> None:
    result = _rewrite(
        f"""\
        from functools import partial
        from {SUBMIT.rsplit(".", 1)[0]} import SparkSubmitOperator

        Job = partial(SparkSubmitOperator, conn_id="yarn")
        a = Job(task_id="a", application="a.py")
        b = Job(task_id="b", application="b.py", conf=CONF)
        """
    )
    assert 'Job = partial(MonarchSparkSubmitOperator, conn_id="yarn")' in result.source
    assert "SparkSubmitOperator\n" not in result.source.split("Job =")[0].replace(
        "MonarchSparkSubmitOperator", ""
    )
    assert [task.outcome for task in result.tasks] == ["drop-in", "drop-in"]
    assert result.notes == []


# -- the command line ------------------------------------------------------------------------------


def test_cli_reads_wrappers_from_the_scanned_plugins_and_refuses_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins, dags = tmp_path / "plugins" / "team_airflow", tmp_path / "dags"
    plugins.mkdir(parents=True)
    dags.mkdir()
    (plugins / "operators.py").write_text(WRAPPER_SOURCE)
    dag = "from team_airflow.operators import TeamSparkSubmitOperator\n\nt = TeamSparkSubmitOperator(task_id='t', application=APP)\n"
    (dags / "etl.py").write_text(dag)
    assert main(["migrate", str(dags), str(tmp_path / "plugins"), "--no-airflow3"]) == 0
    assert (dags / "etl.py").read_text().endswith('    conn_id="yarn_team",\n    yarn_queue="etl",\n)\n')
    capsys.readouterr()
    assert main(["migrate", str(dags), "--wrapper", "team.Op=pyspark"]) == 2
    assert (
        "--wrapper 'team.Op=pyspark': expected MODULE.CLASS=spark-submit|spark-sql" in capsys.readouterr().err
    )
