"""MokaFlinkOperator: a Flink batch job on Moka (a FlinkDeployment, or a FlinkSessionJob)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from moka_provider.engines.base import EngineAdapter
from moka_provider.engines.flink import FlinkAdapter, FlinkSessionJobAdapter
from moka_provider.links.job_links import FlinkDashboardLink, JobLogLink, MokaUILink
from moka_provider.operators.job import MokaJobOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from moka_provider.settings import MokaSettings

_APPLICATION = FlinkAdapter()
_SESSION_JOB = FlinkSessionJobAdapter()


class MokaFlinkOperator(MokaJobOperator):
    """Run a Flink batch job on Moka and wait for it (in the worker, or deferred).

    By default the job gets a cluster of its own: a FlinkDeployment in application mode with
    ``execution.runtime-mode: BATCH`` and ``upgradeMode: stateless``, deleted once the job
    FINISHED (``delete_after_success``) so that finished jobs hold no JobManager. With
    ``session_cluster=`` it runs as a FlinkSessionJob on that existing session deployment.

    Success is ``jobStatus.state == FINISHED``; FAILED / CANCELED, or a FAILED lifecycle, fail the
    task with ``status.error``. A READY JobManager is not success, and a JobManager removed after a
    finished job is not failure.

    :param jar_uri: the job's jar, with ``entry_class`` and ``args``; or
    :param python_file: a PyFlink program (or ``python_module``), with ``args``.
    :param parallelism: the job's parallelism.
    :param job_manager: ``cpu``, ``memory``, ``ephemeral_storage``.
    :param task_manager: the same, plus ``replicas``.
    :param flink_configuration: Flink settings (values str, int, float or bool).
    :param flink_version: the operator's ``flinkVersion`` (e.g. ``v1_20``); the connection's by default.
    :param yunikorn_queue: the YuniKorn queue (the connection's by default). ``queue`` is Airflow's.
    :param architecture: ``amd64`` or ``arm64``: node selection and the per-architecture image.
    :param session_cluster: name of a session FlinkDeployment to run the job on instead.
    """

    DELETE_AFTER_SUCCESS = True
    adapter: EngineAdapter = _APPLICATION
    operator_extra_links = (MokaUILink(), FlinkDashboardLink(), JobLogLink())
    template_fields: Sequence[str] = (
        *MokaJobOperator.template_fields,
        "jar_uri",
        "entry_class",
        "args",
        "python_file",
        "python_module",
        "flink_configuration",
        "job_manager",
        "task_manager",
        "yunikorn_queue",
        "image",
    )
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "flink_configuration": "json"}

    def __init__(
        self,
        *,
        jar_uri: str | None = None,
        entry_class: str | None = None,
        args: Sequence[Any] | None = None,
        python_file: str | None = None,
        python_module: str | None = None,
        parallelism: int | None = None,
        job_manager: Mapping[str, Any] | None = None,
        task_manager: Mapping[str, Any] | None = None,
        flink_configuration: Mapping[str, Any] | None = None,
        flink_version: str | None = None,
        image: str | None = None,
        service_account: str | None = None,
        yunikorn_queue: str | None = None,
        architecture: str | None = None,
        session_cluster: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.jar_uri = jar_uri
        self.entry_class = entry_class
        self.args = args
        self.python_file = python_file
        self.python_module = python_module
        self.parallelism = parallelism
        self.job_manager = job_manager
        self.task_manager = task_manager
        self.flink_configuration = flink_configuration
        self.flink_version = flink_version
        self.image = image
        self.service_account = service_account
        self.yunikorn_queue = yunikorn_queue
        self.architecture = architecture
        self.session_cluster = session_cluster
        if session_cluster is not None:
            self.adapter = _SESSION_JOB

    def build_manifest(self, settings: MokaSettings, context: Context) -> dict[str, Any]:
        # The spec builders are imported at run time only: parsing a DAG does not need them.
        from moka_provider.engines.flink_spec import build_flink_deployment, build_flink_session_job

        job: dict[str, Any] = {
            "jar_uri": self.jar_uri,
            "entry_class": self.entry_class,
            "args": self.args,
            "python_file": self.python_file,
            "python_module": self.python_module,
            "parallelism": self.parallelism,
            "flink_configuration": self.flink_configuration,
            "application_file": self.application_template(context),
            "spec_overrides": self.spec_overrides,
        }
        if self.session_cluster is not None:
            return build_flink_session_job(settings=settings, deployment_name=self.session_cluster, **job)
        return build_flink_deployment(
            settings=settings,
            job_manager=self.job_manager,
            task_manager=self.task_manager,
            flink_version=self.flink_version,
            image=self.image,
            service_account=self.service_account,
            queue=self.yunikorn_queue,
            architecture=self.architecture,
            **job,
        )
