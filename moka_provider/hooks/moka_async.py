"""MokaAsyncHook: the asyncio twin of :class:`~moka_provider.hooks.moka.MokaHook`, for triggers.

Same operations, same requests (built by :mod:`~moka_provider.hooks.api_calls`), same retry
policy and error translation; only the I/O is ``kubernetes_asyncio``, through clients the
cncf.kubernetes provider's ``AsyncKubernetesHook`` builds, shared by every hook of the event loop
(:mod:`~moka_provider.hooks.client_pool`: credentials loaded anew every 5 minutes and after a 401).
As in MokaHook, the Kubernetes client modules (and aiohttp) are imported on first use.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

import tenacity

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks import api_calls
from moka_provider.hooks.api_calls import ApiCall
from moka_provider.hooks.api_errors import from_api_exception, from_response, from_transport_error
from moka_provider.hooks.base import MokaBaseHook
from moka_provider.hooks.client_pool import pool
from moka_provider.hooks.watching import LineSplitter, WatchEvent, WatchSession
from moka_provider.resources import CustomResource
from moka_provider.settings import MokaSettings

if TYPE_CHECKING:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook


class MokaAsyncHook(MokaBaseHook):
    """Asynchronous Moka hook: create / get / list / watch / patch / delete jobs, pod logs, events."""

    @cached_property
    def kubernetes_hook(self) -> AsyncKubernetesHook:
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook
        from kubernetes_asyncio.client import Configuration

        return AsyncKubernetesHook(conn_id=self.moka_conn_id, client_configuration=Configuration())

    async def get_settings(self) -> MokaSettings:
        return self._settings_from(await self.kubernetes_hook.get_conn_extras())

    async def namespace(self, namespace: str | None = None) -> str:
        return namespace or (await self.get_settings()).namespace

    # -- custom objects ------------------------------------------------------------------------

    async def create(
        self, resource: CustomResource, body: Mapping[str, Any], namespace: str | None = None
    ) -> dict:
        return await self._run(api_calls.create_object(resource, await self.namespace(namespace), body))

    async def get(self, resource: CustomResource, name: str, namespace: str | None = None) -> dict:
        return await self._run(api_calls.get_object(resource, await self.namespace(namespace), name))

    async def list(
        self, resource: CustomResource, namespace: str | None = None, *, label_selector: str | None = None
    ) -> builtins.list[dict]:
        call = api_calls.list_objects(
            resource, await self.namespace(namespace), label_selector=label_selector
        )
        return list((await self._run(call)).get("items") or [])

    async def delete(
        self, resource: CustomResource, name: str, namespace: str | None = None, *, missing_ok: bool = False
    ) -> bool:
        try:
            await self._run(api_calls.delete_object(resource, await self.namespace(namespace), name))
        except MokaApiError as error:
            if missing_ok and error.not_found:
                return False
            raise
        return True

    async def watch(
        self,
        resource: CustomResource,
        namespace: str | None = None,
        *,
        name: str | None = None,
        label_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Like :meth:`MokaHook.watch`: resumes after server timeouts, drops and 410 Gone."""
        session = WatchSession(
            resource,
            await self.namespace(namespace),
            name=name,
            label_selector=label_selector,
            resource_version=resource_version,
            timeout=timeout,
            policy=self.retry_policy,
        )
        async for event in self.follow(session):
            yield event

    async def relist(self, session: WatchSession) -> builtins.list[WatchEvent]:
        """List what ``session`` watches (page by page) and take it as its state; the changes
        since its last state."""
        while True:
            try:
                listed = session.take_page(await self._run(session.list_call()))
            except MokaApiError as error:
                session.list_expired(error)
                continue
            if listed is not None:
                return listed

    async def follow(self, session: WatchSession) -> AsyncIterator[WatchEvent]:
        """Carry ``session`` on: list first if it has no resourceVersion, then watch from its
        resourceVersion, resuming after the server ends a request and after drops, re-listing
        after 410 Gone. Ends when the session's timeout passes; raises once its policy gives up."""
        if session.needs_list:
            for listed in await self.relist(session):
                yield listed
        while (call := session.next_watch_call()) is not None:
            try:
                async for line in self._stream_lines(call):
                    if event := session.on_line(line):
                        yield event
                session.request_ended()
            except Exception as problem:
                pause = session.recover(problem)
                if pause is None:
                    for relisted in await self.relist(session):
                        yield relisted
                else:
                    await asyncio.sleep(pause)

    # -- pods and events -----------------------------------------------------------------------

    async def read_pod_log(
        self,
        pod: str,
        namespace: str | None = None,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        follow: bool = False,
    ) -> AsyncIterator[str]:
        call = api_calls.read_pod_log(
            await self.namespace(namespace),
            pod,
            container=container,
            tail_lines=tail_lines,
            since_seconds=since_seconds,
            follow=follow,
        )
        async for line in self._stream_lines(call):
            yield line

    async def list_pods(self, label_selector: str, namespace: str | None = None) -> builtins.list[dict]:
        """The pods matching ``label_selector``, as the API returns them (dicts)."""
        call = api_calls.list_pods(await self.namespace(namespace), label_selector=label_selector)
        return list((await self._run(call, as_dicts=True)).get("items") or [])

    async def list_events(
        self, name: str, namespace: str | None = None, *, kind: str | None = None, uid: str | None = None
    ) -> builtins.list[dict]:
        call = api_calls.list_events(
            await self.namespace(namespace), involved_name=name, involved_kind=kind, involved_uid=uid
        )
        items = (await self._run(call, as_dicts=True)).get("items") or []
        return sorted(items, key=api_calls.event_order)

    # -- plumbing ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[dict[str, Any]]:
        """The APIs of this loop's shared client of the connection (see :mod:`.client_pool`)."""
        async with pool().client(self.moka_conn_id, self._open_client, self._apis_of) as apis:
            yield apis

    def _open_client(self) -> AbstractAsyncContextManager[Any]:
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook
        from kubernetes_asyncio.client import Configuration

        # A hook of its own: the connection and the kubeconfig (credentials) are read anew.
        return AsyncKubernetesHook(conn_id=self.moka_conn_id, client_configuration=Configuration()).get_conn()

    async def _apis_of(self, api_client: Any) -> dict[str, Any]:
        from kubernetes_asyncio import client

        self._mask_credentials(api_client.configuration)
        return {"custom": client.CustomObjectsApi(api_client), "core": client.CoreV1Api(api_client)}

    async def _run(self, call: ApiCall, *, as_dicts: bool = False) -> Any:
        """Make the request, retried per the policy; ``as_dicts``: a typed answer as plain dicts.

        Credentials the API server refuses (401: an exec token that expired) are loaded anew once.
        """
        for reloaded in (False, True):
            async with self._client() as apis:
                try:
                    async for attempt in tenacity.AsyncRetrying(**self.retry_policy.tenacity_kwargs()):
                        with attempt:
                            answer = await self._invoke(call, apis)
                except MokaApiError as error:
                    if error.status != 401 or reloaded:
                        raise
                    pool().retire(self.moka_conn_id, apis)
                    continue
                if as_dicts:
                    return apis["core"].api_client.sanitize_for_serialization(answer)
                return answer
        raise AssertionError("unreachable: the second pass returns or raises")

    @staticmethod
    async def _invoke(call: ApiCall, apis: dict[str, Any], **extra: Any) -> Any:
        import aiohttp
        from kubernetes_asyncio.client.exceptions import ApiException

        method = getattr(apis[call.api], call.method)
        try:
            return await method(**call.kwargs, **extra)
        except ApiException as error:
            raise from_api_exception(error, call.operation) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise from_transport_error(error, call.operation) from error

    async def _stream_lines(self, call: ApiCall) -> AsyncIterator[str]:
        import aiohttp

        for reloaded in (False, True):
            async with self._client() as apis:
                try:
                    response = await self._open_stream(call, apis)
                except MokaApiError as error:
                    if error.status != 401 or reloaded:
                        raise
                    pool().retire(self.moka_conn_id, apis)
                    continue
                splitter = LineSplitter()
                try:
                    async for chunk in response.content.iter_any():
                        for line in splitter.feed(chunk):
                            yield line
                    for line in splitter.rest():
                        yield line
                except (TimeoutError, aiohttp.ClientError, OSError) as error:
                    raise from_transport_error(error, call.operation) from error
                finally:
                    response.close()
                return

    async def _open_stream(self, call: ApiCall, apis: dict[str, Any]) -> Any:
        """The streamed response to ``call`` once it answered 2xx, retried per the policy."""
        async for attempt in tenacity.AsyncRetrying(**self.retry_policy.tenacity_kwargs()):
            with attempt:
                response = await self._invoke(call, apis, _preload_content=False)
                if not 200 <= response.status <= 299:
                    body = await response.read()
                    response.release()
                    raise from_response(
                        call.operation, response.status, response.reason, body, response.headers
                    )
        return response
