"""Writes what spark-operator writes for a job whose driver runs quietly for a long time.

The quiet-wait test's SparkApplications carry the label that keeps `moka local`'s controllers off
them (``LEFT_ALONE_LABEL``). For each one this thread writes, through the status subresource as the
operator does: SUBMITTED (driver pod name, application id), RUNNING, then nothing at all for
``seconds``, then COMPLETED with its ``terminationTime``. No pod runs, so the jobs take none of the
machine's cores from the other tests' jobs meanwhile.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from moka_provider.engines.resources import SPARK_APPLICATION
from moka_provider.jobs.identity import label_value


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
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        from kubernetes import client, config

        api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(self.admin_kubeconfig)))
        running_since: dict[str, float] = {}
        completed: set[str] = set()
        deadline = time.monotonic() + self.seconds + 900
        while len(completed) < self.expected and not self._stop.wait(1) and time.monotonic() < deadline:
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
                    if name not in running_since:
                        self._write(api, name, self._submitted(name))
                        self._write(
                            api, name, {"applicationState": {"state": "RUNNING"}, "executionAttempts": 1}
                        )
                        running_since[name] = time.monotonic()
                    elif name not in completed and time.monotonic() - running_since[name] >= self.seconds:
                        self._write(
                            api, name, {"applicationState": {"state": "COMPLETED"}, "terminationTime": _now()}
                        )
                        completed.add(name)
            except Exception as error:  # reported by the test that waits for these jobs
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
