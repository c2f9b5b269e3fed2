"""Build a ``SparkApplication`` manifest from operator arguments, a YAML template, or both.

The spec is stacked from four layers with :func:`~moka_provider.jobs.merge.deep_merge` (mappings
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

from moka_provider.engines.resources import SPARK_APPLICATION
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
from moka_provider.hooks.connection_settings import MokaSettings
from moka_provider.jobs.merge import deep_merge
from moka_provider.jobs.schema import validate_against_crd

APPLICATION_TYPES = ("Python", "Scala", "Java", "R")
CONTAINER_IMAGE_CONF = "spark.kubernetes.container.image"

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
) -> dict[str, Any]:
    """A complete SparkApplication manifest (without ``metadata.name``/``namespace``: the caller's)."""
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
    _check_complete(spec, main_class, driver, executors, final_argument)
    _check_executor_bounds(spec, "dynamic_allocation" if dynamic_allocation is not None else final_argument)
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
    return bool(
        spec.get("image")
        or (spec.get("sparkConf") or {}).get(CONTAINER_IMAGE_CONF)
        or all(isinstance(role, Mapping) and role.get("image") for role in roles)
    )


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
