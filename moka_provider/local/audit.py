"""The embedded API server's audit log: every request a service account (Airflow's identity)
makes, with the verb, the resource and the answer's status code, one JSON object a line.

It is how the tests prove that the provider works under the shipped Role (no request of Airflow's
identity is refused) and how a user of `moka local` sees what a DAG asked of the cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from moka_provider.local.paths import StatePaths

#: Requests of service accounts at ``Metadata`` level (no bodies), once each when answered;
#: nothing of the cluster admin (the local controllers, the tests' arrangements).
POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
"""

#: Size in megabytes after which the log is rotated, and how many rotated files are kept.
MAX_MEGABYTES, BACKUPS = 50, 1


def apiserver_flags(paths: StatePaths) -> list[str]:
    """The kube-apiserver flags that write the audit log (writing the policy file they name)."""
    paths.audit_policy.write_text(POLICY)
    return [
        f"--audit-policy-file={paths.audit_policy}",
        f"--audit-log-path={paths.audit_log}",
        "--audit-log-format=json",
        f"--audit-log-maxsize={MAX_MEGABYTES}",
        f"--audit-log-maxbackup={BACKUPS}",
    ]


@dataclass(frozen=True)
class AuditedRequest:
    user: str
    verb: str
    resource: str  # "pods/log" for a subresource
    api_group: str
    namespace: str
    status: int
    uri: str


def audited_requests(log_file: Path) -> Iterator[AuditedRequest]:
    """The requests in ``log_file`` (the current file; a rotated one is not read)."""
    if not log_file.exists():
        return
    with log_file.open() as lines:
        for line in lines:
            event = json.loads(line)
            target = event.get("objectRef") or {}
            resource = target.get("resource", "")
            if subresource := target.get("subresource"):
                resource = f"{resource}/{subresource}"
            yield AuditedRequest(
                user=event["user"]["username"],
                verb=event["verb"],
                resource=resource,
                api_group=target.get("apiGroup", ""),
                namespace=target.get("namespace", ""),
                status=(event.get("responseStatus") or {}).get("code", 0),
                uri=event.get("requestURI", ""),
            )
