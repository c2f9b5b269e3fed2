"""Debian's headless Chromium driven by Playwright, logged in to the deployment's Airflow UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium's own connections are refused on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright ``Browser`` on Debian's chromium (never ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, url: str, username: str, password: str) -> None:
    """Sign in on the simple auth manager's login form, as a user does."""
    page.goto(f"{url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda address: "/auth/login" not in address, timeout=60_000)


def open_task_details(page: Any, url: str, dag_id: str, run_id: str, task_id: str) -> None:
    """The task instance's Details tab, where the UI shows its extra-link buttons."""
    page.goto(f"{url}/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/details")
    page.get_by_text("Extra Links").wait_for(timeout=60_000)


def link_buttons(page: Any) -> dict[str, str]:
    """Button text -> href of the links in the task's "Extra Links" section."""
    section = page.get_by_text("Extra Links").locator("xpath=..")
    return {
        anchor.inner_text().strip(): anchor.get_attribute("href") or ""
        for anchor in section.locator("a").all()
    }
