"""Adapt the official CRDs to an older API server (v1.20, the one `moka local` builds).

Three rules, checked against all four CRDs and the upstream example manifests:

1. drop every ``x-kubernetes-validations`` (CEL rules; unknown before 1.23, and rejected);
2. drop every ``default: ""`` (1.20 reads an empty-string default as null and rejects the CRD);
3. where that leaves an ``x-kubernetes-list-type: map`` whose key property has neither a default
   nor a ``required`` entry, make the list ``atomic`` (1.20 insists that map keys be one or the other).

Newer servers get the CRDs unchanged. Pure functions, no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

#: The first minor version that serves the official CRDs as they are.
FIRST_UNADAPTED_MINOR = 25


def needs_adaptation(server_major: int, server_minor: int) -> bool:
    return (server_major, server_minor) < (1, FIRST_UNADAPTED_MINOR)


def adapt_crd(crd: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``crd`` that a v1.20 API server accepts."""
    adapted = copy.deepcopy(crd)
    for version in adapted["spec"]["versions"]:
        schema = version.get("schema", {}).get("openAPIV3Schema")
        if schema is not None:
            _adapt_schema(schema)
    return adapted


def _adapt_schema(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _adapt_schema(item)
        return
    if not isinstance(node, dict):
        return
    node.pop("x-kubernetes-validations", None)
    if node.get("default") == "":
        del node["default"]
    for value in node.values():
        _adapt_schema(value)
    # Children first: rule 3 looks at defaults as rule 2 left them.
    if node.get("x-kubernetes-list-type") == "map":
        items = node.get("items") or {}
        properties = items.get("properties") or {}
        required = set(items.get("required") or [])
        keys = node.get("x-kubernetes-list-map-keys") or []
        if any(key not in required and "default" not in properties.get(key, {}) for key in keys):
            node["x-kubernetes-list-type"] = "atomic"
            node.pop("x-kubernetes-list-map-keys", None)
