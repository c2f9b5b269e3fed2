"""MokaRayOperator: a Ray job on Moka (a KubeRay ``RayJob``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from moka_provider.engines.ray import RayAdapter
from moka_provider.links.job_links import JobLogLink, MokaUILink, RayDashboardLink
from moka_provider.operators.job import MokaJobOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from moka_provider.settings import MokaSettings


class MokaRayOperator(MokaJobOperator):
    """Run a Ray job on Moka and wait for it (in the worker, or deferred).

    The job gets a Ray cluster of its own (``head`` / ``workers``, or a full ``ray_cluster_spec``),
    shut down when the job finishes unless told otherwise, or runs on an existing cluster
    (``cluster_selector``). Success is ``jobDeploymentStatus: Complete`` with ``jobStatus:
    SUCCEEDED``; ``Retrying`` (``backoff_limit`` left) is waited through; ``Failed`` /
    ``ValidationFailed`` fail the task with their reason (DeadlineExceeded, SubmissionFailed,
    AppFailed, ...) and message. The task log gets the submitter's log: the job's own output.

    :param entrypoint: the command the job runs (``python job.py --day {{ ds }}``).
    :param runtime_env: Ray's runtime environment (a dict; serialized as the RayJob expects).
    :param head: the head group's resources (``cpu``, ``memory``, ``gpu``, ...).
    :param workers: worker groups (``name``, ``replicas``, ``min_replicas``, ``max_replicas``,
        ``cpu``, ``memory``, ``gpu``, ...).
    :param ray_cluster_spec: a whole ``rayClusterSpec`` instead of ``head`` / ``workers``.
    :param cluster_selector: labels of an existing RayCluster to run on instead.
    :param shutdown_after_job_finishes: delete the job's cluster when it finishes (default yes).
    :param ttl_seconds_after_finished: how long the finished RayJob (and cluster) stays.
    :param backoff_limit: retries of a failed job; ``active_deadline_seconds``: the job's deadline.
    :param yunikorn_queue: the YuniKorn queue (the connection's by default). ``queue`` is Airflow's.
    :param architecture: ``amd64`` or ``arm64``: node selection and the per-architecture image.
    """

    adapter = RayAdapter()
    operator_extra_links = (MokaUILink(), RayDashboardLink(), JobLogLink())
    template_fields: Sequence[str] = (
        *MokaJobOperator.template_fields,
        "entrypoint",
        "runtime_env",
        "head",
        "workers",
        "ray_cluster_spec",
        "cluster_selector",
        "yunikorn_queue",
        "image",
    )
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "runtime_env": "json"}

    def __init__(
        self,
        *,
        entrypoint: str | Sequence[Any] | None = None,
        runtime_env: Mapping[str, Any] | str | None = None,
        head: Mapping[str, Any] | None = None,
        workers: Sequence[Mapping[str, Any]] | None = None,
        ray_cluster_spec: Mapping[str, Any] | None = None,
        cluster_selector: Mapping[str, str] | str | None = None,
        ray_version: str | None = None,
        image: str | None = None,
        shutdown_after_job_finishes: bool | None = None,
        ttl_seconds_after_finished: int | None = None,
        backoff_limit: int | None = None,
        active_deadline_seconds: int | None = None,
        submission_mode: str | None = None,
        yunikorn_queue: str | None = None,
        architecture: str | None = None,
        service_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entrypoint = entrypoint
        self.runtime_env = runtime_env
        self.head = head
        self.workers = workers
        self.ray_cluster_spec = ray_cluster_spec
        self.cluster_selector = cluster_selector
        self.ray_version = ray_version
        self.image = image
        self.shutdown_after_job_finishes = shutdown_after_job_finishes
        self.ttl_seconds_after_finished = ttl_seconds_after_finished
        self.backoff_limit = backoff_limit
        self.active_deadline_seconds = active_deadline_seconds
        self.submission_mode = submission_mode
        self.yunikorn_queue = yunikorn_queue
        self.architecture = architecture
        self.service_account = service_account

    def build_manifest(self, settings: MokaSettings, context: Context) -> dict[str, Any]:
        # The spec builder is imported at run time only: parsing a DAG does not need it.
        from moka_provider.engines.ray_spec import build_ray_job

        return build_ray_job(
            settings=settings,
            entrypoint=self.entrypoint,
            runtime_env=self.runtime_env,
            head=self.head,
            workers=self.workers,
            ray_cluster_spec=self.ray_cluster_spec,
            cluster_selector=self.cluster_selector,
            ray_version=self.ray_version,
            image=self.image,
            shutdown_after_job_finishes=self.shutdown_after_job_finishes,
            ttl_seconds_after_finished=self.ttl_seconds_after_finished,
            backoff_limit=self.backoff_limit,
            active_deadline_seconds=self.active_deadline_seconds,
            submission_mode=self.submission_mode,
            queue=self.yunikorn_queue,
            architecture=self.architecture,
            service_account=self.service_account,
            application_file=self.application_template(context),
            spec_overrides=self.spec_overrides,
        )
