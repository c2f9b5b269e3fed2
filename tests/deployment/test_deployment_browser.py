"""The Moka links where users look for them: the task in the Airflow UI, in a real browser.

Headless Chromium (Debian's, driven by Playwright) logs in to the deployment of
``tests/deployment``, marks a running deferred Moka task failed (its job is deleted), and opens the
Details tab of a running, then finished, Moka task for its link buttons and its Logs tab for the
driver's output. Screenshots are kept in ``$MOKA_TEST_ARTIFACTS`` (default ``.artifacts/``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deployment import stack
from tests.deployment.browser import chromium, link_buttons, log_in, open_task_details
from tests.deployment.conftest import artifacts_dir, jobs_of_run, phase_of, record
from tests.deployment.rest import AirflowRest

pytestmark = pytest.mark.integration

SLOW = ("moka_deploy_spark_slow", "spark_slow")
RAY = ("moka_deploy_ray_job_deferred", "sum_squares")
MOKA_UI, SPARK_UI, HISTORY = (
    stack.LINK_TEMPLATES[key] for key in ("moka_ui_url", "spark_ui_url", "spark_history_url")
)


@pytest.fixture(scope="module")
def runs(rest: AirflowRest) -> dict[str, str]:
    """A Spark job that runs over a minute (for the links while it runs), a Ray job, and a Spark
    job that runs until it is marked failed, all triggered now. The tests that use them run in this
    file's order, the shortest-lived job's first: the links test must see its job still running."""
    return {
        SLOW[0]: rest.trigger(SLOW[0], {"seconds": 75, "seconds_later": 1}, prefix="browser"),
        RAY[0]: rest.trigger(RAY[0], prefix="browser"),
        "mark_failed": rest.trigger(SLOW[0], {"seconds": 600, "seconds_later": 1}, prefix="browser"),
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, deployment: stack.Deployment) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        log_in(page, deployment.url, stack.USERNAME, stack.PASSWORD)
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> str:
    path = artifacts_dir() / name
    page.screenshot(path=str(path), full_page=True)
    return path.name


def spark_job(run_id: str, phase: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        jobs = jobs_of_run("spark", *SLOW, run_id)
        return next((job for job in jobs if phase_of("spark", job) == phase), None)

    return dict(AirflowRest.wait(f"the {phase} Spark job", find, timeout=400))


def test_links_of_a_running_then_finished_spark_task_in_the_ui(
    page: Any, deployment: stack.Deployment, rest: AirflowRest, runs: dict[str, str], moka_local: Any
) -> None:
    began = time.monotonic()
    dag_id, task_id = SLOW
    run_id = runs[dag_id]
    rest.wait_for_state(dag_id, run_id, task_id, {"deferred"}, timeout=400)
    job = spark_job(run_id, "RUNNING")
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    pod = f"{name}-driver"
    moka_ui = MOKA_UI.format(namespace=namespace, kind="SparkApplication", name=name)
    live_ui = SPARK_UI.format(namespace=namespace, pod=pod)

    open_task_details(page, deployment.url, dag_id, run_id, task_id)
    page.get_by_role("link", name="Spark UI").wait_for(timeout=60_000)
    buttons = link_buttons(page)
    shot = screenshot(page, "deployment-links-running.png")
    # Still running after the screenshot, so the page showed a running task's links.
    assert phase_of("spark", spark_job(run_id, "RUNNING")) == "RUNNING"
    assert rest.task_instance(dag_id, run_id, task_id)["state"] == "deferred"
    job_log = f"http://127.0.0.1:{moka_local[1].log_server_port}/{namespace}/{pod}.log"
    assert buttons["Moka UI"] == moka_ui
    assert buttons["Spark UI"] == live_ui
    assert buttons["Job log"] == job_log

    rest.wait_for_success(dag_id, run_id, timeout=600)
    finished = spark_job(run_id, "SUCCEEDED")
    app_id = finished["status"]["sparkApplicationId"]
    open_task_details(page, deployment.url, dag_id, run_id, task_id)
    history = HISTORY.format(spark_app_id=app_id)
    page.locator(f'a[href="{history}"]').wait_for(timeout=60_000)
    buttons = link_buttons(page)
    shot_finished = screenshot(page, "deployment-links-finished.png")
    assert buttons["Moka UI"] == moka_ui
    assert buttons["Spark UI"] == history
    assert buttons["Job log"] == job_log
    page.goto(job_log)  # what the button opens: the archived driver log, served by moka local
    assert "Pi is roughly" in page.content()
    assert rest.links(dag_id, run_id, task_id)["extra_links"] == {
        "Moka UI": moka_ui,
        "Spark UI": history,
        "Job log": job_log,
    }

    # The task log as the UI shows it (the Logs tab) has the driver's output.
    page.goto(f"{deployment.url}/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
    page.get_by_text("Pi is roughly").first.wait_for(timeout=60_000)
    shot_log = screenshot(page, "deployment-task-log.png")
    assert f"[{pod}]" in page.get_by_text("Pi is roughly").first.inner_text()
    record("screenshots.spark", [shot, shot_finished, shot_log])
    record("browser_spark_test_seconds", round(time.monotonic() - began, 1))


def test_marking_a_running_deferred_task_failed_in_the_ui_deletes_its_job(
    page: Any, deployment: stack.Deployment, rest: AirflowRest, runs: dict[str, str]
) -> None:
    dag_id, task_id = SLOW
    run_id = runs["mark_failed"]
    rest.wait_for_state(dag_id, run_id, task_id, {"deferred"}, timeout=400)
    spark_job(run_id, "RUNNING")

    open_task_details(page, deployment.url, dag_id, run_id, task_id)
    page.get_by_role("button", name="Mark Task Instance as...").click()
    page.get_by_role("menuitem", name="Failed").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()

    rest.wait_for_state(dag_id, run_id, task_id, {"failed"}, timeout=120)
    rest.wait(
        "the job of the task marked failed to be deleted",
        lambda: not jobs_of_run("spark", dag_id, task_id, run_id),
        timeout=180,
    )
    open_task_details(page, deployment.url, dag_id, run_id, task_id)
    record("screenshots.marked_failed", [screenshot(page, "deployment-marked-failed.png")])


def test_a_link_without_template_is_not_a_button(
    page: Any, deployment: stack.Deployment, rest: AirflowRest, runs: dict[str, str]
) -> None:
    """The deployment's connection has no ``ray_dashboard_url``: no "Ray dashboard" button at all."""
    dag_id, task_id = RAY
    run_id = runs[dag_id]
    rest.wait_for_success(dag_id, run_id, timeout=600)
    links = rest.links(dag_id, run_id, task_id)["extra_links"]
    assert not links["Ray dashboard"]

    open_task_details(page, deployment.url, dag_id, run_id, task_id)
    page.get_by_role("link", name="Moka UI").wait_for(timeout=60_000)
    buttons = link_buttons(page)
    record("screenshots.unconfigured", [screenshot(page, "deployment-links-unconfigured.png")])
    assert "Ray dashboard" not in buttons
    assert page.get_by_text("Ray dashboard").count() == 0
    assert buttons["Moka UI"].startswith("https://moka.example.test/jobs/")
    assert all(href.startswith(("http://", "https://")) for href in buttons.values()), buttons
