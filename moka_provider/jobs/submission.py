"""Submitting a job exactly once per task instance: adopt what is running, else create.

A task's jobs are found by their ``moka.dev/job-key`` label (see :mod:`.identity`). If one is
still on its way (not terminal, not being deleted) it is adopted: a retry, or a task whose worker
died, continues to wait for it. Otherwise a new attempt is created, keeping earlier attempts for
their logs; a 409 on create means another process created the same attempt first, and that job is
adopted too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moka_provider.engines.base import EngineAdapter
from moka_provider.exceptions import MokaApiError
from moka_provider.jobs.identity import JOB_KEY_LABEL, JobIdentity, attempt_of
from moka_provider.resources import CustomResource


@dataclass(frozen=True)
class Submission:
    job: dict[str, Any]
    adopted: bool

    @property
    def name(self) -> str:
        return str(self.job["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.job["metadata"]["namespace"])


def submit_or_adopt(
    hook: Any,
    adapter: EngineAdapter,
    manifest: Mapping[str, Any],
    identity: JobIdentity,
    namespace: str,
    base_name: str | None,
    log: Callable[[str], None],
) -> Submission:
    """Adopt the task instance's running job, or create the next attempt of ``manifest``."""
    resource = adapter.resource
    try:
        listed = hook.list(resource, namespace, label_selector=identity.selector)
    except MokaApiError as error:
        _explain(error, resource, namespace)
        raise
    jobs = sorted(listed, key=attempt_of)
    for job in reversed(jobs):
        if _alive(job) and not adapter.status(job).phase.terminal:
            log(f"adopting {resource.describe(namespace, job['metadata']['name'])}, still running")
            return Submission(job, adopted=True)
    attempt = attempt_of(jobs[-1]) + 1 if jobs else 1
    body = with_identity(manifest, identity, adapter, base_name, attempt)
    name = body["metadata"]["name"]
    try:
        created = hook.create(resource, body, namespace)
    except MokaApiError as error:
        if not error.already_exists:
            _explain(error, resource, namespace)
            raise
        current = hook.get(resource, name, namespace)
        labels = current.get("metadata", {}).get("labels") or {}
        if labels.get(JOB_KEY_LABEL) != identity.key:
            raise MokaApiError(
                operation=f"create {resource.describe(namespace, name)}",
                status=409,
                reason="AlreadyExists",
                message="an object of that name exists and belongs to another task; pass another name=",
            ) from error
        log(f"{resource.describe(namespace, name)} was just created by another try: adopting it")
        return Submission(current, adopted=True)
    log(f"created {resource.describe(namespace, name)} (attempt {attempt})")
    return Submission(created, adopted=False)


def with_identity(
    manifest: Mapping[str, Any],
    identity: JobIdentity,
    adapter: EngineAdapter,
    base_name: str | None,
    attempt: int,
) -> dict[str, Any]:
    """``manifest`` with the task instance's name, labels and annotations added."""
    body = copy.deepcopy(dict(manifest))
    metadata = body.setdefault("metadata", {})
    metadata["name"] = identity.job_name(adapter.max_name_length, base_name, attempt)
    metadata.pop("namespace", None)
    metadata["labels"] = {**(metadata.get("labels") or {}), **identity.labels(attempt)}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **identity.annotations()}
    return body


def _alive(job: Mapping[str, Any]) -> bool:
    return not (job.get("metadata") or {}).get("deletionTimestamp")


def _explain(error: MokaApiError, resource: CustomResource, namespace: str) -> None:
    """Add to a 404 on listing or creating jobs what it means: no such namespace, or no such CRD
    on the cluster."""
    if not error.not_found or error.hint is not None:
        return
    if 'namespaces "' in error.message:
        error.hint = (
            f"namespace {namespace!r} does not exist on the cluster: create it, or set another in the "
            "moka connection or the operator's namespace="
        )
    else:
        error.hint = (
            f"the cluster does not serve {resource.kind} {resource.api_version}: its CRD "
            f"{resource.crd_name} is not installed ({resource.operator} installs it)"
        )
