"""Build a ``FlinkDeployment`` (application mode) or ``FlinkSessionJob`` for a Flink batch job.

Layers as for Spark (see :func:`~moka_provider.engines.values.stacked_spec`), later winning:
connection defaults < ``application_file`` < arguments < ``spec_overrides``. The connection
supplies the image (for the architecture), ``flinkVersion`` (``v1_20`` or ``1.20`` both read),
the service account (else ``flink``, the job account the operator's Helm chart creates: the
operator refuses a deployment without one), the YuniKorn queue, ``job.parallelism: 1`` and
``job.upgradeMode: stateless``, and 1 CPU / ``2048m`` for a JobManager or TaskManager that no
layer sizes (the operator refuses a deployment whose memory is unknown).

What Moka adds or refuses on top of the CRD:

- ``flinkConfiguration`` always has ``execution.runtime-mode: BATCH``; another mode, from any
  layer, is an error naming that layer. Argument values are written as text (``true``, ``4``).
- Python jobs run as the upstream python example does: entry class ``PythonDriver`` with
  ``-py <file>`` or ``-pym <module>`` before the program's own ``args``. No ``jarURI`` is needed
  (the operator and Flink find the flink-python jar themselves; ``jar_uri`` adds a jar if given).
- ``jobManager``/``taskManager`` sizes go to the ``resource`` field (``cpu`` a number, ``memory`` a
  Flink size such as ``2048m``/``2g`` or a Kubernetes quantity such as ``2Gi``), which every
  operator release reads; when the template sizes that role with the newer ``resources``
  (requests/limits), the arguments go to ``resources.requests`` instead, which that operator
  prefers.
- The YuniKorn queue is set on the pods through ``podTemplate`` (shared by JobManager and
  TaskManagers): the label ``yunikorn.apache.org/queue`` and ``schedulerName: yunikorn``. The
  connection's queue is only applied when the pod template does not name another scheduler. No
  YuniKorn application id is set (the job's name is the caller's, given later), so YuniKorn
  groups the pods under its generated id; an explicit ``yunikorn.apache.org/app-id`` label can be
  added with ``spec_overrides``.
- ``architecture`` pins the pods with a ``kubernetes.io/arch`` node selector in ``podTemplate``.
- A ``flinkVersion`` the operator no longer supports (before :data:`MIN_FLINK_VERSION`), from any
  layer, is refused: the operator would leave the resource without any status.
- A FlinkSessionJob's ``jarURI`` must use a scheme the operator allows by default (``https``) and
  not name a loopback, link-local, site-local, wildcard or multicast host.

Pure logic, checked against the official CRD before it is returned.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from moka_provider.engines.values import (
    ARCH_LABEL,
    YUNIKORN,
    YUNIKORN_QUEUE_LABEL,
    blamed_argument,
    check_architecture,
    checked_keys,
    count,
    cpu_quantity,
    manifest_of,
    memory_quantity,
    parse_manifest_text,
    parse_quantity,
    program_arguments,
    required_text,
    stacked_spec,
    text_map,
)
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.merge import deep_merge
from moka_provider.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings

PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"
RUNTIME_MODE = "execution.runtime-mode"
#: The job service account the flink-kubernetes-operator's Helm chart creates.
DEFAULT_SERVICE_ACCOUNT = "flink"
#: JobManager / TaskManager size when no layer gives one (the upstream examples' size).
DEFAULT_RESOURCE = {"cpu": 1, "memory": "2048m"}

#: ``job_manager=`` / ``task_manager=`` keys and the ``resource`` fields they fill.
_ROLE_FIELDS = {"cpu": "cpu", "memory": "memory", "ephemeral_storage": "ephemeralStorage"}
_TASK_MANAGER_FIELDS = {**_ROLE_FIELDS, "replicas": "replicas"}
#: The same in the newer ``resources`` (Kubernetes ResourceRequirements) field.
_REQUEST_NAMES = {"cpu": "cpu", "memory": "memory", "ephemeralStorage": "ephemeral-storage"}
#: Flink's own memory sizes (``MemorySize``): the operator reads these before Kubernetes quantities.
_FLINK_SIZE = re.compile(r"^[0-9]+ ?(k|kb|m|mb|g|gb|t|tb)$", re.IGNORECASE)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://.")
_VERSION = re.compile(r"^v?([0-9]+)[._]([0-9]+)([._][0-9]+)*$")
_DEPLOYMENT_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,43}[a-z0-9])?$")

#: The oldest ``flinkVersion`` the operator runs (``FlinkVersion.isSupported``).
MIN_FLINK_VERSION = "v1_15"
#: The operator settings (SECTION_SYSTEM, operator-wide) that govern a FlinkSessionJob's jarURI,
#: and their defaults: ``KubernetesOperatorConfigOptions.JAR_URI_ALLOWED_SCHEMES`` and
#: ``JAR_URI_DISALLOW_RESTRICTED_HOSTS`` (flink-kubernetes-operator, config/KubernetesOperatorConfigOptions.java).
JAR_URI_SCHEMES_OPTION = "kubernetes.operator.user.artifacts.allowed-schemes"
JAR_URI_DEFAULT_SCHEMES = ("https",)
JAR_URI_HOSTS_OPTION = "kubernetes.operator.user.artifacts.disallow-restricted-hosts"
#: What ``InetAddress`` calls loopback, link-local, site-local, wildcard (any-local) and multicast.
_RESTRICTED_NETWORKS = tuple(
    (ipaddress.ip_network(network), kind)
    for network, kind in (
        ("127.0.0.0/8", "loopback"),
        ("::1/128", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::/10", "link-local"),
        ("10.0.0.0/8", "site-local"),
        ("172.16.0.0/12", "site-local"),
        ("192.168.0.0/16", "site-local"),
        ("fec0::/10", "site-local"),
        ("0.0.0.0/32", "wildcard"),
        ("::/128", "wildcard"),
        ("224.0.0.0/4", "multicast"),
        ("ff00::/8", "multicast"),
    )
)
_IPV4_SHORTHAND = re.compile(r"^[0-9a-fx.]+$")


def build_flink_deployment(
    *,
    settings: MokaSettings,
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
    queue: str | None = None,
    architecture: str | None = None,
    application_file: str | Mapping[str, Any] | None = None,
    spec_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete FlinkDeployment running one batch job (without ``metadata.name``/``namespace``).

    :param jar_uri: the job's jar (``local:///opt/flink/usrlib/job.jar``, ``s3://...``).
    :param entry_class: its main class, if the jar's manifest does not name one.
    :param args: the program's arguments (after ``-py``/``-pym`` for a Python job).
    :param python_file: a PyFlink program (a path in the image); or ``python_module``.
    :param job_manager: ``cpu``, ``memory``, ``ephemeral_storage``.
    :param task_manager: the same, plus ``replicas``.
    """
    template = parse_manifest_text(application_file, FLINK_DEPLOYMENT) if application_file is not None else {}
    template_spec = template.get("spec") or {}
    check_architecture(architecture)
    explicit: dict[str, Any] = {}
    if image is not None:
        explicit["image"] = required_text(image, "image")
    if flink_version is not None:
        explicit["flinkVersion"] = flink_version_name(flink_version)
    if flink_configuration is not None:
        explicit["flinkConfiguration"] = text_map(flink_configuration, "flink_configuration")
    if service_account is not None:
        explicit["serviceAccount"] = required_text(service_account, "service_account")
    pod: dict[str, Any] = {}
    if queue is not None:
        pod = _yunikorn(required_text(queue, "queue"))
    if architecture is not None:
        pod = deep_merge(pod, {"spec": {"nodeSelector": {ARCH_LABEL: architecture}}})
    if pod:
        explicit["podTemplate"] = pod
    for role, argument, values, allowed in (
        ("jobManager", "job_manager", job_manager, _ROLE_FIELDS),
        ("taskManager", "task_manager", task_manager, _TASK_MANAGER_FIELDS),
    ):
        if values is not None:
            explicit[role] = _role_fields(argument, values, allowed, template_spec.get(role))
    explicit.update(_program_fields(jar_uri, entry_class, args, python_file, python_module, parallelism))
    spec = stacked_spec(
        template_spec,
        explicit,
        lambda given: _deployment_defaults(settings, architecture, given),
        spec_overrides,
    )
    final_argument = blamed_argument(application_file, spec_overrides)
    _check_job(spec)
    if not spec.get("flinkVersion"):
        raise MokaJobSpecError(
            "flink_version",
            "no Flink version: pass flink_version= or set flink_version on the moka connection",
        )
    _check_supported_version(spec, flink_version, template_spec, spec_overrides)
    if not spec.get("image"):
        raise MokaJobSpecError("image", "no image: pass image= or set flink_image on the moka connection")
    _run_in_batch_mode(spec, template_spec, flink_configuration, spec_overrides, final_argument)
    manifest = manifest_of(FLINK_DEPLOYMENT, template, spec)
    validate_against_crd(FLINK_DEPLOYMENT, manifest, argument=final_argument)
    return manifest


