"""What the sync and the async Moka hook share: the connection, its settings, credential masking."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.settings import MokaSettings


class MokaBaseHook(BaseHook):
    """Common base of :class:`MokaHook` and :class:`MokaAsyncHook`.

    Cluster access is delegated to the cncf.kubernetes provider's hooks, which read the
    ``kube_config_path`` / ``kube_config`` / ``in_cluster`` / ``cluster_context`` fields of the
    same ``moka`` connection; this class adds the Moka settings on top.
    """

    conn_name_attr = "moka_conn_id"
    default_conn_name = "moka_default"
    conn_type = "moka"
    hook_name = "Moka"

    def __init__(
        self, moka_conn_id: str = default_conn_name, retry_policy: RetryPolicy | None = None
    ) -> None:
        super().__init__()
        self.moka_conn_id = moka_conn_id
        self.retry_policy = retry_policy or RetryPolicy()

    @staticmethod
    def _settings_from(extras: dict[str, Any]) -> MokaSettings:
        inline_kubeconfig = extras.get("kube_config")
        if inline_kubeconfig:
            mask_secret(inline_kubeconfig)
        return MokaSettings.from_extras(extras)

    @staticmethod
    def _mask_credentials(configuration: Any) -> None:
        """Register the client's bearer token / basic-auth password with Airflow's secrets masker."""
        for value in (getattr(configuration, "api_key", None) or {}).values():
            if value:
                mask_secret(value)
                token = value.split(" ", 1)[-1]
                mask_secret(token)
        if password := getattr(configuration, "password", None):
            mask_secret(password)
