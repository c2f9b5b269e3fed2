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
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from moka_provider.engines.resources import RAY_JOB
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
from moka_provider.hooks.connection_settings import MokaSettings
from moka_provider.jobs.merge import deep_merge
from moka_provider.jobs.schema import validate_against_crd

#: Seconds a finished job's cluster stays (for a last look at its dashboard) before KubeRay
#: removes it: short, so that finished jobs do not hold a cluster's nodes (nor, under ``moka
#: local``, the machine's cores that the next cluster waits for).
DEFAULT_TTL_SECONDS = 60
#: The head of a cluster that no layer describes.
DEFAULT_HEAD = {"cpu": "1", "memory": "2Gi"}
SUBMISSION_MODES = ("K8sJobMode", "HTTPMode", "SidecarMode")
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
    _check_complete(spec, ttl_seconds_after_finished, backoff_limit, final_argument)
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
    import yaml

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
