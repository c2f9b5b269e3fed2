"""Every URL the provider shows for a job is built here: the extra-link buttons and the log archive.

The connection holds the templates (:meth:`MokaSettings.link` fills one); the job gives the values
(:func:`link_params`). :func:`job_urls` makes the buttons: the shared ``moka_ui`` and ``job_log``,
then the engine's own through :meth:`EngineAdapter.engine_links` (which only picks the template, e.g.
Spark's History Server once the job ended). :func:`log_archive_url` is where the task reads a log
whose pod is gone, and the source the task log names. Pure: the operators and the sensor store the
buttons with :func:`moka_provider.links.job_links.persist_urls`; :mod:`moka_provider.jobs.reporting`
puts them in the task's XCom value and :mod:`moka_provider.jobs.logs` reads the archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, Phase
from moka_provider.settings import MokaSettings

#: Buttons every engine has; adapters add their own (``EngineAdapter.link_buttons``).
SHARED_BUTTONS = ("moka_ui", "job_log")
#: Schemes a browser opens from a link button (the Airflow UI shows no other links).
BROWSER_SCHEMES = ("http://", "https://")


def link_params(adapter: EngineAdapter, job: Mapping[str, Any]) -> dict[str, str | None]:
    """Every placeholder value a link template may use, for ``job`` as it is now."""
    metadata = job["metadata"]
    return {
        "namespace": metadata.get("namespace"),
        "name": metadata["name"],
        "kind": adapter.resource.kind,
        "engine": adapter.engine,
        **adapter.link_params(job),
    }


def log_archive_url(settings: MokaSettings, params: Mapping[str, str | None]) -> str | None:
    """Where the connection archives the log of pod ``params["pod"]`` (``None`` without a template
    or a pod name)."""
    return settings.link("log_archive", **params)


def job_urls(
    settings: MokaSettings,
    adapter: EngineAdapter,
    job: Mapping[str, Any],
    phase: Phase,
    pod: str | None = None,
) -> dict[str, str | None]:
    """Button -> URL (``None`` where the connection has no template or the job lacks a value);
    ``pod`` is the log pod's name where the job's status does not say it (operators generate it)."""
    params = link_params(adapter, job)
    params["pod"] = params.get("pod") or pod
    urls = {button: settings.link(button, **params) for button in SHARED_BUTTONS}
    if urls["job_log"] is None:  # no page of its own: the archived log, if a browser can open it
        archive = log_archive_url(settings, params)
        urls["job_log"] = archive if archive and archive.startswith(BROWSER_SCHEMES) else None
    urls.update(adapter.engine_links(settings.link, phase, params))
    return urls
