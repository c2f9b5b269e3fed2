"""Build a ``SparkApplication`` manifest from operator arguments, a YAML template, or both.

The spec is stacked from four layers with :func:`~moka_provider.merge.deep_merge` (mappings
merge, lists and scalars replace, ``None`` removes), later layers winning:

1. **connection defaults** (:class:`MokaSettings`): image (for the architecture), Spark version,
   driver service account, YuniKorn queue, ``mode: cluster`` and empty ``driver``/``executor``.
   They only fill what the layers above leave missing;
2. **application_file**: a whole SparkApplication, as YAML/JSON text or a dict;
3. **high-level arguments** given explicitly (``None`` means "not given");
4. **spec_overrides**: a raw fragment of ``spec`` for whatever the arguments do not cover.

Every mistake is one :class:`MokaJobSpecError` naming the argument to fix, and the result is
checked against the official CRD before it is returned. Pure logic: no I/O, no Kubernetes client
(``kubernetes.utils`` is imported only to check a CPU quantity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from moka_provider.engines.values import (
    ARCH_LABEL,
    YUNIKORN,
    as_int,
    blamed_argument,
    check_architecture,
    checked_keys,
    count,
    cpu_quantity,
    flag,
    manifest_of,
    merged_env,
    parse_manifest_text,
    program_arguments,
    required_text,
    stacked_spec,
    string_list,
    text_map,
)
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.merge import deep_merge
from moka_provider.resources import SPARK_APPLICATION
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings

APPLICATION_TYPES = ("Python", "Scala", "Java", "R")
CONTAINER_IMAGE_CONF = "spark.kubernetes.container.image"
NAMESPACE_CONF = "spark.kubernetes.namespace"
#: The shortest ``timeToLiveSeconds`` Moka accepts: the operator deletes a finished application
#: that many seconds after it ended, and the task must still find it to read its end and its log.
MIN_TIME_TO_LIVE_SECONDS = 60
#: The retry interval (seconds) the operator's defaulting webhook gives OnFailure/Always policies.
DEFAULT_RETRY_INTERVAL_SECONDS = 5

_SERVICE_ACCOUNT_REASON = "configure the service account via the CRD spec instead"
_CREDENTIALS_REASON = "authentication credentials are managed by the operator"
_MANAGED_REASON = "this value is managed by the operator"
_IMAGE_REASON = "use the image field on the CRD instead"
#: sparkConf keys the spark-operator's validating webhook refuses, with its reason and where the
#: setting goes on Moka. Mirrors ``deniedSparkConfKeys`` in internal/webhook/sparkconf_validator.go
#: (``validateSparkConf``, called by ``SparkApplicationValidator.validateSpec``), kubeflow/spark-operator.
DENIED_SPARK_CONF: dict[str, tuple[str, str]] = {
    "spark.kubernetes.authenticate.driver.serviceAccountName": (
        _SERVICE_ACCOUNT_REASON,
        "use service_account= (spec.driver.serviceAccount)",
    ),
    "spark.kubernetes.authenticate.executor.serviceAccountName": (
        _SERVICE_ACCOUNT_REASON,
        "set spec.executor.serviceAccount in spec_overrides",
    ),
    **{
        f"spark.kubernetes.authenticate.{role}{token}": (
            _CREDENTIALS_REASON,
            "leave it out and give the driver a service account (service_account=)",
        )
        for role in ("", "driver.", "executor.")
        for token in ("oauthToken", "oauthTokenFile")
    },
    "spark.master": (_MANAGED_REASON, "leave it out: Moka runs Spark on its Kubernetes cluster"),
    "spark.kubernetes.driver.master": (_MANAGED_REASON, "leave it out"),
    CONTAINER_IMAGE_CONF: (_IMAGE_REASON, "use image= (spec.image)"),
    "spark.kubernetes.driver.container.image": (
        _IMAGE_REASON,
        "use image= (spec.image), or spec.driver.image in spec_overrides",
    ),
    "spark.kubernetes.executor.container.image": (
        _IMAGE_REASON,
        "use image= (spec.image), or spec.executor.image in spec_overrides",
    ),
}

_TYPE_BY_EXTENSION = {"py": "Python", "r": "R", "jar": "Scala"}
_JVM_TYPES = ("Scala", "Java")

#: ``driver=`` / ``executor=`` keys and the CRD fields they fill.
_ROLE_FIELDS = {
    "cores": "cores",
    "memory": "memory",
    "memory_overhead": "memoryOverhead",
    "core_request": "coreRequest",
    "core_limit": "coreLimit",
    "env": "env",
    "labels": "labels",
    "annotations": "annotations",
    "node_selector": "nodeSelector",
}
_EXECUTOR_FIELDS = {**_ROLE_FIELDS, "instances": "instances"}
_DYNAMIC_ALLOCATION_FIELDS = {
    "enabled": "enabled",
    "min_executors": "minExecutors",
    "max_executors": "maxExecutors",
    "initial_executors": "initialExecutors",
    "shuffle_tracking_enabled": "shuffleTrackingEnabled",
    "shuffle_tracking_timeout": "shuffleTrackingTimeout",
}
_DEPS_FIELDS = {
    "jars": "jars",
    "files": "files",
    "py_files": "pyFiles",
    "archives": "archives",
    "packages": "packages",
    "exclude_packages": "excludePackages",
    "repositories": "repositories",
}

_SPARK_SIZE = re.compile(r"^[0-9]+([kmgtp]b?|b)?$", re.IGNORECASE)
_KUBERNETES_BINARY_SIZE = re.compile(r"^([0-9]+)([KMGTP])i$")
_MEMORY_FORMS = (
    "Spark sizes such as '512m', '4g' or '1024' (MiB), or Kubernetes quantities such as '512Mi', '4Gi'"
)


def build_spark_application(
    *,
    settings: MokaSettings,
    application: str | None = None,
    main_class: str | None = None,
    application_type: str | None = None,
    arguments: Sequence[Any] | None = None,
    spark_conf: Mapping[str, Any] | None = None,
    hadoop_conf: Mapping[str, Any] | None = None,
    driver: Mapping[str, Any] | None = None,
    executors: Mapping[str, Any] | None = None,
    dynamic_allocation: Mapping[str, Any] | None = None,
    spark_deps: Mapping[str, Any] | None = None,
    yunikorn_queue: str | None = None,
    architecture: str | None = None,
    image: str | None = None,
    spark_version: str | None = None,
    service_account: str | None = None,
    env: Mapping[str, Any] | None = None,
    time_to_live_seconds: int | None = None,
    application_file: str | Mapping[str, Any] | None = None,
    spec_overrides: Mapping[str, Any] | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """A complete SparkApplication manifest (without ``metadata.name``/``namespace``: the caller's).

    ``namespace`` is the one the application will be created in, when known: a
    ``spark.kubernetes.namespace`` naming another is refused (as the operator's webhook does).
    """
    template = parse_application_file(application_file) if application_file is not None else {}
    template_spec = template.get("spec") or {}
    check_architecture(architecture)
    explicit: dict[str, Any] = {}
    for fields in (
        _application_fields(application, application_type, main_class, arguments, template_spec),
        _config_fields(spark_conf, hadoop_conf, spark_deps, dynamic_allocation),
        _pod_fields(driver, executors, env, service_account, architecture, template_spec),
        _run_fields(yunikorn_queue, image, spark_version, time_to_live_seconds),
    ):
        explicit = deep_merge(explicit, fields)
    spec = stacked_spec(
        template_spec,
        explicit,
        lambda given: _connection_defaults(settings, architecture, given),
        spec_overrides,
    )
    final_argument = blamed_argument(application_file, spec_overrides)
    layers = _Layers(template_spec, spec_overrides, final_argument)
    _check_spark_conf(spec, spark_conf, namespace, layers)
    _check_complete(spec, main_class, driver, executors, final_argument)
    _check_executor_bounds(spec, "dynamic_allocation" if dynamic_allocation is not None else final_argument)
    _check_operator_rules(spec, layers)
    _check_restart_policy(spec, layers)
    _check_time_to_live(spec, time_to_live_seconds, layers)
    manifest = manifest_of(SPARK_APPLICATION, template, spec)
    validate_against_crd(SPARK_APPLICATION, manifest, argument=final_argument)
    return manifest


def parse_application_file(
    value: str | Mapping[str, Any], argument: str = "application_file"
) -> dict[str, Any]:
    """One SparkApplication document from a dict (copied) or YAML/JSON text (see
    :func:`~moka_provider.engines.values.parse_manifest_text`)."""
    return parse_manifest_text(value, SPARK_APPLICATION, argument)


def _application_fields(
    application: Any, application_type: Any, main_class: Any, arguments: Any, template_spec: Mapping[str, Any]
) -> dict[str, Any]:
    """``mainApplicationFile``, ``type`` (from the file's extension unless given), ``mainClass``, ``arguments``."""
    fields: dict[str, Any] = {}
    if application_type is not None and application_type not in APPLICATION_TYPES:
        raise MokaJobSpecError(
            "application_type", f"{application_type!r} is not one of {', '.join(APPLICATION_TYPES)}"
        )
    if application is not None:
        path = fields["mainApplicationFile"] = required_text(application, "application")
        name, dot, extension = path.rsplit("/", 1)[-1].rpartition(".")
        inferred = _TYPE_BY_EXTENSION.get(extension.lower()) if name and dot else None
        fits = application_type in (None, inferred) or {inferred, application_type} <= set(_JVM_TYPES)
        if inferred and not fits:
            raise MokaJobSpecError(
                "application_type", f"{application_type} does not fit {path!r} ({inferred})"
            )
        if not (application_type or inferred or template_spec.get("type")):
            raise MokaJobSpecError(
                "application",
                f"cannot tell the type of {path!r} from its extension (.py, .jar, .R); "
                f"pass application_type= ({', '.join(APPLICATION_TYPES)})",
            )
        application_type = application_type or inferred
    if application_type:
        fields["type"] = application_type
    if main_class is not None:
        fields["mainClass"] = required_text(main_class, "main_class")
    if arguments is not None:
        fields["arguments"] = program_arguments(arguments, "arguments")
    return fields


def _config_fields(spark_conf: Any, hadoop_conf: Any, deps: Any, dynamic_allocation: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if spark_conf is not None:
        fields["sparkConf"] = text_map(spark_conf, "spark_conf")
    if hadoop_conf is not None:
        fields["hadoopConf"] = text_map(hadoop_conf, "hadoop_conf")
    if deps is not None:
        fields["deps"] = _deps(deps)
    if dynamic_allocation is not None:
        fields["dynamicAllocation"] = _dynamic_allocation(dynamic_allocation)
    return fields


def _pod_fields(
    driver: Any,
    executor: Any,
    env: Any,
    service_account: Any,
    architecture: str | None,
    template_spec: Mapping[str, Any],
) -> dict[str, Any]:
    """``driver`` and ``executor``: their own settings, the shared ``env``, account and architecture."""
    common_env = text_map(env, "env") if env is not None else {}
    fields: dict[str, Any] = {}
    for role, argument, values, allowed in (
        ("driver", "driver", driver, _ROLE_FIELDS),
        ("executor", "executors", executor, _EXECUTOR_FIELDS),
    ):
        if role_fields := _role_fields(argument, values, allowed, template_spec.get(role), common_env):
            fields[role] = role_fields
    if service_account is not None:
        account = required_text(service_account, "service_account")
        fields = deep_merge(fields, {"driver": {"serviceAccount": account}})
    if architecture is not None:
        fields = deep_merge(fields, _arch_selector(architecture, template_spec))
    return fields


def _run_fields(queue: Any, image: Any, spark_version: Any, time_to_live_seconds: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if queue is not None:
        fields.update(_yunikorn(required_text(queue, "yunikorn_queue")))
    if image is not None:
        fields["image"] = required_text(image, "image")
    if spark_version is not None:
        fields["sparkVersion"] = required_text(spark_version, "spark_version")
    if time_to_live_seconds is not None:
        fields["timeToLiveSeconds"] = count(time_to_live_seconds, "time_to_live_seconds", minimum=0)
    return fields


def _role_fields(
    name: str, values: Any, allowed: Mapping[str, str], template_role: Any, common_env: Mapping[str, str]
) -> dict[str, Any]:
    """``driver``/``executors`` (the argument ``name``) from its snake_case keys, plus the shared ``env``."""
    values = checked_keys({} if values is None else values, name, allowed)
    fields: dict[str, Any] = {}
    for key, value in values.items():
        argument = f"{name}[{key!r}]"
        if key in ("cores", "instances"):
            fields[allowed[key]] = count(value, argument, minimum=1)
        elif key in ("memory", "memory_overhead"):
            fields[allowed[key]] = _memory(value, argument)
        elif key in ("core_request", "core_limit"):
            fields[allowed[key]] = cpu_quantity(value, argument)
        elif key in ("labels", "annotations", "node_selector"):
            fields[allowed[key]] = text_map(value, argument)
    if role_env := {**common_env, **(text_map(values["env"], f"{name}['env']") if "env" in values else {})}:
        existing = template_role.get("env") if isinstance(template_role, Mapping) else None
        fields["env"] = merged_env(existing, role_env)
    return fields


def _memory(value: Any, argument: str) -> str:
    """A Spark memory size; Kubernetes binary quantities (``4Gi``) become Spark's form (``4g``)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str):
        text = text.strip()
        if binary := _KUBERNETES_BINARY_SIZE.match(text):
            text = f"{binary[1]}{binary[2].lower()}"
        if _SPARK_SIZE.match(text) and int(re.sub(r"\D", "", text)) > 0:
            return text
    raise MokaJobSpecError(argument, f"{value!r} is not a memory size; use {_MEMORY_FORMS}")


def _dynamic_allocation(values: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"enabled": True}
    for key, value in checked_keys(values, "dynamic_allocation", _DYNAMIC_ALLOCATION_FIELDS).items():
        argument = f"dynamic_allocation[{key!r}]"
        if key in ("enabled", "shuffle_tracking_enabled"):
            fields[_DYNAMIC_ALLOCATION_FIELDS[key]] = flag(value, argument)
        else:
            minimum = 1 if key == "max_executors" else 0
            fields[_DYNAMIC_ALLOCATION_FIELDS[key]] = count(value, argument, minimum=minimum)
    return fields


def _deps(values: Any) -> dict[str, list[str]]:
    return {
        _DEPS_FIELDS[key]: string_list(items, f"spark_deps[{key!r}]")
        for key, items in checked_keys(values, "spark_deps", _DEPS_FIELDS).items()
    }


def _yunikorn(queue: str) -> dict[str, Any]:
    return {"batchScheduler": YUNIKORN, "batchSchedulerOptions": {"queue": queue}}


def _arch_selector(architecture: str, template_spec: Mapping[str, Any]) -> dict[str, Any]:
    """Pin driver and executors to ``architecture``'s nodes.

    The operator refuses node selectors at both the application and the pod level, so the label
    goes to the pods unless the template already uses the (older) application-level field.
    """
    selector = {"nodeSelector": {ARCH_LABEL: architecture}}
    if template_spec.get("nodeSelector"):
        return selector
    return {"driver": selector, "executor": selector}


def _connection_defaults(
    settings: MokaSettings, architecture: str | None, spec: Mapping[str, Any]
) -> dict[str, Any]:
    """What the connection supplies; laid *under* ``spec``, so it only fills gaps."""
    defaults: dict[str, Any] = {"mode": "cluster", "driver": {}, "executor": {}}
    if not _names_image(spec) and (image := settings.image_for("spark", architecture or "amd64")):
        defaults["image"] = image
    if version := settings.versions.get("spark"):
        defaults["sparkVersion"] = version
    if settings.service_account:
        defaults["driver"]["serviceAccount"] = settings.service_account
    if settings.queue and spec.get("batchScheduler", YUNIKORN) == YUNIKORN:
        defaults.update(_yunikorn(settings.queue))
    return defaults


def _names_image(spec: Mapping[str, Any]) -> bool:
    """Whether ``spec`` says which image to run, in any of the places the operator reads."""
    roles = [spec.get(role) or {} for role in ("driver", "executor")]
    return bool(spec.get("image") or all(isinstance(role, Mapping) and role.get("image") for role in roles))


def _check_complete(
    spec: Mapping[str, Any], main_class: Any, driver: Any, executor: Any, final_argument: str
) -> None:
    """The fields no layer may leave out, and combinations the operator refuses."""
    if not spec.get("mainApplicationFile"):
        raise MokaJobSpecError(
            "application",
            "no application: pass application= or set spec.mainApplicationFile in application_file",
        )
    if not spec.get("type"):
        raise MokaJobSpecError(
            "application_type",
            f"no application type: pass application_type= ({', '.join(APPLICATION_TYPES)})",
        )
    if main_class is not None and spec.get("type") not in _JVM_TYPES:
        raise MokaJobSpecError(
            "main_class",
            f"main_class is for Scala or Java applications, not {spec.get('type')}",
        )
    if not spec.get("sparkVersion"):
        raise MokaJobSpecError(
            "spark_version",
            "no Spark version: pass spark_version= or set spark_version on the moka connection",
        )
    if not _names_image(spec):
        raise MokaJobSpecError("image", "no image: pass image= or set spark_image on the moka connection")
    if spec.get("nodeSelector") and any(
        isinstance(spec.get(role), Mapping) and spec[role].get("nodeSelector")
        for role in ("driver", "executor")
    ):
        given = [
            role
            for role, values in (("driver", driver), ("executors", executor))
            if values and "node_selector" in values
        ]
        raise MokaJobSpecError(
            given[0] if given else final_argument,
            "node selectors are set both on spec.nodeSelector and on the driver/executor, which the "
            "Spark operator refuses; set them on one level only",
        )


def _check_executor_bounds(spec: Mapping[str, Any], argument: str) -> None:
    """min_executors <= initial_executors, and neither they nor executor instances above max_executors."""
    allocation = spec.get("dynamicAllocation")
    if not isinstance(allocation, Mapping) or allocation.get("enabled") is not True:
        return
    executor = spec.get("executor")
    instances = as_int(executor.get("instances")) if isinstance(executor, Mapping) else None
    minimum, initial, maximum = (as_int(allocation.get(f"{k}Executors")) for k in ("min", "initial", "max"))
    if minimum is not None and initial is not None and minimum > initial:
        raise MokaJobSpecError(
            argument, f"initial_executors ({initial}) is less than min_executors ({minimum})"
        )
    for name, value in (
        ("min_executors", minimum),
        ("initial_executors", initial),
        ("executor instances", instances),
    ):
        if value is not None and maximum is not None and value > maximum:
            raise MokaJobSpecError(argument, f"{name} ({value}) is greater than max_executors ({maximum})")


# -- what the spark-operator refuses, or accepts and never finishes ---------------------------------


class _Layers:
    """Which layer a field of the final spec most likely comes from, for naming it in an error."""

    def __init__(self, template_spec: Mapping[str, Any], spec_overrides: Any, final_argument: str) -> None:
        self.template_spec = template_spec
        self.overrides = spec_overrides if isinstance(spec_overrides, Mapping) else {}
        self.final_argument = final_argument

    def blame(self, field: str, argument: str | None = None, given: bool = False) -> str:
        """``spec_overrides`` if it sets ``field``, else ``argument`` if ``given``, else the template."""
        if field in self.overrides:
            return "spec_overrides"
        if argument is not None and given:
            return argument
        if field in self.template_spec:
            return "application_file"
        return self.final_argument


def _check_spark_conf(
    spec: Mapping[str, Any], spark_conf: Any, namespace: str | None, layers: _Layers
) -> None:
    """The sparkConf keys the operator's webhook refuses.

    Mirrors ``validateSparkConf`` (internal/webhook/sparkconf_validator.go, kubeflow/spark-operator),
    which ``SparkApplicationValidator.validateSpec`` runs on create: a denied key, or a
    ``spark.kubernetes.namespace`` other than the application's, fails the create.
    """
    conf = spec.get("sparkConf")
    if not isinstance(conf, Mapping):
        return

    def blamed(key: str) -> str:
        overrides = layers.overrides.get("sparkConf")
        if isinstance(overrides, Mapping) and key in overrides:
            return "spec_overrides"
        if isinstance(spark_conf, Mapping) and key in spark_conf:
            return f"spark_conf[{key!r}]"
        return layers.blame("sparkConf")

    for key, value in conf.items():
        if key in DENIED_SPARK_CONF:
            reason, instead = DENIED_SPARK_CONF[key]
            raise MokaJobSpecError(
                blamed(key),
                f"the Spark operator refuses the sparkConf key {key!r} ({reason}); {instead}",
            )
        if key == NAMESPACE_CONF and namespace is not None and value != namespace:
            raise MokaJobSpecError(
                blamed(key),
                f"{NAMESPACE_CONF} is {value!r} but the job runs in the namespace {namespace!r}, which the "
                "Spark operator refuses; leave the key out (pass namespace= to choose the namespace)",
            )


def _check_operator_rules(spec: Mapping[str, Any], layers: _Layers) -> None:
    """The rest of ``SparkApplicationValidator.validateSpec`` (internal/webhook/sparkapplication_validator.go).

    ``validateSparkVersion``: a driver or executor pod template needs sparkVersion 3.0.0 or later;
    and the ``driverIngressOptions`` checks (a URL format each, no port or format twice).
    """
    roles = [role for role in ("driver", "executor") if isinstance(spec.get(role), Mapping)]
    templated = [role for role in roles if spec[role].get("template") is not None]
    if templated and _semver_below_3(spec.get("sparkVersion")):
        raise MokaJobSpecError(
            layers.blame(templated[0]),
            f"spec.{templated[0]}.template (a pod template) needs Spark 3.0.0 or later, and sparkVersion is "
            f"{spec.get('sparkVersion')!r}: the Spark operator refuses it",
        )
    options = spec.get("driverIngressOptions")
    ports: set[Any] = set()
    formats: set[Any] = set()
    for index, option in enumerate(options if isinstance(options, list) else []):
        if not isinstance(option, Mapping):
            continue
        port, url_format = option.get("servicePort"), option.get("ingressURLFormat")
        problem = (
            "has no ingressURLFormat"
            if not url_format
            else f"repeats servicePort {port}"
            if port in ports
            else f"repeats ingressURLFormat {url_format!r}"
            if url_format in formats
            else None
        )
        if problem:
            raise MokaJobSpecError(
                layers.blame("driverIngressOptions"),
                f"spec.driverIngressOptions[{index}] {problem}, which the Spark operator refuses",
            )
        ports.add(port)
        formats.add(url_format)


_SEMVER = re.compile(r"^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def _semver_below_3(version: Any) -> bool:
    """Whether ``version`` sorts below 3.0.0 as the operator's ``util.CompareSemanticVersion``
    (golang.org/x/mod/semver, pkg/util/util.go) sorts it: an invalid or missing version sorts lowest."""
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if not match:
        return True
    major, minor, patch = (int(part or 0) for part in match.group(1, 2, 3))
    return major < 3 or ((major, minor, patch) == (3, 0, 0) and bool(match[4]))


def _check_restart_policy(spec: dict[str, Any], layers: _Layers) -> None:
    """Refuse ``Always``; give OnFailure retries the interval they need.

    ``Always`` reruns a finished driver whether it succeeded or failed, so the application never
    reaches COMPLETED or FAILED (``util.ShouldRetry`` in pkg/util/sparkapplication.go is true for
    every SUCCEEDING/FAILING/SUBMISSION_FAILED application; ``reconcileSucceedingSparkApplication``
    in internal/controller/sparkapplication/controller.go then goes to PENDING_RERUN): a task
    would wait forever.

    A retry needs its interval: ``util.TimeUntilNextRetryDue`` errors on a nil
    ``onFailureRetryInterval`` / ``onSubmissionFailureRetryInterval`` and the application stays
    FAILING / SUBMISSION_FAILED for good. Only the operator's mutating webhook fills them in
    (``SetSparkApplicationDefaults`` in api/v1beta2/defaults.go: 5 seconds), and the CRD has no
    default; so Moka sets that same default where retries are asked for without an interval (a
    policy without retry counts never retries, and never reads the interval).
    """
    policy = spec.get("restartPolicy")
    if not isinstance(policy, Mapping):
        return
    if policy.get("type") == "Always":
        raise MokaJobSpecError(
            layers.blame("restartPolicy"),
            "restartPolicy type Always reruns the application even after it succeeded, so it never "
            "completes or fails and the task would wait forever; use OnFailure with onFailureRetries "
            "(or Airflow's retries)",
        )
    if policy.get("type") != "OnFailure":
        return
    filled = dict(policy)
    for retries, interval in (
        ("onFailureRetries", "onFailureRetryInterval"),
        ("onSubmissionFailureRetries", "onSubmissionFailureRetryInterval"),
    ):
        if policy.get(retries) is not None and policy.get(interval) is None:
            filled[interval] = DEFAULT_RETRY_INTERVAL_SECONDS
    spec["restartPolicy"] = filled


def _check_time_to_live(spec: Mapping[str, Any], time_to_live_seconds: Any, layers: _Layers) -> None:
    """A ``timeToLiveSeconds`` under :data:`MIN_TIME_TO_LIVE_SECONDS`, 0 included, is refused.

    The operator deletes a COMPLETED/FAILED application once ``now - terminationTime > ttl``
    (``reconcileTerminatedSparkApplication`` in internal/controller/sparkapplication/controller.go,
    ``util.IsExpired``); a value <= 0 deletes it at once. The task must still find it to see how
    it ended and to read the driver's log.
    """
    ttl = spec.get("timeToLiveSeconds")
    if ttl is None or isinstance(ttl, bool) or not isinstance(ttl, int) or ttl >= MIN_TIME_TO_LIVE_SECONDS:
        return
    raise MokaJobSpecError(
        layers.blame("timeToLiveSeconds", "time_to_live_seconds", time_to_live_seconds is not None),
        f"timeToLiveSeconds {ttl} lets the Spark operator delete the application {max(ttl, 0)} s after it "
        "ends, too soon for the task to read how it ended and its driver log; use at least "
        f"{MIN_TIME_TO_LIVE_SECONDS} (or leave it out)",
    )