def build_flink_session_job(
    *,
    settings: MokaSettings,
    deployment_name: str | None = None,
    jar_uri: str | None = None,
    entry_class: str | None = None,
    args: Sequence[Any] | None = None,
    python_file: str | None = None,
    python_module: str | None = None,
    parallelism: int | None = None,
    flink_configuration: Mapping[str, Any] | None = None,
    application_file: str | Mapping[str, Any] | None = None,
    spec_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete FlinkSessionJob: one batch job on the session cluster ``deployment_name``.

    The session cluster (a FlinkDeployment without ``spec.job``) owns image, version, sizes and
    queue, so ``settings`` supplies nothing here today; it is taken for the builders' common shape.
    """
    template = (
        parse_manifest_text(application_file, FLINK_SESSION_JOB) if application_file is not None else {}
    )
    template_spec = template.get("spec") or {}
    explicit: dict[str, Any] = {}
    if deployment_name is not None:
        name = required_text(deployment_name, "deployment_name")
        if not _DEPLOYMENT_NAME.match(name):
            raise MokaJobSpecError(
                "deployment_name",
                f"{name!r} is not a FlinkDeployment name (a lowercase DNS label of at most 45 characters "
                "that starts with a letter)",
            )
        explicit["deploymentName"] = name
    if flink_configuration is not None:
        explicit["flinkConfiguration"] = text_map(flink_configuration, "flink_configuration")
    explicit.update(_program_fields(jar_uri, entry_class, args, python_file, python_module, parallelism))
    spec = stacked_spec(template_spec, explicit, _job_defaults, spec_overrides)
    final_argument = blamed_argument(application_file, spec_overrides)
    if not spec.get("deploymentName"):
        raise MokaJobSpecError(
            "deployment_name",
            "no session cluster: pass deployment_name= (the session FlinkDeployment's name)",
        )
    _check_job(spec)
    _check_session_jar_uri(spec, jar_uri, template_spec, spec_overrides, final_argument)
    _run_in_batch_mode(spec, template_spec, flink_configuration, spec_overrides, final_argument)
    manifest = manifest_of(FLINK_SESSION_JOB, template, spec)
    validate_against_crd(FLINK_SESSION_JOB, manifest, argument=final_argument)
    return manifest


def flink_version_name(value: Any, argument: str = "flink_version", source: str = "") -> str:
    """``flinkVersion`` as the CRD names it (``v1_20``), from ``v1_20``, ``1.20`` or ``1.20.1``."""
    match = _VERSION.match(value.strip()) if isinstance(value, str) else None
    name = f"v{match[1]}_{match[2]}" if match else None
    if name not in _known_versions():
        raise MokaJobSpecError(
            argument,
            f"{value!r}{source} is not a Flink version the operator knows; "
            f"use one of {', '.join(_known_versions())} (or 1.20 style)",
        )
    return name


@cache
def _known_versions() -> tuple[str, ...]:
    """The ``flinkVersion`` values of the packaged CRD, newest last."""
    versions = FLINK_DEPLOYMENT.crd()["spec"]["versions"]
    served = next(v for v in versions if v["name"] == FLINK_DEPLOYMENT.version)
    spec = served["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return tuple(spec["properties"]["flinkVersion"]["enum"])


def _program_fields(
    jar_uri: Any, entry_class: Any, args: Any, python_file: Any, python_module: Any, parallelism: Any
) -> dict[str, Any]:
    """``{"job": ...}`` from the program arguments; a ``None`` value removes a template's field."""
    job: dict[str, Any] = {}
    if python_file is not None and python_module is not None:
        raise MokaJobSpecError("python_module", "pass python_file= or python_module=, not both")
    python = (
        ["-py", required_text(python_file, "python_file")]
        if python_file is not None
        else ["-pym", required_text(python_module, "python_module")]
        if python_module is not None
        else None
    )
    if python is not None:
        if entry_class is not None:
            raise MokaJobSpecError(
                "entry_class", f"a Python job runs with Flink's {PYTHON_DRIVER}: leave entry_class out"
            )
        job["jarURI"] = _jar_uri(jar_uri) if jar_uri is not None else None  # a JVM template's jar goes
        job["entryClass"] = PYTHON_DRIVER
        job["args"] = python + (program_arguments(args, "args") if args is not None else [])
    else:
        if jar_uri is not None:
            job["jarURI"] = _jar_uri(jar_uri)
        if entry_class is not None:
            job["entryClass"] = required_text(entry_class, "entry_class")
        if args is not None:
            job["args"] = program_arguments(args, "args")
    if parallelism is not None:
        job["parallelism"] = count(parallelism, "parallelism", minimum=1)
    return {"job": job} if job else {}


def _jar_uri(value: Any) -> str:
    uri = required_text(value, "jar_uri").strip()
    if not _URI.match(uri):
        raise MokaJobSpecError(
            "jar_uri",
            f"{uri!r} is not a URI; write e.g. local:///opt/flink/usrlib/job.jar (a file in the image) "
            "or s3://bucket/job.jar",
        )
    return uri


def _role_fields(
    argument: str, values: Any, allowed: Mapping[str, str], template_role: Any
) -> dict[str, Any]:
    """``jobManager``/``taskManager`` from ``job_manager=``/``task_manager=``."""
    fields: dict[str, Any] = {}
    resource: dict[str, Any] = {}
    for key, value in checked_keys(values, argument, allowed).items():
        name = f"{argument}[{key!r}]"
        if key == "replicas":
            fields["replicas"] = count(value, name, minimum=1)
        elif key == "cpu":
            resource["cpu"] = cpu_quantity(value, name)
        elif key == "memory":
            resource["memory"] = _memory(value, name)
        else:
            resource[allowed[key]] = memory_quantity(value, name)
    if resource and isinstance(template_role, Mapping) and _uses_requirements(template_role):
        fields["resources"] = {"requests": {_REQUEST_NAMES[key]: value for key, value in resource.items()}}
    elif resource:
        if "cpu" in resource:  # a number in this (older) field
            resource["cpu"] = _cpu_number(resource["cpu"])
        fields["resource"] = resource
    return fields


def _uses_requirements(role: Mapping[str, Any]) -> bool:
    """Whether a role is sized with the newer ``resources`` field (which the operator then prefers)."""
    return bool(role.get("resources")) and not role.get("resource")


def _cpu_number(quantity: str) -> int | float:
    amount = parse_quantity(quantity)
    return int(amount) if amount == int(amount) else float(amount)


def _memory(value: Any, argument: str) -> str:
    """A Flink memory size (``2048m``, ``2g``) or a Kubernetes quantity (``2Gi``), as the operator reads them."""
    if isinstance(value, str) and _FLINK_SIZE.match(value.strip()) and int(re.sub(r"\D", "", value)) > 0:
        return value.strip()
    try:
        return memory_quantity(value, argument)
    except MokaJobSpecError:
        raise MokaJobSpecError(
            argument,
            f"{value!r} is not a memory size; use Flink sizes such as '2048m', '2g' or Kubernetes "
            "quantities such as '2Gi' (a bare number would be bytes)",
        ) from None


def _yunikorn(queue: str) -> dict[str, Any]:
    return {"metadata": {"labels": {YUNIKORN_QUEUE_LABEL: queue}}, "spec": {"schedulerName": YUNIKORN}}


def _deployment_defaults(
    settings: MokaSettings, architecture: str | None, spec: Mapping[str, Any]
) -> dict[str, Any]:
    """What the connection (and Moka) supply; laid *under* ``spec``, so it only fills gaps."""
    defaults = _job_defaults(spec)
    if not spec.get("image") and (image := settings.image_for("flink", architecture or "amd64")):
        defaults["image"] = image
    if not spec.get("flinkVersion") and (version := settings.versions.get("flink")):
        defaults["flinkVersion"] = flink_version_name(
            version, source=" (the flink_version of the moka connection)"
        )
    defaults["serviceAccount"] = settings.service_account or DEFAULT_SERVICE_ACCOUNT
    configured = {key for key, _ in flat_configuration(spec.get("flinkConfiguration"))}
    for role, prefix in (("jobManager", "jobmanager.memory."), ("taskManager", "taskmanager.memory.")):
        given = spec.get(role)
        sized = isinstance(given, Mapping) and _uses_requirements(given)
        if not sized and not any(key.startswith(prefix) for key in configured):
            defaults[role] = {"resource": dict(DEFAULT_RESOURCE)}
    pod = spec.get("podTemplate")
    pod_spec = pod.get("spec") if isinstance(pod, Mapping) else None
    scheduler = pod_spec.get("schedulerName", YUNIKORN) if isinstance(pod_spec, Mapping) else YUNIKORN
    if settings.queue and scheduler == YUNIKORN:
        defaults["podTemplate"] = _yunikorn(settings.queue)
    return defaults


def _job_defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A batch job's ``parallelism`` (the operator refuses 0) and ``upgradeMode``."""
    if not isinstance(spec.get("job"), Mapping):
        return {}
    return {"job": {"parallelism": 1, "upgradeMode": "stateless"}}


def _check_job(spec: Mapping[str, Any]) -> None:
    job = spec.get("job")
    if not (isinstance(job, Mapping) and (job.get("jarURI") or job.get("entryClass"))):
        raise MokaJobSpecError(
            "jar_uri",
            "no job: pass jar_uri= (and entry_class=), python_file= or python_module=, "
            "or set spec.job in application_file",
        )


def _check_supported_version(
    spec: Mapping[str, Any], flink_version: Any, template_spec: Mapping[str, Any], spec_overrides: Any
) -> None:
    """Refuse a ``flinkVersion`` before :data:`MIN_FLINK_VERSION` (v1_13, v1_14: in the CRD's enum).

    Mirrors ``ValidatorUtils.validateSupportedVersion`` (flink-kubernetes-operator,
    utils/ValidatorUtils.java), which ``FlinkDeploymentController.reconcile`` runs first: when
    ``FlinkVersion.isSupported`` (api/spec/FlinkVersion.java: ``>= v1_15``) is false it records an
    UnsupportedFlinkVersion Event and returns without writing any status, on every reconcile; the
    resource never runs and a task would wait without a word. (A FlinkSessionJob has no version of
    its own: the operator takes its session FlinkDeployment's, and finds none, with the same
    silence, when that deployment does not exist; checking it would take a lookup on the cluster.)
    """
    version = spec.get("flinkVersion")
    match = _VERSION.match(version) if isinstance(version, str) else None
    if not match or (int(match[1]), int(match[2])) >= (1, 15):
        return
    overrides = spec_overrides if isinstance(spec_overrides, Mapping) else {}
    blamed, source = (
        ("spec_overrides", "")
        if "flinkVersion" in overrides
        else ("flink_version", "")
        if flink_version is not None
        else ("application_file", "")
        if "flinkVersion" in template_spec
        else ("flink_version", " (the flink_version of the moka connection)")
    )
    raise MokaJobSpecError(
        blamed,
        f"flinkVersion {version}{source} is not supported by the Flink Kubernetes operator, which needs "
        f"{MIN_FLINK_VERSION} or later: it would never deploy the job nor write any status",
    )


def _check_session_jar_uri(
    spec: Mapping[str, Any],
    jar_uri: Any,
    template_spec: Mapping[str, Any],
    spec_overrides: Any,
    final_argument: str,
) -> None:
    """A FlinkSessionJob's ``job.jarURI`` the operator accepts with its default settings.

    Mirrors ``DefaultValidator.validateJarURI`` (flink-kubernetes-operator,
    validation/DefaultValidator.java, called by ``validateSessionJobJarURI``): the scheme must be
    in :data:`JAR_URI_SCHEMES_OPTION` (default ``https`` only), and with
    :data:`JAR_URI_HOSTS_OPTION` (default true) an http(s) URI needs a host that does not resolve
    to a loopback, link-local, site-local, wildcard or multicast address. Moka does no DNS lookup:
    it only refuses such addresses written literally, and ``localhost``; a name that resolves to
    one (or does not resolve) is only caught by the operator, which then marks the session job
    FAILED with a ValidationException. No jarURI (a Python job) is fine.
    """
    job = spec.get("job")
    uri = job.get("jarURI") if isinstance(job, Mapping) else None
    if uri is None:
        return
    overrides = spec_overrides if isinstance(spec_overrides, Mapping) else {}
    override_job = overrides.get("job")
    blamed = (
        "spec_overrides"
        if isinstance(override_job, Mapping) and "jarURI" in override_job
        else "jar_uri"
        if jar_uri is not None
        else "application_file"
        if isinstance(template_spec.get("job"), Mapping) and "jarURI" in template_spec["job"]
        else final_argument
    )
    settings = (
        f"Moka checks against the operator's default {JAR_URI_SCHEMES_OPTION} "
        f"({', '.join(JAR_URI_DEFAULT_SCHEMES)}), even on a cluster whose operator allows more"
    )
    text = str(uri).strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as error:
        raise MokaJobSpecError(blamed, f"jarURI {text!r} is not a valid URI: {error}") from None
    if not parts.scheme:
        raise MokaJobSpecError(
            blamed, f"jarURI {text!r} has no scheme; a session job's jar must be an https URL ({settings})"
        )
    if parts.scheme.lower() not in JAR_URI_DEFAULT_SCHEMES:
        raise MokaJobSpecError(
            blamed,
            f"jarURI {text!r}: the Flink operator fetches a session job's jar itself and refuses the scheme "
            f"{parts.scheme!r} ({settings}); serve the jar over https, or run the job on a cluster of its "
            "own (leave session_cluster out), where local:// and other schemes work",
        )
    if not host:
        raise MokaJobSpecError(
            blamed,
            f"jarURI {text!r} has no host, which the Flink operator refuses for https URIs "
            f"({JAR_URI_HOSTS_OPTION} is true by default)",
        )
    if kind := _restricted_host(host):
        raise MokaJobSpecError(
            blamed,
            f"jarURI host {host!r} is a {kind} address, which the Flink operator refuses "
            f"({JAR_URI_HOSTS_OPTION} is true by default); serve the jar from a public https host",
        )


def _restricted_host(host: str) -> str | None:
    """What kind of restricted address ``host`` is, written as an IP literal (or ``localhost``).

    The kinds are ``java.net.InetAddress``'s (``isLoopbackAddress``, ``isLinkLocalAddress``,
    ``isSiteLocalAddress``, ``isAnyLocalAddress``, ``isMulticastAddress``), which the operator
    checks on the resolved address. No DNS lookup happens here.
    """
    if host.rstrip(".") == "localhost":
        return "loopback"
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        address = None
        if _IPV4_SHORTHAND.match(host) and any(c.isdigit() for c in host):
            with contextlib.suppress(OSError):  # 127.1, 0x7f.1, 2130706433: IPv4 to a resolver
                address = ipaddress.IPv4Address(socket.inet_aton(host))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # Java reads ::ffff:a.b.c.d as the IPv4 address
    if address is None:
        return None
    return next((kind for network, kind in _RESTRICTED_NETWORKS if address in network), None)


def _run_in_batch_mode(
    spec: dict[str, Any],
    template_spec: Mapping[str, Any],
    flink_configuration: Any,
    spec_overrides: Any,
    final_argument: str,
) -> None:
    """Add ``execution.runtime-mode: BATCH``, or name the layer that asks for another mode."""
    configuration = spec.get("flinkConfiguration")
    if configuration is not None and not isinstance(configuration, Mapping):
        raise MokaJobSpecError(final_argument, "spec.flinkConfiguration must be a mapping of Flink options")
    mode = dict(flat_configuration(configuration)).get(RUNTIME_MODE)
    if mode is None:
        spec["flinkConfiguration"] = {**(configuration or {}), RUNTIME_MODE: "BATCH"}
        return
    if str(mode).strip().upper() == "BATCH":
        return
    layers = (
        ("spec_overrides", (spec_overrides or {}).get("flinkConfiguration")),
        ("flink_configuration", flink_configuration),
        ("application_file", template_spec.get("flinkConfiguration")),
    )
    blamed = next(
        (name for name, layer in layers if RUNTIME_MODE in dict(flat_configuration(layer))), final_argument
    )
    raise MokaJobSpecError(
        blamed,
        f"{RUNTIME_MODE} is {mode!r}: Moka runs Flink batch jobs, in BATCH mode; leave the option out "
        "(or set it to BATCH)",
    )


def flat_configuration(configuration: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``flinkConfiguration`` as (Flink key, value) pairs, nested YAML keys joined with dots."""
    if not isinstance(configuration, Mapping):
        return
    for key, value in configuration.items():
        if isinstance(value, Mapping):
            yield from flat_configuration(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
