"""MokaSparkOperator: a Spark application on Moka (a spark-operator ``SparkApplication``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from moka_provider.engines.spark import SparkAdapter
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.links.job_links import JobLogLink, MokaUILink, SparkUILink
from moka_provider.operators.job import MokaJobOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from moka_provider.data import SparkRunner
    from moka_provider.settings import MokaSettings


def _reject_airflow_names(kwargs: dict[str, Any]) -> None:
    """Say where Spark settings go when given under a name Airflow uses for something else."""
    if isinstance(kwargs.get("executor"), Mapping):
        raise TypeError(
            "MokaSparkOperator: executor= names the Airflow executor of the task; "
            "put the Spark executors' resources in executors={...}"
        )
    if "deps" in kwargs:
        raise TypeError("MokaSparkOperator: put jars, py_files, packages, ... in spark_deps={...}")


class MokaSparkOperator(MokaJobOperator):
    """Run a Spark application on Moka and wait for it (in the worker, or deferred).

    The common case takes high-level arguments; ``application_file`` (a SparkApplication as YAML or
    JSON, inline or a path relative to the DAG folder / ``template_searchpath``, rendered with Jinja)
    and ``spec_overrides`` give full control. Merge order: connection defaults < application_file <
    arguments < spec_overrides (mappings merge, lists replace, ``None`` removes a key).

    :param application: the main file (``.py``, ``.jar``, ``.R``): ``local://``, ``s3a://``, ...
    :param main_class: the main class of a jar application.
    :param arguments: the application's arguments.
    :param spark_conf: Spark properties; values str, int, float or bool.
    :param driver: ``cores``, ``memory``, ``memory_overhead``, ``core_request``, ``core_limit``,
        ``env``, ``labels``, ``annotations``, ``node_selector``.
    :param executors: the executors' resources: the same keys as ``driver``, plus ``instances``.
    :param dynamic_allocation: ``min_executors``, ``max_executors``, ``initial_executors``.
    :param spark_deps: ``jars``, ``files``, ``py_files``, ``archives``, ``packages``, ``repositories``.
    :param yunikorn_queue: the YuniKorn queue the job runs in (the connection's by default).
        ``queue``, as on every operator, is the Airflow worker queue.

    ``executors``, ``spark_deps`` and ``yunikorn_queue`` are named so because ``executor``,
    ``deps`` and ``queue`` are attributes of every Airflow task that the scheduler reads (the
    Airflow executor, the task's scheduling dependencies, the worker queue).
    :param architecture: ``amd64`` or ``arm64``: node selection and the per-architecture image.
    :param openlineage_inject_parent_job_info: add the task's OpenLineage run to the Spark
        properties (``spark.openlineage.parent*``), so the job's OpenLineage events link to the task;
        Airflow's ``[openlineage] spark_inject_parent_job_info`` by default.
    :param openlineage_inject_transport_info: add where Airflow sends OpenLineage events
        (``spark.openlineage.transport.*``, http transports only); Airflow's ``[openlineage]
        spark_inject_transport_info`` by default.
    """

    adapter = SparkAdapter()
    operator_extra_links = (MokaUILink(), SparkUILink(), JobLogLink())
    template_fields: Sequence[str] = (
        *MokaJobOperator.template_fields,
        "application",
        "main_class",
        "arguments",
        "spark_conf",
        "hadoop_conf",
        "driver",
        "executors",
        "dynamic_allocation",
        "spark_deps",
        "yunikorn_queue",
        "image",
        "env",
    )
    template_fields_renderers = {**MokaJobOperator.template_fields_renderers, "spark_conf": "json"}

    def __init__(
        self,
        *,
        application: str | None = None,
        main_class: str | None = None,
        application_type: str | None = None,
        arguments: Sequence[Any] | None = None,
        spark_conf: Mapping[str, Any] | None = None,
        hadoop_conf: Mapping[str, Any] | None = None,
        driver: Mapping[str, Any] | None = None,
        executors: Mapping[str, Any] | None = None,
        dynamic_allocation: Mapping[str, Any] | None = None,
        spark_deps: Mapping[str, Sequence[str]] | None = None,
        yunikorn_queue: str | None = None,
        architecture: str | None = None,
        image: str | None = None,
        spark_version: str | None = None,
        service_account: str | None = None,
        env: Mapping[str, str] | None = None,
        time_to_live_seconds: int | None = None,
        openlineage_inject_parent_job_info: bool | None = None,
        openlineage_inject_transport_info: bool | None = None,
        **kwargs: Any,
    ) -> None:
        _reject_airflow_names(kwargs)
        super().__init__(**kwargs)
        self.yunikorn_queue = yunikorn_queue
        self.application = application
        self.main_class = main_class
        self.application_type = application_type
        self.arguments = arguments
        self.spark_conf = spark_conf
        self.hadoop_conf = hadoop_conf
        self.driver = driver
        self.executors = executors
        self.dynamic_allocation = dynamic_allocation
        self.spark_deps = spark_deps
        self.architecture = architecture
        self.image = image
        self.spark_version = spark_version
        self.service_account = service_account
        self.env = env
        self.time_to_live_seconds = time_to_live_seconds
        self.openlineage_inject_parent_job_info = openlineage_inject_parent_job_info
        self.openlineage_inject_transport_info = openlineage_inject_transport_info

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """Like every operator's ``partial``, saying where misplaced Spark settings belong."""
        _reject_airflow_names(kwargs)
        return MokaJobOperator.partial.__func__(cls, **kwargs)  # type: ignore[attr-defined]

    def build_manifest(self, settings: MokaSettings, context: Context) -> dict[str, Any]:
        # Run time only, as everything OpenLineage: parsing a DAG does not need it.
        from moka_provider.operators.openlineage import inject_task_openlineage

        manifest = spark_application(
            settings,
            {name: getattr(self, name) for name in SPARK_ARGUMENTS},
            application_file=self.application_template(context),
            spec_overrides=self.spec_overrides,
            namespace=self.namespace or settings.namespace,
        )
        return inject_task_openlineage(self, manifest, context)


#: MokaSparkOperator's Spark arguments (what ``spark_application`` takes).
SPARK_ARGUMENTS = (
    "application",
    "main_class",
    "application_type",
    "arguments",
    "spark_conf",
    "hadoop_conf",
    "driver",
    "executors",
    "dynamic_allocation",
    "spark_deps",
    "yunikorn_queue",
    "architecture",
    "image",
    "spark_version",
    "service_account",
    "env",
    "time_to_live_seconds",
)


def runner_location(settings: MokaSettings, runner: SparkRunner, moka_conn_id: str) -> str:
    """Where the driver finds ``runner``: the ``moka`` connection's field of that name."""
    location: str | None = getattr(settings, runner.name)
    if not location:
        raise MokaJobSpecError(
            runner.name,
            f"the moka connection {moka_conn_id!r} does not say where the {runner.title} is: "
            f"set its {runner.name} (local:// in Moka's Spark image, or s3a://)",
        )
    return location


def spark_application(
    settings: MokaSettings,
    arguments: Mapping[str, Any],
    *,
    application_file: str | Mapping[str, Any] | None = None,
    spec_overrides: Mapping[str, Any] | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """The validated SparkApplication for MokaSparkOperator ``arguments`` (names as the operator's);
    ``namespace``, when given, is the one it will be created in."""
    # The spec builder is imported at run time only: parsing a DAG does not need it.
    from moka_provider.engines.spark_spec import build_spark_application

    unknown = set(arguments) - set(SPARK_ARGUMENTS)
    if unknown:
        raise TypeError(f"not MokaSparkOperator Spark arguments: {', '.join(sorted(unknown))}")
    return build_spark_application(
        settings=settings,
        application_file=application_file,
        spec_overrides=spec_overrides,
        namespace=namespace,
        **arguments,
    )
