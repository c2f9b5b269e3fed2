"""Extra links: registration, the URLs behind each button, and storing them for the UI."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.module_loading import import_string

from moka_provider.engines.base import Phase
from moka_provider.engines.links import SHARED_BUTTONS, job_urls, link_params
from moka_provider.engines.spark import SparkAdapter
from moka_provider.get_provider_info import get_provider_info
from moka_provider.links.job_links import ALL_LINKS, MokaJobLink, MokaUILink, SparkUILink, persist_urls
from moka_provider.operators.spark import MokaSparkOperator
from moka_provider.settings import MokaSettings

SETTINGS = MokaSettings.from_extras(
    {
        "moka_ui_url": "https://moka.test/jobs/{namespace}/{name}",
        "spark_ui_url": "https://spark.test/{namespace}/{name}/",
        "spark_history_url": "https://history.test/history/{spark_app_id}/",
        "log_archive_url": "s3://logs/{namespace}/{name}/{pod}.log",
        "job_log_url": "https://logs.test/{namespace}/{pod}",
    }
)
JOB: dict[str, Any] = {
    "metadata": {"name": "pi-1a2b3c4d", "namespace": "moka", "uid": "u"},
    "status": {
        "applicationState": {"state": "RUNNING"},
        "sparkApplicationId": "spark-42",
        "driverInfo": {"podName": "pi-1a2b3c4d-driver"},
    },
}


class RecordingTI:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed.append((key, value))


def operator() -> MokaSparkOperator:
    return MokaSparkOperator(task_id="pi", application="local:///pi.py")


# --- registration -----------------------------------------------------------------------------------


def test_every_link_class_is_registered_and_every_registered_link_exists():
    registered = get_provider_info()["extra-links"]

    assert sorted(registered) == sorted(f"{link.__module__}.{link.__qualname__}" for link in ALL_LINKS)
    for path in registered:
        assert import_string(path) in ALL_LINKS


def test_links_have_distinct_names_buttons_and_xcom_keys():
    links = [link() for link in ALL_LINKS]

    assert len({link.name for link in links}) == len(links)
    assert len({link.button for link in links}) == len(links)
    assert len({link.xcom_key for link in links}) == len(links)


def test_spark_operator_links_are_all_registered():
    for link in MokaSparkOperator.operator_extra_links:
        assert type(link) in ALL_LINKS


@pytest.mark.parametrize("phase", list(Phase))
def test_each_spark_operator_button_is_a_url_job_urls_makes(phase: Phase):
    urls = job_urls(SETTINGS, SparkAdapter(), JOB, phase)

    for link in MokaSparkOperator.operator_extra_links:
        assert isinstance(link, MokaJobLink)
        assert link.button in urls
        assert urls[link.button], link.button  # every template set: every link complete


def test_job_urls_for_a_running_and_an_ended_spark_job():
    adapter = SparkAdapter()

    running = job_urls(SETTINGS, adapter, JOB, Phase.RUNNING)
    ended = job_urls(SETTINGS, adapter, JOB, Phase.SUCCEEDED)

    assert set(running) == {*SHARED_BUTTONS, *adapter.link_buttons}
    assert running == {
        "moka_ui": "https://moka.test/jobs/moka/pi-1a2b3c4d",
        "job_log": "https://logs.test/moka/pi-1a2b3c4d-driver",
        "spark_ui": "https://spark.test/moka/pi-1a2b3c4d/",
    }
    assert ended["spark_ui"] == "https://history.test/history/spark-42/"


def test_job_urls_without_templates_are_none():
    assert job_urls(MokaSettings(), SparkAdapter(), JOB, Phase.RUNNING) == {
        "moka_ui": None,
        "job_log": None,
        "spark_ui": None,
    }


@pytest.mark.parametrize(
    ("archive", "button"),
    [
        ("https://archive.test/{namespace}/{pod}.log", "https://archive.test/moka/pi-1a2b3c4d-driver.log"),
        ("s3://logs/{namespace}/{pod}.log", None),  # read by the provider; no browser opens it
        ("file:///var/moka/{namespace}/{pod}.log", None),
    ],
)
def test_without_a_job_log_page_the_button_opens_the_archive_if_a_browser_can(
    archive: str, button: str | None
) -> None:
    settings = MokaSettings.from_extras({"log_archive_url": archive})
    assert job_urls(settings, SparkAdapter(), JOB, Phase.RUNNING)["job_log"] == button


def test_link_params_cover_the_shared_placeholders():
    params = link_params(SparkAdapter(), JOB)

    assert params["namespace"] == "moka"
    assert params["name"] == "pi-1a2b3c4d"
    assert params["kind"] == "SparkApplication"
    assert params["engine"] == "spark"
    assert params["spark_app_id"] == "spark-42"


# --- persist_urls and get_link ----------------------------------------------------------------------


def test_persist_urls_pushes_each_links_xcom_key():
    task = operator()
    ti = RecordingTI()
    urls = {"moka_ui": "https://moka.test/x", "spark_ui": None, "job_log": "https://l/x.log"}

    persist_urls(ti, task, urls)

    assert sorted(ti.pushed) == sorted(
        [
            ("_link_MokaUILink", "https://moka.test/x"),
            ("_link_SparkUILink", ""),  # no URL yet: an empty link, not "None"
            ("_link_JobLogLink", "https://l/x.log"),
        ]
    )
    assert {key for key, _ in ti.pushed} == {link.xcom_key for link in task.operator_extra_links}
    assert task.moka_urls == urls


def test_persist_urls_skips_unchanged_urls_and_pushes_changed_ones():
    task = operator()
    ti = RecordingTI()
    urls: dict[str, str | None] = {"moka_ui": "https://m/x", "spark_ui": None, "job_log": None}
    persist_urls(ti, task, urls)
    ti.pushed.clear()

    persist_urls(ti, task, dict(urls))
    assert ti.pushed == []

    persist_urls(ti, task, {**urls, "spark_ui": "https://spark/x"})
    assert ("_link_SparkUILink", "https://spark/x") in ti.pushed


def test_persist_urls_pushes_only_buttons_it_has():
    task = operator()
    ti = RecordingTI()

    persist_urls(ti, task, {"moka_ui": "https://m/x"})

    assert ti.pushed == [("_link_MokaUILink", "https://m/x")]


def test_get_link_is_empty_without_urls():
    task = operator()

    assert task.moka_urls is None
    for link in task.operator_extra_links:
        assert link.get_link(task, ti_key=None) == ""  # type: ignore[arg-type]


def test_get_link_gives_the_operators_latest_url():
    task = operator()
    task.moka_urls = {"moka_ui": "https://m/x", "spark_ui": None}

    assert MokaUILink().get_link(task, ti_key=None) == "https://m/x"  # type: ignore[arg-type]
    assert SparkUILink().get_link(task, ti_key=None) == ""  # type: ignore[arg-type]


def test_the_log_pod_seen_fills_pod_where_the_status_names_none():
    from moka_provider.engines.flink import FlinkAdapter

    settings = MokaSettings.from_extras({"log_archive_url": "https://logs.test/{namespace}/{pod}.log"})
    job = {"metadata": {"name": "wc", "namespace": "moka"}, "status": {}}

    assert job_urls(settings, FlinkAdapter(), job, Phase.SUCCEEDED)["job_log"] is None
    found = job_urls(settings, FlinkAdapter(), job, Phase.SUCCEEDED, pod="wc-7c9f8d6b5d-x2k4p")
    assert found["job_log"] == "https://logs.test/moka/wc-7c9f8d6b5d-x2k4p.log"


def test_reporter_urls_follow_the_jobs_own_phase_and_the_log_pod_it_found():
    from types import SimpleNamespace

    from moka_provider.engines.flink import FlinkAdapter
    from moka_provider.jobs.reporting import JobReporter

    hook = SimpleNamespace(settings=SETTINGS)
    ended = {**JOB, "status": {**JOB["status"], "applicationState": {"state": "COMPLETED"}}}
    spark = JobReporter(hook, SparkAdapter(), log=None)
    assert spark.urls(JOB)["spark_ui"] == "https://spark.test/moka/pi-1a2b3c4d/"
    assert spark.urls(ended)["spark_ui"] == "https://history.test/history/spark-42/"

    flink = JobReporter(hook, FlinkAdapter(), log=None)
    job = {"metadata": {"name": "wc", "namespace": "moka"}, "status": {}}
    assert flink.urls(job)["job_log"] is None
    flink.pod = "wc-7c9f8d6b5d-x2k4p"
    assert flink.urls(job)["job_log"] == "https://logs.test/moka/wc-7c9f8d6b5d-x2k4p"
    assert flink.urls(job, "wc-other")["job_log"] == "https://logs.test/moka/wc-other"
