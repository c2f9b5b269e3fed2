"""Prepare a cluster for Moka: CRDs, the jobs' namespace, Airflow's service account and Role.

Runs with administrator rights (the embedded server's static admin token, or the kubeconfig
given to ``up --kubeconfig``) and is idempotent: running it again updates the CRDs and the Role
and issues a fresh token. The token handed to Airflow is a service-account token bound to the
least-privilege Role the package ships, so whatever works locally works under that Role.
"""

from __future__ import annotations

import time
from functools import partial
from importlib import resources
from typing import Any

import yaml

from moka_provider.local.crd_adapt import adapt_crd, needs_adaptation
from moka_provider.local.paths import Log
from moka_provider.resources import ALL_RESOURCES

AIRFLOW_SERVICE_ACCOUNT = "airflow"
ROLE_NAME = "moka-airflow"
TOKEN_SECONDS = 365 * 24 * 3600


def shipped_role() -> dict[str, Any]:
    """The least-privilege Role shipped with the package (``data/rbac/airflow-role.yaml``)."""
    text = resources.files("moka_provider.data.rbac").joinpath("airflow-role.yaml").read_text()
    role: dict[str, Any] = yaml.safe_load(text)
    return role


def bootstrap(api_client: Any, namespace: str, *, log: Log = print) -> str:
    """Install everything Moka needs; return a token of Airflow's service account."""
    from kubernetes import client

    version = client.VersionApi(api_client).get_code()
    major, minor = int(version.major), int("".join(ch for ch in version.minor if ch.isdigit()))
    adapt = needs_adaptation(major, minor)
    extensions = client.ApiextensionsV1Api(api_client)
    for resource in ALL_RESOURCES:
        crd = adapt_crd(resource.crd()) if adapt else resource.crd()
        _create_or_replace(
            extensions.create_custom_resource_definition,
            partial(extensions.read_custom_resource_definition, resource.crd_name),
            partial(extensions.replace_custom_resource_definition, resource.crd_name),
            crd,
        )
    _wait_established(extensions, [r.crd_name for r in ALL_RESOURCES])
    log(
        f"CRDs installed ({', '.join(r.kind for r in ALL_RESOURCES)}){' (adapted for v1.' + str(minor) + ')' if adapt else ''}"
    )

    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    _create_if_missing(lambda: core.create_namespace({"metadata": {"name": namespace}}))
    _create_if_missing(
        lambda: core.create_namespaced_service_account(
            namespace, {"metadata": {"name": AIRFLOW_SERVICE_ACCOUNT}}
        )
    )
    role = shipped_role()
    role["metadata"]["namespace"] = namespace
    _create_or_replace(
        partial(rbac.create_namespaced_role, namespace),
        partial(rbac.read_namespaced_role, ROLE_NAME, namespace),
        partial(rbac.replace_namespaced_role, ROLE_NAME, namespace),
        role,
    )
    _create_if_missing(
        lambda: rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": ROLE_NAME},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE_NAME},
                "subjects": [
                    {"kind": "ServiceAccount", "name": AIRFLOW_SERVICE_ACCOUNT, "namespace": namespace}
                ],
            },
        )
    )
    _wait_authorized(client.AuthorizationV1Api(api_client), namespace, role)
    log(f"namespace {namespace}: service account {AIRFLOW_SERVICE_ACCOUNT} bound to Role {ROLE_NAME}")
    request = core.create_namespaced_service_account_token(
        AIRFLOW_SERVICE_ACCOUNT, namespace, {"spec": {"expirationSeconds": TOKEN_SECONDS}}
    )
    return str(request.status.token)


def _create_if_missing(create) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create()
    except ApiException as error:
        if error.status != 409:
            raise


def _create_or_replace(create, read, replace, body: dict[str, Any]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        create(body)
    except ApiException as error:
        if error.status != 409:
            raise
        current = read()
        body = {
            **body,
            "metadata": {**body["metadata"], "resourceVersion": current.metadata.resource_version},
        }
        replace(body)


def _wait_authorized(authorization, namespace: str, role: dict[str, Any], timeout: float = 30.0) -> None:
    """Wait until the API server allows Airflow's service account all the Role grants: its RBAC
    authorizer learns new Roles and bindings from a watch, so a request made at once can be refused."""
    user = f"system:serviceaccount:{namespace}:{AIRFLOW_SERVICE_ACCOUNT}"
    pending = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule.get("apiGroups", [""])
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    deadline = time.monotonic() + timeout
    while pending:
        for group, resource, verb in sorted(pending):
            name, _, subresource = resource.partition("/")
            attributes = {"namespace": namespace, "group": group, "resource": name, "verb": verb}
            if subresource:
                attributes["subresource"] = subresource
            review = authorization.create_subject_access_review(
                {"spec": {"user": user, "resourceAttributes": attributes}}
            )
            if review.status.allowed:
                pending.discard((group, resource, verb))
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"the Role's grants not in force after {timeout:.0f}s: {sorted(pending)}")
        if pending:
            time.sleep(0.2)


def _wait_established(extensions, names: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            conditions = extensions.read_custom_resource_definition(name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"CRDs not established after {timeout:.0f}s: {sorted(pending)}")
        if pending:
            time.sleep(0.2)
