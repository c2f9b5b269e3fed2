"""Build a KubeRay ``RayJob`` from operator arguments, a YAML template, or both.

Layers as for Spark (see :func:`~moka_provider.engines.values.stacked_spec`), later winning:
connection defaults < ``application_file`` < arguments < ``spec_overrides``.

The cluster comes from one of: ``cluster_selector`` (an existing RayCluster: no cluster of the
job's own, so ``head``/``workers``/``ray_cluster_spec`` are refused), ``ray_cluster_spec`` (a whole
``rayClusterSpec``), the template's ``rayClusterSpec``, or, when none of these names one, a
head-only cluster of :data:`DEFAULT_HEAD` size. On top of it:

- ``head`` sizes the head's Ray container (``cpu``, ``memory``, ``gpu``) and adds
  ``ray_start_params``; the container keeps whatever else the template gave it (ports, mounts);
- ``workers`` is the whole list of worker groups (``name``, ``replicas``, ``min_replicas``,
  ``max_replicas``, ``cpu``, ``memory``, ``gpu``, ``ray_start_params``); a group named like one
  of the template's is that group resized, the template's others are dropped;
- CPU and memory are set as both request and limit (KubeRay gives Ray the limits), GPUs as
  ``nvidia.com/gpu`` limits;
- ``image`` replaces the Ray container's image in every group; the connection's image (for the
  architecture) only fills a container that has none. ``architecture`` adds a
  ``kubernetes.io/arch`` node selector to every group, ``service_account`` (else the connection's,
  where a pod names none) becomes the pods' ``serviceAccountName``.

The connection also supplies ``rayVersion`` and the YuniKorn queue, which goes on the RayJob's
labels as ``yunikorn.apache.org/queue``: KubeRay's YuniKorn integration (its operator started
with the ``yunikorn`` batch scheduler) passes it to the cluster's and submitter's pods. The
job's own cluster is removed when the job ends (``shutdownAfterJobFinishes: true``) after
:data:`DEFAULT_TTL_SECONDS`, unless a layer says otherwise (or uses ``deletionStrategy``).

``runtime_env`` (a dict, or YAML text) becomes ``runtimeEnvYAML``; ``entrypoint`` (a command line,
or a list of words joined as a shell would split them) is required unless a layer has one or a
``submitterPodTemplate`` with its own command. Pure logic, checked against the official CRD.

The final spec is also checked against the rules KubeRay's ``ValidateRayJobSpec`` applies after
the API server accepted the RayJob (a failure there is a ``ValidationFailed`` job), and against
what never ends: ``InteractiveMode`` (waits for a person to submit the job) and a ``DeleteSelf``
deletion sooner than :data:`MIN_DELETE_SELF_SECONDS` after the end (the task would not find the
job to read how it ended).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from moka_provider.engines.values import (
    ARCH_LABEL,
    YUNIKORN_QUEUE_LABEL,
    as_int,
    blamed_argument,
    check_architecture,
    checked_keys,
    count,
    cpu_quantity,
    flag,
    kind_of,
    manifest_of,
    memory_quantity,
    parse_manifest_text,
    program_arguments,
    required_text,
    stacked_spec,
    text_map,
)
from moka_provider.exceptions import MokaJobSpecError
from moka_provider.merge import deep_merge
from moka_provider.resources import RAY_JOB
from moka_provider.schema import validate_against_crd
from moka_provider.settings import MokaSettings

#: Seconds a finished job's cluster stays (for a last look at its dashboard) before KubeRay
#: removes it: short, so that finished jobs do not hold a cluster's nodes (nor, under ``moka
#: local``, the machine's cores that the next cluster waits for).
DEFAULT_TTL_SECONDS = 60
#: The head of a cluster that no layer describes.
DEFAULT_HEAD = {"cpu": "1", "memory": "2Gi"}
SUBMISSION_MODES = ("K8sJobMode", "HTTPMode", "SidecarMode")
INTERACTIVE_MODE = "InteractiveMode"
#: The shortest delay Moka accepts before KubeRay deletes the RayJob itself (``DeleteSelf``): the
#: task must still find the job to read how it ended and its log.
MIN_DELETE_SELF_SECONDS = 60
#: KubeRay's deletion hierarchy: for one condition, TTLs must not decrease along it.
_DELETION_ORDER = ("DeleteWorkers", "DeleteCluster", "DeleteSelf")
#: The ``clusterSelector`` key KubeRay finds an existing RayCluster by.
CLUSTER_LABEL = "ray.io/cluster"
GPU = "nvidia.com/gpu"

_HEAD_FIELDS = {"cpu": "cpu", "memory": "memory", "gpu": GPU, "ray_start_params": "rayStartParams"}
_WORKER_FIELDS = {
    **_HEAD_FIELDS,
    "name": "groupName",
    "replicas": "replicas",
    "min_replicas": "minReplicas",
    "max_replicas": "maxReplicas",
}
_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def build_ray_job(
    *,
    settings: MokaSettings,
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
    queue: str | None = None,
    architecture: str | None = None,
    service_account: str | None = None,
    application_file: str | Mapping[str, Any] | None = None,
    spec_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete RayJob manifest (without ``metadata.name``/``namespace``: the caller's).

    ``shutdown_after_job_finishes`` ``None`` means true unless the template (or a
    ``deletionStrategy``, or ``cluster_selector``) says otherwise.
    """
    template = parse_manifest_text(application_file, RAY_JOB) if application_file is not None else {}
    template_spec = template.get("spec") or {}
    check_architecture(architecture)
    explicit = _job_fields(
        entrypoint, runtime_env, shutdown_after_job_finishes, ttl_seconds_after_finished, backoff_limit
    )
    explicit.update(_submission_fields(active_deadline_seconds, submission_mode))
    overrides = spec_overrides if isinstance(spec_overrides, Mapping) else {}
    if cluster_selector is not None:
        explicit["clusterSelector"] = _cluster_selector(cluster_selector)
        explicit["rayClusterSpec"] = None  # the template's own cluster, if any, goes
    if (
        explicit.get("clusterSelector")
        or template_spec.get("clusterSelector")
        or overrides.get("clusterSelector")
    ):
        own = {
            "head": head,
            "workers": workers,
            "ray_cluster_spec": ray_cluster_spec,
            "ray_version": ray_version,
        }
        if given := [name for name, value in own.items() if value is not None]:
            raise MokaJobSpecError(
                given[0],
                "the job runs on an existing RayCluster (cluster_selector): leave out a cluster of its own",
            )
    else:
        cluster = _cluster_fields(template_spec, ray_cluster_spec, head, workers)
        if ray_version is not None:
            cluster["rayVersion"] = required_text(ray_version, "ray_version")
        _dress_pods(cluster, image, architecture, service_account)
        # The whole cluster, the template's included: it takes the template's place (and key).
        template_spec = {**template_spec, "rayClusterSpec": cluster}
    spec = stacked_spec(
        template_spec, explicit, lambda given: _connection_defaults(settings, given), spec_overrides
    )
    final_argument = blamed_argument(application_file, spec_overrides)
    _fill_pods(spec, settings, architecture)
    set_by = {
        "shutdownAfterJobFinishes": ("shutdown_after_job_finishes", shutdown_after_job_finishes),
        "ttlSecondsAfterFinished": ("ttl_seconds_after_finished", ttl_seconds_after_finished),
        "backoffLimit": ("backoff_limit", backoff_limit),
        "activeDeadlineSeconds": ("active_deadline_seconds", active_deadline_seconds),
        "submissionMode": ("submission_mode", submission_mode),
        "clusterSelector": ("cluster_selector", cluster_selector),
        "runtimeEnvYAML": ("runtime_env", runtime_env),
    }
    layers = _Layers(template_spec, overrides, final_argument, set_by)
    _check_complete(spec, ttl_seconds_after_finished, backoff_limit, final_argument)
    _check_kuberay_rules(spec, layers)
    manifest = manifest_of(RAY_JOB, template, spec)
    if queue is not None:
        manifest["metadata"].setdefault("labels", {})[YUNIKORN_QUEUE_LABEL] = required_text(queue, "queue")
    elif settings.queue and YUNIKORN_QUEUE_LABEL not in manifest["metadata"].get("labels", {}):
        manifest["metadata"].setdefault("labels", {})[YUNIKORN_QUEUE_LABEL] = settings.queue
    validate_against_crd(RAY_JOB, manifest, argument=final_argument)
    return manifest


