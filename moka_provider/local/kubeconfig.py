"""Kubeconfig files and the Airflow connection URI that `moka local` hands to users."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml


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


def connection_uri(kubeconfig: Path, namespace: str) -> str:
    """An ``AIRFLOW_CONN_*`` value for a ``moka`` connection using ``kubeconfig``."""
    return "moka://?" + urlencode({"kube_config_path": str(kubeconfig), "namespace": namespace})
