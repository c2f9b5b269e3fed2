"""MokaHook: the synchronous Kubernetes client of Moka jobs (custom objects, pod logs, events).

Every request goes through :meth:`MokaHook._run`, which executes an :class:`~.api_calls.ApiCall`
under the shared :class:`~.retrying.RetryPolicy` and turns failures into
:class:`~moka_provider.exceptions.MokaApiError`. Kubernetes client modules are imported lazily so
that importing this module at DAG parse time stays cheap.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import tenacity

from moka_provider.exceptions import MokaApiError
from moka_provider.hooks import api_calls
from moka_provider.hooks.api_calls import ApiCall
from moka_provider.hooks.api_errors import from_api_exception, from_response, from_transport_error
from moka_provider.hooks.base import MokaBaseHook
from moka_provider.hooks.watching import LineSplitter, WatchEvent, WatchSession
from moka_provider.resources import SPARK_APPLICATION, CustomResource
from moka_provider.settings import MokaSettings

if TYPE_CHECKING:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook


class MokaHook(MokaBaseHook):
    """Create, read, watch and delete Moka jobs' custom resources; read their pods' logs and events.

    :param moka_conn_id: the ``moka`` connection (cluster access plus Moka defaults).
    :param retry_policy: how transient API failures are retried (default: 6 attempts, 2 minutes).
    """

    @cached_property
    def kubernetes_hook(self) -> KubernetesHook:
        """The cncf.kubernetes hook that authenticates to the cluster for this connection."""
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook
        from kubernetes.client import Configuration

        configuration = Configuration()
        configuration.retries = False  # one retry layer: ours, which counts and logs attempts
        return KubernetesHook(conn_id=self.moka_conn_id, client_configuration=configuration)

    @cached_property
    def settings(self) -> MokaSettings:
        return self._settings_from(self.kubernetes_hook.conn_extras)

    @cached_property
    def _apis(self) -> dict[str, Any]:
        from kubernetes import client

        api_client = self.kubernetes_hook.api_client
        self._mask_credentials(api_client.configuration)
        return {"custom": client.CustomObjectsApi(api_client), "core": client.CoreV1Api(api_client)}

    def namespace(self, namespace: str | None = None) -> str:
        return namespace or self.settings.namespace

    # -- custom objects ------------------------------------------------------------------------

    def create(self, resource: CustomResource, body: Mapping[str, Any], namespace: str | None = None) -> dict:
        """Create a custom object; a 409 raises :class:`MokaApiError` with ``already_exists``."""
        return self._run(api_calls.create_object(resource, self.namespace(namespace), body))

    def get(self, resource: CustomResource, name: str, namespace: str | None = None) -> dict:
        return self._run(api_calls.get_object(resource, self.namespace(namespace), name))

    def list(
        self, resource: CustomResource, namespace: str | None = None, *, label_selector: str | None = None
    ) -> builtins.list[dict]:
        listing = self._run(
            api_calls.list_objects(resource, self.namespace(namespace), label_selector=label_selector)
        )
        return list(listing.get("items") or [])

    def delete(
        self, resource: CustomResource, name: str, namespace: str | None = None, *, missing_ok: bool = False
    ) -> bool:
        """Delete a custom object and its dependents; ``False`` if it was already gone and ``missing_ok``."""
        try:
            self._run(api_calls.delete_object(resource, self.namespace(namespace), name))
        except MokaApiError as error:
            if missing_ok and error.not_found:
                return False
            raise
        return True

    def watch(
        self,
        resource: CustomResource,
        namespace: str | None = None,
        *,
        name: str | None = None,
        label_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[WatchEvent]:
        """Yield changes to custom objects until ``timeout`` seconds pass (forever if ``None``).

        Without ``resource_version`` it starts with an ``ADDED`` event per existing object. It
        resumes by itself after the server ends a watch request, after a dropped connection, and
        after a 410 Gone (by re-listing and yielding what changed meanwhile, deletions included).
        """
        session = WatchSession(
            resource,
            self.namespace(namespace),
            name=name,
            label_selector=label_selector,
            resource_version=resource_version,
            timeout=timeout,
            policy=self.retry_policy,
        )
        if session.needs_list:
            yield from self._relist(session)
        while (call := session.next_watch_call()) is not None:
            try:
                for line in self._stream_lines(call):
                    if event := session.on_line(line):
                        yield event
                session.request_ended()
            except Exception as problem:
                pause = session.recover(problem)
                if pause is None:
                    yield from self._relist(session)
                else:
                    time.sleep(pause)

    def _relist(self, session: WatchSession) -> builtins.list[WatchEvent]:
        """Like :meth:`MokaAsyncHook.relist`."""
        while True:
            try:
                listed = session.take_page(self._run(session.list_call()))
            except MokaApiError as error:
                session.list_expired(error)
                continue
            if listed is not None:
                return listed

    # -- pods and events -----------------------------------------------------------------------

    def read_pod_log(
        self,
        pod: str,
        namespace: str | None = None,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        follow: bool = False,
    ) -> Iterator[str]:
        """Yield a pod's log lines; with ``follow`` until the container ends."""
        call = api_calls.read_pod_log(
            self.namespace(namespace),
            pod,
            container=container,
            tail_lines=tail_lines,
            since_seconds=since_seconds,
            follow=follow,
        )
        yield from self._stream_lines(call)

    def list_pods(self, label_selector: str, namespace: str | None = None) -> builtins.list[dict]:
        """The pods matching ``label_selector``, as the API returns them (dicts)."""
        pods = self._run(api_calls.list_pods(self.namespace(namespace), label_selector=label_selector))
        return list(self._apis["core"].api_client.sanitize_for_serialization(pods).get("items") or [])

    def list_events(
        self, name: str, namespace: str | None = None, *, kind: str | None = None, uid: str | None = None
    ) -> builtins.list[dict]:
        """Events about an object (a job or a pod), oldest first."""
        events = self._run(
            api_calls.list_events(
                self.namespace(namespace), involved_name=name, involved_kind=kind, involved_uid=uid
            )
        )
        items = self._apis["core"].api_client.sanitize_for_serialization(events).get("items") or []
        return sorted(items, key=api_calls.event_order)

    def test_connection(self) -> tuple[bool, str]:
        """Used by the Airflow UI's Test button: can the connection list jobs in its namespace?"""
        try:
            self.list(SPARK_APPLICATION)
        except Exception as error:
            return False, str(error)
        return True, f"Connected; SparkApplications can be listed in namespace {self.settings.namespace!r}"

    # -- plumbing ------------------------------------------------------------------------------

    def _run(self, call: ApiCall) -> Any:
        for attempt in tenacity.Retrying(**self.retry_policy.tenacity_kwargs()):
            with attempt:
                return self._invoke(call)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _invoke(self, call: ApiCall, **extra: Any) -> Any:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        method = getattr(self._apis[call.api], call.method)
        try:
            return method(**call.kwargs, **extra)
        except ApiException as error:
            raise from_api_exception(error, call.operation) from None
        except AttributeError as error:
            # For a TLS failure the client raises ApiException(status=0), then trips over its empty
            # body while re-raising it; the ApiException survives as the context.
            if isinstance(error.__context__, ApiException):
                raise from_api_exception(error.__context__, call.operation) from None
            raise
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise from_transport_error(error, call.operation) from error

    def _stream_lines(self, call: ApiCall) -> Iterator[str]:
        """Open a streaming request (retried like any other) and yield its lines as they arrive."""
        import urllib3

        extra: dict[str, Any] = {"_preload_content": False}
        response = None
        for attempt in tenacity.Retrying(**self.retry_policy.tenacity_kwargs()):
            with attempt:
                response = self._invoke(call, **extra)
                if not 200 <= response.status <= 299:
                    body = response.data
                    response.release_conn()
                    raise from_response(
                        call.operation, response.status, response.reason, body, response.headers
                    )
        assert response is not None
        try:
            yield from LineSplitter().split(response.stream(64 * 1024, decode_content=True))
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise from_transport_error(error, call.operation) from error
        finally:
            response.close()  # a watch or followed log may be left mid-stream: drop, don't reuse
            response.release_conn()
