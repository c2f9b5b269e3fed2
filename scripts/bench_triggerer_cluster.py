"""The cluster side of ``bench_triggerer.py``: the jobs and pods waited for, their statuses, the
API server's request counters. All through the admin kubeconfig, with the synchronous client, in
the benchmark's parent process (never in the process whose cost is measured)."""

from __future__ import annotations

import datetime
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moka_provider.jobs.identity import MANAGED_BY, JobIdentity
from moka_provider.local.controllers.base import LEFT_ALONE_LABEL
from moka_provider.resources import ALL_RESOURCES, SPARK_APPLICATION

RUN_LABEL = "bench.moka.dev/run"
NOWHERE_NODE = "bench-nowhere"  # no kubelet runs it: the pods' statuses are the benchmark's alone
POD_CONTAINER = "base"
WAITED_ON = frozenset({*(resource.plural for resource in ALL_RESOURCES), "pods", "events"})
_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RequestKey:
    verb: str
    resource: str
    code: str


def parse_request_totals(text: str) -> Counter[RequestKey]:
    """``apiserver_request_total`` of a /metrics page, summed by verb, resource and code. Only
    requests within a namespace on what a wait may look at (the jobs' resources, pods and their
    logs, events): the local kubelet's cluster-wide pod listing (5 a second), the controllers'
    cluster-wide watches and the API server's own bookkeeping (``default`` namespace, services,
    endpoints) are left out."""
    totals: Counter[RequestKey] = Counter()
    for line in text.splitlines():
        if match := _SAMPLE.match(line):
            labels = dict(_LABEL.findall(match["labels"]))
            if labels.get("scope") in ("namespace", "resource") and labels.get("resource") in WAITED_ON:
                resource = labels["resource"] + (
                    f"/{labels['subresource']}" if labels.get("subresource") else ""
                )
                totals[RequestKey(labels["verb"], resource, labels["code"])] += int(float(match["value"]))
    return totals


def spark_application(name: str, run: str, index: int) -> dict[str, Any]:
    """A SparkApplication as MokaSparkOperator labels it, which the local controllers leave alone."""
    identity = JobIdentity("bench_triggerer", f"wait_{index}", run)
    return {
        "apiVersion": SPARK_APPLICATION.api_version,
        "kind": SPARK_APPLICATION.kind,
        "metadata": {
            "name": name,
            "labels": {**identity.labels(1), **MANAGED_BY, LEFT_ALONE_LABEL: "off", RUN_LABEL: run},
            "annotations": identity.annotations(),
        },
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "sparkVersion": "4.0.0",
            "mainApplicationFile": "local:///opt/bench/none.py",
            "driver": {"cores": 1, "memory": "512m"},
            "executor": {"instances": 1, "cores": 1, "memory": "512m"},
        },
    }


def pod(name: str, run: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {RUN_LABEL: run}},
        "spec": {
            "nodeName": NOWHERE_NODE,
            "restartPolicy": "Never",
            "containers": [{"name": POD_CONTAINER, "image": "bench/none:1", "command": ["true"]}],
        },
    }


def spark_statuses(name: str) -> list[dict[str, Any]]:
    """What spark-operator writes once the driver is up: SUBMITTED, then RUNNING."""
    submitted = {
        "applicationState": {"state": "SUBMITTED"},
        "sparkApplicationId": f"spark-{uuid.uuid4().hex}",
        "submissionID": str(uuid.uuid4()),
        "submissionAttempts": 1,
        "lastSubmissionAttemptTime": now(),
        "driverInfo": {"podName": f"{name}-driver"},
    }
    return [submitted, {"applicationState": {"state": "RUNNING"}, "executionAttempts": 1}]


def spark_completed() -> dict[str, Any]:
    return {"applicationState": {"state": "COMPLETED"}, "terminationTime": now()}


def pod_status(state: str) -> dict[str, Any]:
    """A kubelet's report of the pod with its one container ``running`` or ``terminated``."""
    container: dict[str, Any] = {
        "name": POD_CONTAINER,
        "image": "bench/none:1",
        "imageID": "",
        "restartCount": 0,
    }
    if state == "running":
        container |= {"ready": True, "started": True, "state": {"running": {"startedAt": now()}}}
        phase = "Running"
    else:
        finished = {"exitCode": 0, "reason": "Completed", "startedAt": now(), "finishedAt": now()}
        container |= {"ready": False, "started": False, "state": {"terminated": finished}}
        phase = "Succeeded"
    return {"phase": phase, "startTime": now(), "containerStatuses": [container]}


