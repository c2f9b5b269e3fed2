"""Where `moka local` keeps things: one state directory per instance, one cache per machine."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from moka_provider.local.processes import Tracked

KUBE_VERSION = "v1.20.2"


def default_state_dir() -> Path:
    return Path(os.environ.get("MOKA_LOCAL_DIR") or Path.home() / ".moka" / "local")


def cache_dir() -> Path:
    """Machine-wide cache (the built API server), outside any repository."""
    if explicit := os.environ.get("MOKA_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "moka"


@dataclass(frozen=True)
class StatePaths:
    """The files of one `moka local` instance below ``root``."""

    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def pods(self) -> Path:
        """Container log files of the local kubelet (see ``container_logs``)."""
        return self.root / "pods"

    @property
    def log_archive(self) -> Path:
        """Pods' logs kept after the pods are gone, as Fluent Bit keeps them on Moka (see
        ``container_logs.archive_pod_log``); a ``moka local`` connection's ``log_archive_url``."""
        return self.root / "log-archive"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def token_file(self) -> Path:
        return self.pki / "tokens.csv"

    @property
    def kubeconfig(self) -> Path:
        """Least-privilege kubeconfig: the Airflow service account's token."""
        return self.root / "kubeconfig"

    @property
    def admin_kubeconfig(self) -> Path:
        """Cluster-admin kubeconfig, for the local controllers and for debugging."""
        return self.root / "admin.kubeconfig"

    @property
    def audit_log(self) -> Path:
        """The API server's record of the service accounts' requests (see ``audit``)."""
        return self.logs / "audit.log"

    @property
    def audit_policy(self) -> Path:
        return self.root / "audit-policy.yaml"

    def component(self, name: str) -> Tracked:
        """The pid file and log of a control-plane component."""
        return Tracked(name, self.run / f"{name}.pid", self.logs / f"{name}.log")

    def create(self) -> None:
        for directory in (self.root, self.pki, self.logs, self.run, self.pods, self.log_archive):
            directory.mkdir(parents=True, exist_ok=True)
        self.pki.chmod(0o700)


#: Where `moka local` reports progress (``print`` on the command line, a logger in tests).
Log = Callable[[str], None]
