"""The URLs of a job's extra-link buttons, from the connection's templates and the job's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moka_provider.engines.base import EngineAdapter, Phase
from moka_provider.hooks.connection_settings import MokaSettings

#: Buttons every engine has; adapters add their own (``EngineAdapter.link_buttons``).
SHARED_BUTTONS = ("moka_ui", "log_archive")


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


def job_urls(
    settings: MokaSettings, adapter: EngineAdapter, job: Mapping[str, Any], phase: Phase
) -> dict[str, str | None]:
    """Button -> URL (``None`` where the connection has no template or the job lacks a value)."""
    params = link_params(adapter, job)
    urls = {button: settings.link(button, **params) for button in SHARED_BUTTONS}
    urls.update(adapter.engine_links(settings.link, phase, params))
    return urls