class Cluster:
    """Admin access to the namespace where the benchmark creates its jobs and pods."""

    def __init__(self, admin_kubeconfig: Path, namespace: str, run: str, threads: int = 16) -> None:
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(admin_kubeconfig), client_configuration=configuration)
        configuration.connection_pool_maxsize = threads
        self.api_client = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.namespace = namespace
        self.run = run
        self.threads = threads

    @property
    def server_port(self) -> int:
        return int(self.api_client.configuration.host.rsplit(":", 1)[1])

    def request_totals(self) -> Counter[RequestKey]:
        response = self.api_client.call_api(
            "/metrics", "GET", auth_settings=["BearerToken"], _preload_content=False
        )
        return parse_request_totals(response.data.decode())

    def in_bulk(self, work: Callable[[int], Any], count: int) -> list[Any]:
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(work, range(count)))

    # -- SparkApplications -----------------------------------------------------------------------

    def create_jobs(self, count: int) -> list[tuple[str, str]]:
        """``count`` SparkApplications held RUNNING, as (name, uid)."""

        def one(index: int) -> tuple[str, str]:
            name = f"bench-{self.run}-{index}"
            created = self.custom.create_namespaced_custom_object(
                SPARK_APPLICATION.group, SPARK_APPLICATION.version, self.namespace,
                SPARK_APPLICATION.plural, spark_application(name, self.run, index),
            )  # fmt: skip
            for status in spark_statuses(name):
                self.write_job_status(name, status)
            return name, created["metadata"]["uid"]

        return self.in_bulk(one, count)

    def write_job_status(self, name: str, status: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object_status(
            SPARK_APPLICATION.group, SPARK_APPLICATION.version, self.namespace, SPARK_APPLICATION.plural,
            name, {"status": status}, _content_type="application/merge-patch+json",
        )  # fmt: skip

    # -- pods ------------------------------------------------------------------------------------

    def create_pods(self, count: int) -> list[tuple[str, str]]:
        """``count`` pods on a node nobody runs, reported Running, as (name, uid)."""

        def one(index: int) -> tuple[str, str]:
            name = f"bench-{self.run}-pod-{index}"
            created = self.core.create_namespaced_pod(self.namespace, pod(name, self.run))
            self.write_pod_status(name, pod_status("running"))
            return name, created.metadata.uid

        return self.in_bulk(one, count)

    def write_pod_status(self, name: str, status: dict[str, Any]) -> None:
        self.core.patch_namespaced_pod_status(name, self.namespace, {"status": status})

    # -- the flip and the end ----------------------------------------------------------------------

    def flip(self, names: Iterable[str], write: Callable[[str], None], rate: float) -> dict[str, float]:
        """Write each one's final status, ``rate`` a second, one after the other; returns when each
        write was sent (monotonic clock, comparable with the child's on Linux)."""
        sent: dict[str, float] = {}
        begin = time.monotonic()
        for index, name in enumerate(names):
            time.sleep(max(0.0, begin + index / rate - time.monotonic()))
            sent[name] = time.monotonic()
            write(name)
        return sent

    def clean_up(self) -> None:
        """Delete what the run created. A collection of thousands may take the API server longer
        than its request timeout (504): it goes on deleting regardless, so that is only reported."""
        from kubernetes.client.exceptions import ApiException

        selector = f"{RUN_LABEL}={self.run}"
        try:
            self.custom.delete_collection_namespaced_custom_object(
                SPARK_APPLICATION.group, SPARK_APPLICATION.version, self.namespace, SPARK_APPLICATION.plural,
                label_selector=selector,
            )  # fmt: skip
            self.core.delete_collection_namespaced_pod(
                self.namespace, label_selector=selector, grace_period_seconds=0
            )
        except ApiException as error:
            print(
                f"clean-up: HTTP {error.status} {error.reason}; the API server goes on deleting", flush=True
            )
        self.api_client.close()