# -- the job -----------------------------------------------------------------------------------------


def _job_fields(
    entrypoint: Any, runtime_env: Any, shutdown: Any, ttl: Any, backoff_limit: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if entrypoint is not None:
        fields["entrypoint"] = (
            required_text(entrypoint, "entrypoint")
            if isinstance(entrypoint, str)
            else shlex.join(program_arguments(entrypoint, "entrypoint"))
        )
    if runtime_env is not None:
        fields["runtimeEnvYAML"] = runtime_env_yaml(runtime_env)
    if shutdown is not None:
        fields["shutdownAfterJobFinishes"] = flag(shutdown, "shutdown_after_job_finishes")
    if ttl is not None:
        fields["ttlSecondsAfterFinished"] = count(ttl, "ttl_seconds_after_finished", minimum=0)
    if backoff_limit is not None:
        fields["backoffLimit"] = count(backoff_limit, "backoff_limit", minimum=0)
    return fields


def _submission_fields(active_deadline_seconds: Any, submission_mode: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if active_deadline_seconds is not None:
        fields["activeDeadlineSeconds"] = count(active_deadline_seconds, "active_deadline_seconds", minimum=1)
    if submission_mode is not None:
        if submission_mode not in SUBMISSION_MODES:
            raise MokaJobSpecError(
                "submission_mode",
                f"{submission_mode!r} is not one of {', '.join(SUBMISSION_MODES)} "
                "(InteractiveMode waits for someone to submit the job by hand)",
            )
        fields["submissionMode"] = submission_mode
    return fields


def runtime_env_yaml(value: Any, argument: str = "runtime_env") -> str:
    """``runtimeEnvYAML`` from a runtime environment: a JSON-able dict, or YAML text of a mapping."""
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise MokaJobSpecError(argument, f"is not valid YAML: {error}") from None
        if not isinstance(parsed, Mapping):
            raise MokaJobSpecError(
                argument, f"expected a mapping (pip, env_vars, ...), got {kind_of(parsed)}"
            )
        return value
    if not isinstance(value, Mapping):
        raise MokaJobSpecError(
            argument, f"expected a dict (pip, env_vars, ...) or YAML text, got {kind_of(value)}"
        )
    if bad := [key for key in value if not isinstance(key, str)]:
        raise MokaJobSpecError(argument, f"keys must be strings, got {bad[0]!r}")
    try:  # what Ray can read: JSON values only (tuples become lists)
        plain = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise MokaJobSpecError(
            argument, f"must hold JSON values only (str, numbers, lists, dicts): {error}"
        ) from None
    return yaml.safe_dump(plain, sort_keys=False)


def _cluster_selector(value: Any) -> dict[str, str]:
    selector = {CLUSTER_LABEL: value} if isinstance(value, str) else value
    selector = text_map(selector, "cluster_selector")
    if not selector.get(CLUSTER_LABEL, "").strip():
        raise MokaJobSpecError(
            "cluster_selector", f"name the RayCluster with the {CLUSTER_LABEL!r} key (or pass its name)"
        )
    return selector


# -- the cluster -------------------------------------------------------------------------------------


def _cluster_fields(
    template_spec: Mapping[str, Any], ray_cluster_spec: Any, head: Any, workers: Any
) -> dict[str, Any]:
    """The whole ``rayClusterSpec``: the template's or the argument's, resized by ``head``/``workers``."""
    if ray_cluster_spec is not None and not isinstance(ray_cluster_spec, Mapping):
        raise MokaJobSpecError(
            "ray_cluster_spec", f"expected a mapping (a rayClusterSpec), got {kind_of(ray_cluster_spec)}"
        )
    base = ray_cluster_spec if ray_cluster_spec is not None else template_spec.get("rayClusterSpec")
    cluster = copy.deepcopy(dict(base)) if isinstance(base, Mapping) else {}
    head_group = cluster.get("headGroupSpec")
    if not isinstance(head_group, Mapping):
        head_group = {"rayStartParams": {}, "template": {"spec": {"containers": [{"name": "ray-head"}]}}}
        head = DEFAULT_HEAD if head is None else head
    if head is not None:
        head_group = _sized_group(head_group, checked_keys(head, "head", _HEAD_FIELDS), "head")
    cluster["headGroupSpec"] = head_group
    if workers is not None:
        cluster["workerGroupSpecs"] = _worker_groups(workers, cluster.get("workerGroupSpecs"))
    return cluster


def _worker_groups(workers: Any, existing: Any) -> list[dict[str, Any]]:
    if isinstance(workers, str | bytes | Mapping) or not isinstance(workers, Sequence):
        raise MokaJobSpecError(
            "workers", f"expected a list of worker groups (mappings), got {kind_of(workers)}"
        )
    by_name = {group.get("groupName"): group for group in existing or [] if isinstance(group, Mapping)}
    groups: list[dict[str, Any]] = []
    for index, values in enumerate(workers):
        argument = f"workers[{index}]"
        values = checked_keys(values, argument, _WORKER_FIELDS)
        name = required_text(values.get("name"), f"{argument}['name']")
        if not _GROUP_NAME.match(name) or any(group["groupName"] == name for group in groups):
            problem = "is named twice" if _GROUP_NAME.match(name) else "is not a lowercase DNS label"
            raise MokaJobSpecError(f"{argument}['name']", f"{name!r} {problem}")
        replicas = count(values.get("replicas", 1), f"{argument}['replicas']", minimum=0)
        low = count(values.get("min_replicas", replicas), f"{argument}['min_replicas']", minimum=0)
        high = count(values.get("max_replicas", replicas), f"{argument}['max_replicas']", minimum=0)
        if not low <= replicas <= high:
            raise MokaJobSpecError(
                argument,
                f"min_replicas ({low}) <= replicas ({replicas}) <= max_replicas ({high}) does not hold",
            )
        group = by_name.get(name) or {
            "rayStartParams": {},
            "template": {"spec": {"containers": [{"name": "ray-worker"}]}},
        }
        counts = {"groupName": name, "replicas": replicas, "minReplicas": low, "maxReplicas": high}
        group = {**counts, **{key: value for key, value in group.items() if key not in counts}}
        sizes = {key: value for key, value in values.items() if key in _HEAD_FIELDS}
        groups.append(_sized_group(group, sizes, argument))
    return groups


def _sized_group(template: Mapping[str, Any], values: Mapping[str, Any], argument: str) -> dict[str, Any]:
    """A copy of ``template`` with its Ray container (the first) sized and ``rayStartParams`` added to."""
    group = copy.deepcopy(dict(template))
    amounts: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{argument}[{key!r}]"
        if key == "cpu":
            amounts["cpu"] = cpu_quantity(value, name)
        elif key == "memory":
            amounts["memory"] = memory_quantity(value, name)
        elif key == "gpu":
            amounts[GPU] = count(value, name, minimum=0)
        else:
            group["rayStartParams"] = {**(group.get("rayStartParams") or {}), **text_map(value, name)}
    if amounts:
        container = _ray_container(group)
        requests = {key: value for key, value in amounts.items() if key != GPU}
        container["resources"] = deep_merge(
            container.get("resources") or {}, {"requests": requests, "limits": amounts}
        )
    return group


def _ray_container(group: dict[str, Any]) -> dict[str, Any]:
    """The group's Ray container (KubeRay's is the first), created if the template has none."""
    pod = group.setdefault("template", {}).setdefault("spec", {})
    containers = pod.setdefault("containers", [])
    if not containers:
        containers.append({"name": "ray"})
    container: dict[str, Any] = containers[0]
    return container


def _groups(cluster: Any) -> Iterator[dict[str, Any]]:
    """The head group and the worker groups of a ``rayClusterSpec``."""
    if not isinstance(cluster, dict):
        return
    if isinstance(cluster.get("headGroupSpec"), dict):
        yield cluster["headGroupSpec"]
    for group in cluster.get("workerGroupSpecs") or []:
        if isinstance(group, dict):
            yield group


def _dress_pods(cluster: dict[str, Any], image: Any, architecture: str | None, service_account: Any) -> None:
    """The arguments' image, node selector and service account on every group's pods, in place."""
    chosen = required_text(image, "image") if image is not None else None
    account = required_text(service_account, "service_account") if service_account is not None else None
    for group in _groups(cluster):
        container = _ray_container(group)
        pod = group["template"]["spec"]
        if chosen:
            container["image"] = chosen
        if architecture is not None:
            pod["nodeSelector"] = {**(pod.get("nodeSelector") or {}), ARCH_LABEL: architecture}
        if account:
            pod["serviceAccountName"] = account


def _fill_pods(spec: Mapping[str, Any], settings: MokaSettings, architecture: str | None) -> None:
    """The connection's image and service account where a group's pods have none, in place."""
    image = settings.image_for("ray", architecture or "amd64")
    for group in _groups(spec.get("rayClusterSpec")):
        container = _ray_container(group)
        if not container.get("image"):
            if not image:
                raise MokaJobSpecError(
                    "image", "no image: pass image= or set ray_image on the moka connection"
                )
            container["image"] = image
        pod = group["template"]["spec"]
        if settings.service_account and not pod.get("serviceAccountName"):
            pod["serviceAccountName"] = settings.service_account


def _connection_defaults(settings: MokaSettings, spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the connection (and Moka) supply; laid *under* ``spec``, so it only fills gaps."""
    defaults: dict[str, Any] = {}
    if spec.get("clusterSelector"):
        return defaults
    if (version := settings.versions.get("ray")) and isinstance(spec.get("rayClusterSpec"), Mapping):
        defaults["rayClusterSpec"] = {"rayVersion": version}
    if not spec.get("deletionStrategy"):
        defaults["shutdownAfterJobFinishes"] = True
        if spec.get("shutdownAfterJobFinishes", True) is True:
            defaults["ttlSecondsAfterFinished"] = DEFAULT_TTL_SECONDS
    return defaults


def _check_complete(spec: Mapping[str, Any], ttl: Any, backoff_limit: Any, final_argument: str) -> None:
    """What no layer may leave out, and combinations KubeRay refuses."""
    if not spec.get("entrypoint") and not _submitter_command(spec.get("submitterPodTemplate")):
        raise MokaJobSpecError(
            "entrypoint", "no entrypoint: pass entrypoint= (e.g. 'python /app/job.py') or set spec.entrypoint"
        )
    if spec.get("ttlSecondsAfterFinished") and spec.get("shutdownAfterJobFinishes") is not True:
        raise MokaJobSpecError(
            "ttl_seconds_after_finished" if ttl else final_argument,
            "ttlSecondsAfterFinished applies only when the job's cluster is shut down after it "
            "(shutdown_after_job_finishes=True)",
        )
    if spec.get("clusterSelector") and as_int(spec.get("backoffLimit")):
        raise MokaJobSpecError(
            "backoff_limit" if backoff_limit else final_argument,
            "retries need a cluster of the job's own: KubeRay refuses backoffLimit with cluster_selector",
        )


def _submitter_command(template: Any) -> bool:
    """Whether a ``submitterPodTemplate`` runs a command of its own (then no entrypoint is needed)."""
    pod = template.get("spec") if isinstance(template, Mapping) else None
    containers = pod.get("containers") if isinstance(pod, Mapping) else None
    first = containers[0] if isinstance(containers, list) and containers else None
    return isinstance(first, Mapping) and bool(first.get("command"))


# -- what KubeRay refuses after creation, or accepts and never ends -----------------------------------


class _Layers:
    """Which layer a field of the final spec most likely comes from, for naming it in an error."""

    def __init__(
        self,
        template_spec: Mapping[str, Any],
        overrides: Mapping[str, Any],
        final_argument: str,
        given: Mapping[str, tuple[str, Any]],
    ) -> None:
        self.template_spec = template_spec
        self.overrides = overrides
        self.final_argument = final_argument
        self.given = given

    def blame(self, *fields: str) -> str:
        """The layer that sets the first of ``fields`` it finds, the latest layer first."""
        for field in fields:
            if field in self.overrides:
                return "spec_overrides"
        for field in fields:
            argument, value = self.given.get(field, (None, None))
            if argument is not None and value is not None:
                return argument
        for field in fields:
            if field in self.template_spec:
                return "application_file"
        return self.final_argument


def _check_kuberay_rules(spec: Mapping[str, Any], layers: _Layers) -> None:
    """KubeRay's ``ValidateRayJobSpec`` rules a Moka-built spec can break, in its order.

    Mirrors ``ValidateRayJobSpec`` (ray-operator/controllers/ray/utils/validation.go,
    ray-project/kuberay), which the RayJob controller runs on every reconcile: a failure makes the
    job ``ValidationFailed`` (nothing runs). Left out: the feature gate a deletionStrategy needs
    (the operator's setting) and ``ValidateRayClusterSpec`` (the cluster's own rules).
    """
    shutdown = spec.get("shutdownAfterJobFinishes") is True
    selector = spec.get("clusterSelector")
    mode = spec.get("submissionMode")
    cluster = spec.get("rayClusterSpec")
    backoff_limit, ttl = as_int(spec.get("backoffLimit")), as_int(spec.get("ttlSecondsAfterFinished"))

    def refuse(problem: str, *fields: str) -> None:
        raise MokaJobSpecError(layers.blame(*fields), problem)

    if spec.get("suspend") is True and not shutdown:
        refuse(
            "KubeRay refuses a suspended RayJob (suspend: true) whose cluster is not shut down after it "
            "(shutdownAfterJobFinishes: true)",
            "suspend",
            "shutdownAfterJobFinishes",
        )
    if ttl is not None and ttl < 0:
        refuse(f"ttlSecondsAfterFinished must not be negative, got {ttl}", "ttlSecondsAfterFinished")
    _check_deletion(spec, layers)
    if selector and spec.get("suspend") is True:
        refuse(
            "KubeRay cannot suspend a job on an existing cluster (clusterSelector)",
            "suspend",
            "clusterSelector",
        )
    if not selector and not isinstance(cluster, Mapping):
        refuse("the job needs a cluster: a rayClusterSpec or a cluster_selector", "rayClusterSpec")
    if selector:
        if not (isinstance(selector, Mapping) and str(selector.get(CLUSTER_LABEL) or "").strip()):
            refuse(
                f"spec.clusterSelector must name the RayCluster with the {CLUSTER_LABEL!r} key",
                "clusterSelector",
            )
        if mode == "SidecarMode":
            refuse(
                "KubeRay refuses SidecarMode on an existing cluster (clusterSelector): the submitter runs "
                "next to the head of the job's own cluster; use K8sJobMode or HTTPMode",
                "submissionMode",
                "clusterSelector",
            )
        if backoff_limit:
            refuse(
                "retries need a cluster of the job's own: KubeRay refuses backoffLimit with cluster_selector",
                "backoffLimit",
                "clusterSelector",
            )
    if mode == INTERACTIVE_MODE:
        # ``RayJobReconciler.Reconcile`` (ray-operator/controllers/ray/rayjob_controller.go, the
        # Initializing case) moves an InteractiveMode job to ``Waiting`` once its cluster is up,
        # where it stays until someone submits the job by hand and sets spec.jobId
        # (ValidateRayJobSpec also refuses backoffLimit > 0 with it).
        refuse(
            "InteractiveMode waits (jobDeploymentStatus Waiting) until someone submits the job by hand, "
            f"so the task would wait forever; use one of {', '.join(SUBMISSION_MODES)}",
            "submissionMode",
        )
    if mode == "SidecarMode":
        for field in ("submitterPodTemplate", "submitterConfig"):
            if spec.get(field) is not None:
                refuse(f"KubeRay does not support {field} in SidecarMode", field, "submissionMode")
        head = cluster.get("headGroupSpec") if isinstance(cluster, Mapping) else None
        pod = (head.get("template") or {}).get("spec") if isinstance(head, Mapping) else None
        restart = pod.get("restartPolicy") if isinstance(pod, Mapping) else None
        if restart not in (None, "", "Never"):
            refuse(
                f"in SidecarMode the head pod's restartPolicy must be Never or unset, got {restart!r}",
                "rayClusterSpec",
                "submissionMode",
            )
    auth = cluster.get("authOptions") if isinstance(cluster, Mapping) else None
    if isinstance(auth, Mapping) and auth.get("enableK8sTokenAuth") is True:
        refuse(
            "KubeRay does not support Kubernetes token auth (authOptions.enableK8sTokenAuth) for a RayJob",
            "rayClusterSpec",
        )
    _check_runtime_env(spec.get("runtimeEnvYAML"), layers)
    for field in ("activeDeadlineSeconds", "preRunningDeadlineSeconds"):
        value = as_int(spec.get(field))
        if value is not None and value <= 0:
            refuse(f"{field} must be a positive number of seconds, got {value}", field)
    if backoff_limit is not None and backoff_limit < 0:
        refuse(f"backoffLimit must not be negative, got {backoff_limit}", "backoffLimit")


def _check_runtime_env(value: Any, layers: _Layers) -> None:
    """``runtimeEnvYAML`` must read as a YAML mapping (``dashboardclient.UnmarshalRuntimeEnvYAML``
    in ray-operator/controllers/ray/utils/dashboardclient/dashboard_httpclient.go reads it into a map)."""
    if not isinstance(value, str) or not value.strip():
        return
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise MokaJobSpecError(
            layers.blame("runtimeEnvYAML"), f"runtimeEnvYAML is not valid YAML: {error}"
        ) from None
    if parsed is not None and not isinstance(parsed, Mapping):
        raise MokaJobSpecError(
            layers.blame("runtimeEnvYAML"),
            f"runtimeEnvYAML must be a mapping (pip, env_vars, ...), got {kind_of(parsed)}",
        )


def _check_deletion(spec: Mapping[str, Any], layers: _Layers) -> None:
    """KubeRay's ``validateDeletionConfiguration`` (its structural rules), and DeleteSelf's delay.

    Mirrors ``validateDeletionConfiguration``, ``validateDeletionRules``, ``validateDeletionCondition``,
    ``validateTTLConsistency`` and ``validateLegacyDeletionPolicies`` (ray-operator/controllers/ray/
    utils/validation.go). On top, Moka refuses a ``DeleteSelf`` policy that fires sooner than
    :data:`MIN_DELETE_SELF_SECONDS` after the job's end (``handleDeletionRules`` /
    ``handleLegacyDeletionPolicy`` in controllers/ray/rayjob_controller.go delete the RayJob at
    ``status.endTime`` + the rule's ``ttlSeconds``, or + ``ttlSecondsAfterFinished`` for the legacy
    fields): the task would not find the job to read how it ended.
    """
    shutdown = spec.get("shutdownAfterJobFinishes") is True
    ttl = as_int(spec.get("ttlSecondsAfterFinished")) or 0
    strategy = spec.get("deletionStrategy")
    if not isinstance(strategy, Mapping):
        return
    blamed = layers.blame("deletionStrategy")
    rules = strategy.get("deletionRules")
    rules = rules if isinstance(rules, list) else []
    has_rules = bool(rules)
    legacy = strategy.get("onSuccess") is not None or strategy.get("onFailure") is not None
    selector = bool(spec.get("clusterSelector"))
    cluster = spec.get("rayClusterSpec")
    autoscaling = isinstance(cluster, Mapping) and cluster.get("enableInTreeAutoscaling") is True
    if has_rules and shutdown:
        raise MokaJobSpecError(
            layers.blame("shutdownAfterJobFinishes"),
            "KubeRay refuses shutdownAfterJobFinishes together with deletionStrategy.deletionRules; "
            "say what to delete in the rules (DeleteCluster) and leave shutdown_after_job_finishes out",
        )
    if has_rules and legacy:
        raise MokaJobSpecError(
            blamed, "deletionStrategy: use deletionRules or the legacy onSuccess/onFailure, not both"
        )
    if legacy:
        _check_legacy_deletion(strategy, shutdown, ttl, selector, autoscaling, blamed)
    elif has_rules:
        _check_deletion_rules(rules, selector, autoscaling, blamed)
    else:
        raise MokaJobSpecError(
            blamed, "deletionStrategy needs both onSuccess and onFailure, or deletionRules (it is empty)"
        )


def _check_legacy_deletion(
    strategy: Mapping[str, Any], shutdown: bool, ttl: int, selector: bool, autoscaling: bool, blamed: str
) -> None:
    policies = {}
    for when in ("onSuccess", "onFailure"):
        entry = strategy.get(when)
        policy = entry.get("policy") if isinstance(entry, Mapping) else None
        if policy is None:
            raise MokaJobSpecError(
                blamed, "deletionStrategy needs a policy in both onSuccess and onFailure (or deletionRules)"
            )
        policies[when] = policy
    for when, policy in policies.items():
        if selector and policy in ("DeleteCluster", "DeleteWorkers"):
            raise MokaJobSpecError(
                blamed,
                f"deletionStrategy.{when} {policy} is not supported on an existing cluster (clusterSelector)",
            )
        if autoscaling and policy == "DeleteWorkers":
            raise MokaJobSpecError(
                blamed, f"deletionStrategy.{when} DeleteWorkers is not supported with autoscaling enabled"
            )
        if shutdown and policy == "DeleteNone":
            raise MokaJobSpecError(
                blamed, f"deletionStrategy.{when} DeleteNone contradicts shutdownAfterJobFinishes: true"
            )
        if policy == "DeleteSelf" and ttl < MIN_DELETE_SELF_SECONDS:
            raise MokaJobSpecError(
                blamed,
                f"deletionStrategy.{when} DeleteSelf deletes the RayJob ttlSecondsAfterFinished ({ttl}) s "
                "after it ends, too soon for the task to read how it ended and its log; set "
                f"ttlSecondsAfterFinished to at least {MIN_DELETE_SELF_SECONDS} (with "
                "shutdownAfterJobFinishes: true, which KubeRay requires for it)",
            )


def _check_deletion_rules(rules: list[Any], selector: bool, autoscaling: bool, blamed: str) -> None:
    ttls: dict[tuple[str, str], dict[str, int]] = {}
    for index, rule in enumerate(rules):
        where = f"deletionStrategy.deletionRules[{index}]"
        if not isinstance(rule, Mapping):
            continue  # the CRD check reports it
        condition: Mapping[str, Any] = rule["condition"] if isinstance(rule.get("condition"), Mapping) else {}
        policy = rule.get("policy")
        statuses = [
            (key, condition[key]) for key in ("jobStatus", "jobDeploymentStatus") if condition.get(key)
        ]
        if len(statuses) != 1:
            raise MokaJobSpecError(
                blamed, f"{where}: the condition needs exactly one of jobStatus and jobDeploymentStatus"
            )
        seconds = as_int(condition.get("ttlSeconds")) or 0
        if selector and policy in ("DeleteCluster", "DeleteWorkers"):
            raise MokaJobSpecError(
                blamed, f"{where}: {policy} is not supported on an existing cluster (clusterSelector)"
            )
        if autoscaling and policy == "DeleteWorkers":
            raise MokaJobSpecError(
                blamed, f"{where}: DeleteWorkers is not supported with autoscaling enabled"
            )
        by_policy = ttls.setdefault(statuses[0], {})
        if policy in by_policy:
            raise MokaJobSpecError(
                blamed, f"{where}: a second {policy} rule for {statuses[0][0]} {statuses[0][1]}"
            )
        by_policy[str(policy)] = seconds
        if policy == "DeleteSelf" and seconds < MIN_DELETE_SELF_SECONDS:
            raise MokaJobSpecError(
                blamed,
                f"{where}: DeleteSelf after {seconds} s deletes the RayJob too soon after it ends for the "
                f"task to read how it ended and its log; use a ttlSeconds of at least {MIN_DELETE_SELF_SECONDS}",
            )
    for (key, value), by_policy in ttls.items():
        ordered = [(policy, by_policy[policy]) for policy in _DELETION_ORDER if policy in by_policy]
        for (before, low), (after, high) in itertools.pairwise(ordered):
            if high < low:
                raise MokaJobSpecError(
                    blamed,
                    f"deletionStrategy.deletionRules for {key} {value}: the {after} TTL ({high}) must be at "
                    f"least the {before} TTL ({low}) (KubeRay deletes workers, then the cluster, then the job)",
                )
