"""Retries, proved with faults injected between the hooks and the real API server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks.retrying import RetryPolicy
from moka_provider.resources import SPARK_APPLICATION
from tests.integration.conftest import SyncOrAsync, spark_app
from tests.integration.fault_proxy import Fault

FAST = RetryPolicy(attempts=4, initial_wait=0.05, max_wait=0.2)


@pytest.fixture(params=["sync", "async"])
def faulty_hook(request: pytest.FixtureRequest, fault_proxy: Any) -> SyncOrAsync:
    return SyncOrAsync(request.param, conn_id="moka_faulty", retry_policy=FAST)


@pytest.fixture
def existing_app(moka_local: Any, unique_name: str) -> Any:
    hook = SyncOrAsync("sync")
    hook.create(SPARK_APPLICATION, spark_app(unique_name))
    yield unique_name
    hook.delete(SPARK_APPLICATION, unique_name, missing_ok=True)


def test_429_is_retried_after_the_servers_retry_after(
    faulty_hook: SyncOrAsync, fault_proxy: Any, existing_app: str
):
    path = f"GET /apis/sparkoperator.k8s.io/v1beta2/namespaces/moka/sparkapplications/{existing_app}$"
    fault_proxy.inject(Fault(path, times=2, status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    app = faulty_hook.get(SPARK_APPLICATION, existing_app)
    assert app["metadata"]["name"] == existing_app
    assert fault_proxy.count(path) == 3
    assert time.monotonic() - started >= 2.0  # waited as asked, not the policy's 0.05 s back-off


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(
    faulty_hook: SyncOrAsync, fault_proxy: Any, existing_app: str, status: int
):
    path = f"GET /apis/sparkoperator.k8s.io/v1beta2/namespaces/moka/sparkapplications/{existing_app}$"
    fault_proxy.inject(Fault(path, times=2, status=status))
    assert faulty_hook.get(SPARK_APPLICATION, existing_app)["metadata"]["name"] == existing_app
    assert fault_proxy.count(path) == 3


def test_connection_reset_is_retried_and_creates_once(
    faulty_hook: SyncOrAsync, fault_proxy: Any, unique_name: str
) -> None:
    path = "POST /apis/sparkoperator.k8s.io/v1beta2/namespaces/moka/sparkapplications$"
    fault_proxy.inject(Fault(path, times=2, reset=True))
    try:
        created = faulty_hook.create(SPARK_APPLICATION, spark_app(unique_name))
        assert created["metadata"]["name"] == unique_name
        assert fault_proxy.count(path) == 3
        assert len(SyncOrAsync("sync").list(SPARK_APPLICATION, label_selector=None)) >= 1
    finally:
        SyncOrAsync("sync").delete(SPARK_APPLICATION, unique_name, missing_ok=True)


def test_retries_are_bounded(faulty_hook: SyncOrAsync, fault_proxy: Any, existing_app: str) -> None:
    path = f"GET /apis/sparkoperator.k8s.io/v1beta2/namespaces/moka/sparkapplications/{existing_app}$"
    fault_proxy.inject(Fault(path, times=100, status=503))
    with pytest.raises(MokaApiError) as error:
        faulty_hook.get(SPARK_APPLICATION, existing_app)
    assert error.value.status == 503
    assert fault_proxy.count(path) == FAST.attempts


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(
    faulty_hook: SyncOrAsync, fault_proxy: Any, existing_app: str, status: int
):
    path = f"GET /apis/sparkoperator.k8s.io/v1beta2/namespaces/moka/sparkapplications/{existing_app}$"
    fault_proxy.inject(Fault(path, times=100, status=status))
    with pytest.raises(MokaApiError) as error:
        faulty_hook.get(SPARK_APPLICATION, existing_app)
    assert error.value.status == status
    # A 401 to the async hook's shared client is tried once more with the credentials loaded anew
    # (an exec token that expired); the sync client refreshes exec tokens itself.
    reloaded = status == 401 and faulty_hook.style == "async"
    assert fault_proxy.count(path) == (2 if reloaded else 1)


def test_unreachable_server_fails_after_bounded_attempts(
    moka_local: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    from moka_provider.local.kubeconfig import connection_uri
    from moka_provider.local.processes import free_port

    paths, state = moka_local
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        paths.kubeconfig.read_text().replace(state.server, f"https://127.0.0.1:{free_port()}")
    )
    monkeypatch.setenv("AIRFLOW_CONN_MOKA_NOWHERE", connection_uri(kubeconfig, "moka"))
    for style in ("sync", "async"):
        with pytest.raises(MokaApiError) as error:
            SyncOrAsync(style, conn_id="moka_nowhere", retry_policy=FAST).get(SPARK_APPLICATION, "x")
        assert error.value.status is None and error.value.reason == "Unreachable"
        assert "get SparkApplication moka/x failed (Unreachable)" in str(error.value)


def test_a_deferred_wait_outlasts_an_api_server_away_longer_than_the_hooks_retries(
    fault_proxy: Any, existing_app: str
) -> None:
    """The trigger's hook gives up on a call after 6 attempts; the trigger itself keeps waiting."""
    import asyncio

    from moka_provider.triggers.job import MokaJobTrigger

    job = SyncOrAsync("sync").get(SPARK_APPLICATION, existing_app)
    path = f"GET /apis/sparkoperator.k8s.io/v1beta2/namespaces/moka/sparkapplications/{existing_app}$"
    fault_proxy.inject(Fault(path, times=8, status=503))
    trigger = MokaJobTrigger(
        engine="spark",
        name=existing_app,
        namespace=job["metadata"]["namespace"],
        uid=job["metadata"]["uid"],
        moka_conn_id="moka_faulty",
    )

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    payload = asyncio.run(asyncio.wait_for(first_event(), timeout=240))
    assert payload["verdict"] == "succeeded"  # the pi job ran to its end meanwhile
    assert fault_proxy.count(path) >= 9  # 6 attempts given up on, then looked again and got through
