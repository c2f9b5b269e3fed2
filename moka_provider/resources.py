"""The custom resources Moka jobs are made of, and where their official schemas live.

This is the single list of (kind, group, version, plural) for the engines' operators. The hooks,
the local control plane and the tests all take a :class:`CustomResource` from here instead of
spelling API paths themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from moka_provider.exceptions import MokaError


@dataclass(frozen=True)
class CustomResource:
    """One custom resource type served by an engine's operator."""

    kind: str
    group: str
    version: str
    plural: str
    #: The operator that serves it (installs its CRD), for messages.
    operator: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    def describe(self, namespace: str | None, name: str | None = None) -> str:
        """A short human label such as ``SparkApplication moka/spark-pi``."""
        where = "/".join(part for part in (namespace, name) if part)
        return f"{self.kind} {where}".strip()

    def crd(self) -> dict[str, Any]:
        """The official CustomResourceDefinition shipped with the package (see data/crds/README.md)."""
        return _load_crd(self.crd_name)


SPARK_APPLICATION = CustomResource(
    "SparkApplication", "sparkoperator.k8s.io", "v1beta2", "sparkapplications", "the Kubeflow spark-operator"
)
FLINK_DEPLOYMENT = CustomResource(
    "FlinkDeployment", "flink.apache.org", "v1beta1", "flinkdeployments", "the flink-kubernetes-operator"
)
FLINK_SESSION_JOB = CustomResource(
    "FlinkSessionJob", "flink.apache.org", "v1beta1", "flinksessionjobs", "the flink-kubernetes-operator"
)
RAY_JOB = CustomResource("RayJob", "ray.io", "v1", "rayjobs", "KubeRay")

ALL_RESOURCES: tuple[CustomResource, ...] = (SPARK_APPLICATION, FLINK_DEPLOYMENT, FLINK_SESSION_JOB, RAY_JOB)


class UnknownResourceError(MokaError, ValueError):
    """A manifest names an apiVersion/kind that Moka does not run."""


def resource_for(manifest: dict[str, Any]) -> CustomResource:
    """Find the resource type of a manifest from its ``apiVersion`` and ``kind``."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    for resource in ALL_RESOURCES:
        if resource.api_version == api_version and resource.kind == kind:
            return resource
    known = ", ".join(f"{r.api_version} {r.kind}" for r in ALL_RESOURCES)
    raise UnknownResourceError(
        f"apiVersion {api_version!r} kind {kind!r} is not a Moka job resource ({known})"
    )


@cache
def _load_crd(crd_name: str) -> dict[str, Any]:
    text = resources.files("moka_provider.data.crds").joinpath(f"{crd_name}.json").read_text()
    crd: dict[str, Any] = json.loads(text)
    return crd
