"""The shipped Role grants exactly what the hooks ask for.

Every request the runtime makes goes through the hooks' two gateways (``_run`` and
``_stream_lines``), each given an :class:`~moka_provider.hooks.api_calls.ApiCall`. This test calls
every public method of both hooks with each job resource, records the calls at those gateways,
turns each into the RBAC permission it needs, and compares the set with the Role's rules in both
directions. (``tests/conftest.py`` checks the other side on the real API server: no request of
Airflow's identity was refused during the session.)
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from importlib import resources
from typing import Any

import pytest
import yaml

from moka_provider.hooks.api_calls import ApiCall
from moka_provider.hooks.base import MokaBaseHook
from moka_provider.hooks.moka import MokaHook
from moka_provider.hooks.moka_async import MokaAsyncHook
from moka_provider.hooks.watching import WatchSession
from moka_provider.resources import (
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    RAY_JOB,
    SPARK_APPLICATION,
    CustomResource,
)
from moka_provider.settings import MokaSettings

JOB_RESOURCES = (SPARK_APPLICATION, FLINK_DEPLOYMENT, FLINK_SESSION_JOB, RAY_JOB)
Permission = tuple[str, str, str]  # (apiGroup, resource, verb)

#: The verb of a generated client method, by its first word.
VERBS = {
    "create": "create",
    "get": "get",
    "read": "get",
    "list": "list",
    "delete": "delete",
    "patch": "patch",
}
#: Core resources by the rest of the method's name.
CORE_RESOURCES = {"pod": "pods", "pod_log": "pods/log", "event": "events"}


def permission_of(call: ApiCall) -> Permission:
    word, namespaced, rest = call.method.partition("_namespaced_")
    assert namespaced, f"{call.method} is not namespaced: the Role grants nothing cluster-wide"
    verb = "watch" if call.kwargs.get("watch") else VERBS[word]
    if call.api == "custom":
        resource = call.kwargs["plural"] + ("/status" if rest.endswith("_status") else "")
        return call.kwargs["group"], resource, verb
    return "", CORE_RESOURCES[rest], verb


def role_grants() -> set[Permission]:
    role = yaml.safe_load(
        resources.files("moka_provider.data.rbac").joinpath("airflow-role.yaml").read_text()
    )
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


LISTING = {"items": [], "metadata": {"resourceVersion": "7"}}


class _Serializer:
    @staticmethod
    def sanitize_for_serialization(value: Any) -> Any:
        return value


class RecordingHook(MokaHook):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[ApiCall] = []
        self.__dict__["settings"] = MokaSettings(namespace="jobs")
        self.__dict__["_apis"] = {"core": type("Core", (), {"api_client": _Serializer()})()}

    def _run(self, call: ApiCall) -> Any:
        self.calls.append(call)
        return LISTING

    def _stream_lines(self, call: ApiCall) -> Iterator[str]:
        self.calls.append(call)
        yield from ()


class RecordingAsyncHook(MokaAsyncHook):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[ApiCall] = []

    async def get_settings(self) -> MokaSettings:
        return MokaSettings(namespace="jobs")

    async def _run(self, call: ApiCall, *, as_dicts: bool = False) -> Any:
        self.calls.append(call)
        return LISTING

    async def _stream_lines(self, call: ApiCall) -> AsyncIterator[str]:
        self.calls.append(call)
        nothing: tuple[str, ...] = ()
        for line in nothing:
            yield line


def _drain(result: Any) -> None:
    """Run what a hook method returned to its end (a value, an iterator, a coroutine, an async
    iterator)."""

    async def consume() -> None:
        if inspect.isawaitable(result):
            await result
        else:
            async for _ in result:
                pass

    if inspect.isawaitable(result) or inspect.isasyncgen(result):
        asyncio.run(consume())
    elif isinstance(result, Iterator):
        for _ in result:
            pass


def _job_calls(resource: CustomResource) -> dict[str, Callable[[Any], Any]]:
    """How to call each public method of a hook for ``resource`` (None: it makes no request)."""
    return {
        "create": lambda hook: hook.create(resource, {"metadata": {"name": "j"}}),
        "get": lambda hook: hook.get(resource, "j"),
        "list": lambda hook: hook.list(resource, label_selector="a=b"),
        "delete": lambda hook: hook.delete(resource, "j", missing_ok=True),
        "watch": lambda hook: hook.watch(resource, name="j", timeout=0.05),
        "relist": lambda hook: hook.relist(WatchSession(resource, "jobs", name="j")),
        "follow": lambda hook: hook.follow(WatchSession(resource, "jobs", name="j", timeout=0.05)),
        "read_pod_log": lambda hook: hook.read_pod_log("p", tail_lines=5, follow=True),
        "list_pods": lambda hook: hook.list_pods("a=b"),
        "list_events": lambda hook: hook.list_events("j", kind=resource.kind),
        "test_connection": lambda hook: hook.test_connection(),
    }


#: Public methods that make no request (their settings and helpers).
NO_REQUEST = {"namespace", "get_settings", "kubernetes_hook", "settings", "retry_policy"}


def _public_methods(hook_class: type) -> set[str]:
    """The public attributes the provider's hook classes define (not Airflow's BaseHook's)."""
    own = set()
    for cls in hook_class.__mro__:
        if cls is MokaBaseHook.__mro__[1]:
            break
        own |= {name for name in vars(cls) if not name.startswith("_")}
    return own - {"conn_name_attr", "default_conn_name", "conn_type", "hook_name"}


@pytest.mark.parametrize("hook_class", [RecordingHook, RecordingAsyncHook])
def test_every_public_method_of_the_hooks_is_covered_here(hook_class: type) -> None:
    public = _public_methods(hook_class.__mro__[1])
    covered = set(_job_calls(SPARK_APPLICATION)) | NO_REQUEST
    assert public <= covered, f"add {sorted(public - covered)} to this test: which requests does it make?"


def _requested(hook_class: type) -> set[Permission]:
    hook = hook_class()
    public = _public_methods(hook_class.__mro__[1])
    for resource in JOB_RESOURCES:
        for name, call in _job_calls(resource).items():
            if name in public:
                _drain(call(hook))
    return {permission_of(call) for call in hook.calls}


def test_the_role_grants_exactly_what_the_hooks_request() -> None:
    requested = _requested(RecordingHook) | _requested(RecordingAsyncHook)
    granted = role_grants()
    assert requested - granted == set(), "the hooks make requests the Role refuses"
    assert granted - requested == set(), "the Role grants what no code requests: narrow it"
    assert {verb for _, _, verb in granted} <= {"create", "get", "list", "watch", "delete"}
