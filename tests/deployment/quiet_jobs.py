"""Writes what spark-operator writes for a job whose driver runs quietly for a long time.

The quiet-wait test's SparkApplications carry the label that keeps `moka local`'s controllers off
them (``LEFT_ALONE_LABEL``). For each one this thread writes, through the status subresource as the
operator does: SUBMITTED (driver pod name, application id), RUNNING, then nothing at all for
``seconds``, then COMPLETED with its ``terminationTime`` (a subclass may end them otherwise:
:meth:`QuietSparkJobs.final_state`). No pod runs, so the jobs take none of the machine's cores from
the other tests' jobs meanwhile. A look or a write that fails because the API server is away is
tried again a second later, as an operator would; only other failures are reported.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from moka_provider.jobs.identity import LABEL_PREFIX, label_value
from moka_provider.resources import SPARK_APPLICATION

#: The annotation naming a job's task (``JobIdentity.annotations``).
TASK_ID_ANNOTATION = LABEL_PREFIX + "task-id"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class QuietSparkJobs(threading.Thread):
    """Holds the ``expected`` jobs of ``dag_id`` RUNNING for ``seconds`` each, then completes them."""

    def __init__(self, admin_kubeconfig: Path, namespace: str, dag_id: str, expected: int, seconds: float):
        super().__init__(name=f"quiet-jobs-{dag_id}", daemon=True)
        self.admin_kubeconfig = admin_kubeconfig
        self.namespace = namespace
        self.selector = f"moka.dev/dag-id={label_value(dag_id)}"
        self.expected = expected
        self.seconds = seconds
        self.errors: list[str] = []
        self.outages = 0  # looks and writes that found the API server away (tried again)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def final_state(self, job: dict[str, Any], running_for: float) -> dict[str, str] | None:
        """The ``applicationState`` to end ``job`` with now, RUNNING for ``running_for`` seconds;
        ``None``: not yet."""
        return {"state": "COMPLETED"} if running_for >= self.seconds else None

    def run(self) -> None:
        from kubernetes import client, config

        api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(self.admin_kubeconfig)))
        submitted: set[str] = set()
        running_since: dict[str, float] = {}
        ended: set[str] = set()
        deadline = time.monotonic() + self.seconds + 900
        while len(ended) < self.expected and not self._stop.wait(1) and time.monotonic() < deadline:
            try:
                listing = api.list_namespaced_custom_object(
                    SPARK_APPLICATION.group,
                    SPARK_APPLICATION.version,
                    self.namespace,
                    SPARK_APPLICATION.plural,
                    label_selector=self.selector,
                )
                for job in listing["items"]:
                    name = job["metadata"]["name"]
                    if name not in submitted:
                        self._write(api, name, self._submitted(name))
                        submitted.add(name)
                    if name not in running_since:
                        self._write(
                            api, name, {"applicationState": {"state": "RUNNING"}, "executionAttempts": 1}
                        )
                        running_since[name] = time.monotonic()
                    elif name not in ended:
                        state = self.final_state(job, time.monotonic() - running_since[name])
                        if state is not None:
                            self._write(api, name, {"applicationState": state, "terminationTime": _now()})
                            ended.add(name)
            except Exception as error:  # reported by the test that waits for these jobs
                if _api_away(error):
                    self.outages += 1
                else:
                    self.errors.append(repr(error))

    @staticmethod
    def _submitted(name: str) -> dict[str, Any]:
        return {
            "applicationState": {"state": "SUBMITTED"},
            "sparkApplicationId": f"spark-{uuid.uuid4().hex}",
            "submissionAttempts": 1,
            "lastSubmissionAttemptTime": _now(),
            "driverInfo": {"podName": f"{name}-driver"},
        }

    def _write(self, api: Any, name: str, status: dict[str, Any]) -> None:
        api.patch_namespaced_custom_object_status(
            SPARK_APPLICATION.group,
            SPARK_APPLICATION.version,
            self.namespace,
            SPARK_APPLICATION.plural,
            name,
            {"status": status},
            _content_type="application/merge-patch+json",
        )


def _api_away(error: Exception) -> bool:
    """The API server did not answer, or answered that it cannot serve now (retried)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    if isinstance(error, ApiException):
        return error.status in (0, 429, 500, 502, 503, 504)
    return isinstance(error, HTTPError | OSError)


class HeldSparkJobs(QuietSparkJobs):
    """Holds the ``expected`` jobs of ``dag_id`` RUNNING until their task is released, then ends
    each as its task id says (``..._failed``: FAILED with ``failure``, else COMPLETED)."""

    def __init__(self, admin_kubeconfig: Path, namespace: str, dag_id: str, expected: int, failure: str):
        super().__init__(admin_kubeconfig, namespace, dag_id, expected, 1800)
        self.failure = failure
        self.released: set[str] = set()

    def release(self, task_ids: Iterable[str]) -> None:
        self.released.update(task_ids)

    def final_state(self, job: dict[str, Any], running_for: float) -> dict[str, str] | None:
        task_id = (job["metadata"].get("annotations") or {}).get(TASK_ID_ANNOTATION, "")
        if task_id not in self.released:
            return None
        if task_id.endswith("_failed"):
            return {"state": "FAILED", "errorMessage": self.failure}
        return {"state": "COMPLETED"}
