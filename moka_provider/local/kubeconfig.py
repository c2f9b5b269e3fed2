"""Kubeconfig files and the Airflow connection URI that `moka local` hands to users."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml

from moka_provider.data import SPARK_RUNNERS
from moka_provider.local.engines import connection_extras


@dataclass(frozen=True)
class ClusterAccess:
    """Where the API server is and how to trust it: enough to write a kubeconfig for any identity."""

    server: str
    ca_pem: bytes | None = None
    insecure: bool = False

    def kubeconfig(self, user: str, token: str, namespace: str) -> dict:
        cluster: dict = {"server": self.server}
        if self.ca_pem:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        if self.insecure:
            cluster["insecure-skip-tls-verify"] = True
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "moka-local", "cluster": cluster}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [
                {"name": user, "context": {"cluster": "moka-local", "user": user, "namespace": namespace}}
            ],
            "current-context": user,
        }


def write_kubeconfig(path: Path, config: dict) -> None:
    """Write a kubeconfig readable by its owner only (it holds a token)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(config, out, sort_keys=False)
    tmp.replace(path)


def connection_uri(
    kubeconfig: Path,
    namespace: str,
    log_archive: Path | None = None,
    *,
    log_server_port: int | None = None,
    local_engines: bool = True,
) -> str:
    """An ``AIRFLOW_CONN_*`` value for a ``moka`` connection using ``kubeconfig``.

    ``log_archive``: the directory where the local kubelet archives pods' logs, given as the
    connection's ``log_archive_url`` (``file://<log_archive>/{namespace}/{pod}.log``), and
    ``log_server_port`` where `moka local` serves it over HTTP, as the ``job_log_url`` button.
    ``local_engines``: add the versions and images of the engines `moka local` runs jobs with
    (:func:`.engines.connection_extras`) and the installed Spark runners; not when the jobs run
    on a cluster's own operators.
    """
    extras = {"kube_config_path": str(kubeconfig)}
    if log_archive is not None:
        # A URL of the directory (characters such as braces or spaces in it escaped), then the template.
        extras["log_archive_url"] = log_archive.absolute().as_uri() + "/{namespace}/{pod}.log"
    if log_server_port is not None:
        extras["job_log_url"] = f"http://127.0.0.1:{log_server_port}/{{namespace}}/{{pod}}.log"
    if local_engines:
        extras.update(connection_extras())
        # The local kubelet runs the driver on this machine: the installed runners are where it looks.
        for runner in SPARK_RUNNERS:
            extras[runner.name] = "local://" + str(runner.path.resolve())
    extras["namespace"] = namespace  # last: tests name another namespace by appending to the URI
    return "moka://?" + urlencode({name: _as_text(value) for name, value in extras.items()})


def _as_text(value: str) -> str:
    """A URI query value that Airflow reads back as ``value``: Airflow reads a value that parses as
    JSON as JSON (a namespace "2024" as a number, "null" as nothing), so such a value goes as a
    JSON string."""
    try:
        json.loads(value)
    except ValueError:
        return value
    return json.dumps(value)
