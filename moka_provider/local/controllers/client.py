"""The local controllers' API client: the provider's async hook (its authentication, retries and
watch resumption) plus the one write only an operator makes, the ``status`` subresource.

The provider's own hooks stay with what a DAG author's tasks do; the controllers run with the
instance's admin kubeconfig, in the jobs namespace, as an operator configured to watch it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moka_provider.hooks.api_calls import ApiCall, custom_object_args
from moka_provider.hooks.moka_async import MokaAsyncHook
from moka_provider.resources import CustomResource


def status_patch(resource: CustomResource, namespace: str, name: str, status: Mapping[str, Any]) -> ApiCall:
    """A merge patch of the object's ``status`` subresource."""
    return ApiCall(
        "custom",
        "patch_namespaced_custom_object_status",
        {
            **custom_object_args(resource, namespace),
            "name": name,
            "body": {"status": dict(status)},
            "_content_type": "application/merge-patch+json",
        },
        f"patch status of {resource.describe(namespace, name)}",
    )


class ControllerClient(MokaAsyncHook):
    """What the local controllers call the API server with."""

    async def patch_status(
        self, resource: CustomResource, name: str, status: Mapping[str, Any], namespace: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(status_patch(resource, namespace, name, status))
        return result
