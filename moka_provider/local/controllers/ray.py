"""The local RayJob controller: KubeRay's RayJob state machine, run on a local Ray head.

States and status fields follow KubeRay (docs/design.md section 3): ``jobDeploymentStatus`` goes
``"" -> Initializing -> Running -> Complete | Failed``, and ``jobStatus`` mirrors the Ray job as the
head's dashboard reports it (``PENDING -> RUNNING -> SUCCEEDED | FAILED | STOPPED``). A failed
attempt with ``backoffLimit`` left turns ``Retrying`` (``failed`` counts attempts): its pods go,
the status is reset and a fresh cluster runs the job again. ``activeDeadlineSeconds`` fails it
with ``DeadlineExceeded``, ``suspend`` moves it through ``Suspending`` to ``Suspended``, and a spec
the controller cannot run is ``ValidationFailed``.

The cluster is one head pod running ``ray start --head --block`` from the Ray engine's virtualenv
on free loopback ports, recorded as the pod's named container ports so that a restarted controller
finds them. There are no worker pods: the worker groups' CPUs are given to the head (``--num-cpus``
is head + workers, capped at the machine's cores) and the pod requests them, so the local kubelet
queues clusters rather than oversubscribing the machine. As in KubeRay's default ``K8sJobMode``, a
submitter pod runs ``ray job submit --submission-id <jobId>`` against the head's dashboard and
tails the job's output, which makes its log the job's log; the controller reads the job's state
from the dashboard's job API, as KubeRay does. ``status.jobId`` and ``status.rayClusterName`` are
written before anything starts, so a restarted controller or a repeated reconcile neither starts
a second cluster nor submits the job twice.

Where a real cluster would kill a pod's every process, the local kubelet stops a process group,
and Ray runs a job's driver in a session of its own: so before removing a cluster whose job may
still run (deletion, deadline, suspension) the controller stops the job through the dashboard,
as KubeRay's finalizer does on deletion.

Pods carry the names and labels KubeRay's objects would give them: the cluster ``<name>-<5 random>``
(``utils.GenerateRayClusterName``), its head pod ``<cluster>-head-<5 random>`` (``utils.PodName``
as a ``generateName``), and the submitter pod that of the Kubernetes Job named after the RayJob
(``common.RayJobK8sJobNamespacedName``), ``<name>-<5 random>`` with the Job controller's labels;
all are found by their labels. KubeRay's Events on the RayJob are recorded, and a finished RayJob's
``deletionStrategy`` (or ``shutdownAfterJobFinishes``) is carried out.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import shlex
import uuid
from typing import Any

from moka_provider.local import engines, netns
from moka_provider.local.controllers.base import (
    Controller,
    Key,
    container_termination,
    key_of,
    now,
    parse_timestamp,
    timestamp,
)
from moka_provider.local.controllers.client import ControllerClient
from moka_provider.local.controllers.events import recorder_event
from moka_provider.local.controllers.kube_names import generated_name, random_string
from moka_provider.local.processes import free_port
from moka_provider.resources import RAY_JOB

FINISHED = ("Complete", "Failed")
RAY_TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
#: KubeRay's limit on a RayJob's name (its cluster's and pods' names derive from it).
MAX_NAME_LENGTH = 47
#: How long the submitter may outlive its finished Ray job before the status moves on anyway.
TRANSITION_GRACE_SECONDS = 30
#: How long to wait for a stopped Ray job to end before its cluster is removed.
STOP_WAIT_SECONDS = 8
HTTP_TIMEOUT_SECONDS = 2.0
#: The head's ports, as named container ports of its pod.
PORT_NAMES = ("gcs-server", "dashboard", "client", "dashboard-agent")
#: ``rayStartParams`` the controller decides; the others are passed on to ``ray start``.
MANAGED_START_PARAMS = frozenset(
    {
        "address", "block", "dashboard-agent-listen-port", "dashboard-host", "dashboard-port",
        "disable-usage-stats", "head", "include-dashboard", "max-worker-port", "min-worker-port",
        "node-ip-address", "num-cpus", "port", "ray-client-server-port", "temp-dir",
    }
)  # fmt: skip
#: ``ray start`` options that are flags: ``"true"`` gives the bare flag, ``"false"`` nothing.
FLAG_START_PARAMS = frozenset(
    {"no-monitor", "ray-debugger-external", "enable-object-reconstruction", "no-redirect-output"}
)
#: Runs ``ray start`` with a short temporary directory of its own (Ray puts its Unix sockets there,
#: whose paths may not exceed 107 bytes), removed when the head stops. Arguments: the command.
HEAD_SCRIPT = (
    "dir=$(mktemp -d /tmp/moka-ray.XXXXXX) || exit 1\n"
    "trap 'rm -rf \"$dir\"' EXIT\n"
    "trap 'exit 143' TERM INT\n"
    '"$@" --temp-dir="$dir"\n'
)
#: KubeRay's event recorder (rayjob_controller.go ``NewRayJobReconciler``: ``GetEventRecorder``).
EVENT_CONTROLLER = "rayjob-controller"
#: ``selectMostImpactfulRule``: the order in which overdue deletion rules win.
DELETION_IMPACT = ("DeleteNone", "DeleteWorkers", "DeleteCluster", "DeleteSelf")


# -- names and labels ------------------------------------------------------------------------------


def cluster_name(job: dict[str, Any]) -> str:
    """A new RayCluster name for the job (``utils.GenerateRayClusterName``)."""
    return f"{job['metadata']['name']}-{random_string()}"


def head_pod_name(cluster: str) -> str:
    """The head pod's name: ``utils.PodName(cluster, head, true)`` as a ``generateName``."""
    return generated_name(f"{cluster[:50]}-head-")


def origin_labels(job: dict[str, Any]) -> dict[str, str]:
    """What KubeRay labels the submitter with (``getSubmitterTemplate``) and the RayJob's cluster."""
    return {
        "ray.io/originated-from-crd": "RayJob",
        "ray.io/originated-from-cr-name": job["metadata"]["name"],
        "app.kubernetes.io/created-by": "kuberay-operator",
    }


def job_labels(job_name: str, controller_uid: str) -> dict[str, str]:
    """The labels the Kubernetes API gives a Job's pod template (k8s.io/kubernetes
    pkg/registry/batch/job/strategy.go ``generateSelector``; the ``batch.kubernetes.io/`` ones
    since Kubernetes 1.27)."""
    return {
        "controller-uid": controller_uid,
        "job-name": job_name,
        "batch.kubernetes.io/controller-uid": controller_uid,
        "batch.kubernetes.io/job-name": job_name,
    }


def head_selector(cluster: str) -> str:
    return f"ray.io/cluster={cluster},ray.io/node-type=head"


def pods_selector(name: str, node_type: str | None = None) -> str:
    selector = f"ray.io/originated-from-crd=RayJob,ray.io/originated-from-cr-name={name}"
    return f"{selector},ray.io/node-type={node_type}" if node_type else selector


def submitter_selector(name: str) -> str:
    """The submitter Job's pods (the Job is named after the RayJob)."""
    return f"{pods_selector(name)},batch.kubernetes.io/job-name={name}"


def deletion_rules(job: dict[str, Any]) -> list[tuple[str, int]]:
    """The deletions that apply to a finished RayJob, as (policy, seconds after ``endTime``).

    With ``deletionStrategy`` (the ``RayJobDeletionPolicy`` feature gate is on by default):
    its ``deletionRules`` whose condition matches (``handleDeletionRules``, ``isDeletionRuleMatched``),
    or the legacy ``onSuccess``/``onFailure`` policy after ``ttlSecondsAfterFinished``
    (``handleLegacyDeletionPolicy``); else ``shutdownAfterJobFinishes`` deletes the cluster
    (``handleShutdownAfterJobFinishes``: the RayJob itself only with the operator's
    ``DELETE_RAYJOB_CR_AFTER_JOB_FINISHES``, which is not played).
    """
    spec, status = job["spec"], _status(job)
    ttl = int(spec.get("ttlSecondsAfterFinished") or 0)
    strategy = spec.get("deletionStrategy")
    if strategy and strategy.get("deletionRules"):
        rules = []
        for rule in strategy["deletionRules"]:
            condition = rule.get("condition") or {}
            if "jobStatus" in condition:
                matched = condition["jobStatus"] == status.get("jobStatus")
            else:
                matched = condition.get("jobDeploymentStatus") == status.get("jobDeploymentStatus")
            if matched:
                rules.append((str(rule.get("policy")), int(condition.get("ttlSeconds") or 0)))
        return rules
    if strategy:
        side = {"SUCCEEDED": "onSuccess", "FAILED": "onFailure"}.get(str(status.get("jobStatus")))
        policy = ((strategy.get(side) or {}).get("policy") or "DeleteNone") if side else "DeleteNone"
        return [] if policy == "DeleteNone" else [(policy, ttl)]
    if spec.get("shutdownAfterJobFinishes"):
        return [("DeleteCluster", ttl)]
    return []


# -- the spec, read ---------------------------------------------------------------------------------


def validation_problem(job: dict[str, Any]) -> str | None:
    """Why the controller cannot run this RayJob (KubeRay's checks and moka local's limits)."""
    import yaml

    spec = job.get("spec") or {}
    if len(job["metadata"]["name"]) > MAX_NAME_LENGTH:
        return f"RayJob name should be no more than {MAX_NAME_LENGTH} characters"
    if spec.get("clusterSelector"):
        return (
            "clusterSelector (running on an existing RayCluster) is not supported by moka local: "
            "give the job its own cluster with rayClusterSpec"
        )
    if not spec.get("rayClusterSpec"):
        return "one of rayClusterSpec or clusterSelector must be set"
    mode = spec.get("submissionMode") or "K8sJobMode"
    if mode != "K8sJobMode":
        return f"submissionMode {mode} is not supported by moka local (K8sJobMode is)"
    if not spec.get("entrypoint"):
        return "entrypoint must be set"
    if int(spec.get("backoffLimit") or 0) < 0:
        return "backoffLimit must be a positive integer"
    if not (
        ((spec["rayClusterSpec"].get("headGroupSpec") or {}).get("template") or {}).get("spec") or {}
    ).get("containers"):
        return "rayClusterSpec.headGroupSpec.template.spec.containers must have the Ray container"
    try:
        if not isinstance(yaml.safe_load(spec.get("runtimeEnvYAML") or "{}") or {}, dict):
            return "runtimeEnvYAML must be a mapping"
    except yaml.YAMLError as error:
        return f"runtimeEnvYAML is not valid YAML: {error}"
    return None


def _unquote(value: Any) -> str:
    """A ``rayStartParams`` value without the shell quotes KubeRay's users put around JSON."""
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _first_container(group: dict[str, Any]) -> dict[str, Any]:
    containers = ((group.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    return dict(containers[0])


def _group_cpus(group: dict[str, Any]) -> float:
    """The CPUs one Ray node of a group has: ``num-cpus``, else its container's CPU request/limit."""
    from kubernetes.utils import parse_quantity

    params = group.get("rayStartParams") or {}
    if "num-cpus" in params:
        return float(_unquote(params["num-cpus"]))
    resources = _first_container(group).get("resources") or {}
    for kind in ("requests", "limits"):
        if (cpu := (resources.get(kind) or {}).get("cpu")) is not None:
            return float(parse_quantity(cpu))
    return 1.0


def cluster_cpus(cluster_spec: dict[str, Any], machine_cores: int) -> int:
    """The head's ``--num-cpus``: the head's and the worker groups' CPUs, within the machine."""
    total = _group_cpus(cluster_spec.get("headGroupSpec") or {})
    for group in cluster_spec.get("workerGroupSpecs") or []:
        if group.get("suspend"):
            continue
        replicas = group.get("replicas", group.get("minReplicas", 0)) or 0
        total += int(replicas) * int(group.get("numOfHosts") or 1) * _group_cpus(group)
    return max(1, min(machine_cores, math.ceil(total)))


def head_command(ray: str, ports: dict[str, int], cpus: int, params: dict[str, Any]) -> list[str]:
    """``ray start`` of the head (run under :data:`HEAD_SCRIPT`), on loopback and the given ports."""
    command = [
        "/bin/sh", "-c", HEAD_SCRIPT, "ray-head",
        ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1",
        f"--port={ports['gcs-server']}",
        "--dashboard-host=127.0.0.1", f"--dashboard-port={ports['dashboard']}",
        f"--ray-client-server-port={ports['client']}",
        f"--dashboard-agent-listen-port={ports['dashboard-agent']}",
        "--min-worker-port=0", "--max-worker-port=0",  # workers on any free port
        f"--num-cpus={cpus}", "--disable-usage-stats",
    ]  # fmt: skip
    for key, value in params.items():
        if key in MANAGED_START_PARAMS:
            continue
        text = _unquote(value)
        if key in FLAG_START_PARAMS:
            command += [f"--{key}"] if text.lower() == "true" else []
        else:
            command.append(f"--{key}={text}")
    return command


def submit_command(spec: dict[str, Any], ray: str, dashboard_url: str, job_id: str) -> list[str]:
    """KubeRay's submitter command: submit the job under its fixed id, then follow its log."""
    import yaml

    command = [
        ray, "job", "submit", f"--address=http://{dashboard_url}", f"--submission-id={job_id}",
        "--log-style=record", "--log-color=false",
    ]  # fmt: skip
    if runtime_env := yaml.safe_load(spec.get("runtimeEnvYAML") or "{}"):
        command.append(f"--runtime-env-json={json.dumps(runtime_env)}")
    if spec.get("metadata"):
        command.append(f"--metadata-json={json.dumps(spec['metadata'])}")
    for field, option in (
        ("entrypointNumCpus", "--entrypoint-num-cpus"),
        ("entrypointNumGpus", "--entrypoint-num-gpus"),
        ("entrypointResources", "--entrypoint-resources"),
    ):
        if spec.get(field) not in (None, "", 0):
            command.append(f"{option}={spec[field]}")
    # KubeRay puts the entrypoint into the submitter's shell command line, which splits it in words.
    return [*command, "--", *shlex.split(str(spec["entrypoint"]))]


def head_ports(pod: dict[str, Any]) -> dict[str, int]:
    ports = ((pod.get("spec") or {}).get("containers") or [{}])[0].get("ports") or []
    return {port["name"]: int(port["containerPort"]) for port in ports if port.get("name")}


def _ray_time(milliseconds: Any) -> str | None:
    if not milliseconds:
        return None
    return timestamp(datetime.datetime.fromtimestamp(int(milliseconds) / 1000, datetime.UTC))


def _status(job: dict[str, Any]) -> dict[str, Any]:
    return dict(job.get("status") or {})


def _phase(pod: dict[str, Any] | None) -> str | None:
    return None if pod is None else (pod.get("status") or {}).get("phase")


# -- the controller ----------------------------------------------------------------------------------


class RayJobController(Controller):
    resource = RAY_JOB

    def __init__(self, hook: ControllerClient, core: Any, node_name: str) -> None:
        super().__init__(hook, core, node_name)
        self._settled: set[Key] = set()  # finished jobs whose deletions (deletion_rules) are all done
        self._http: Any = None

    def needs_attention(self, obj: dict[str, Any]) -> bool:
        state = _status(obj).get("jobDeploymentStatus") or ""
        if state == "ValidationFailed":
            return False
        if state in FINISHED:
            return bool(deletion_rules(obj)) and key_of(obj) not in self._settled
        return True

    async def reconcile(self, job: dict[str, Any]) -> None:
        state = _status(job).get("jobDeploymentStatus") or ""
        if state == "":
            await self._initialize(job)
        elif state == "Initializing":
            await self._start_cluster(job)
        elif state == "Running":
            await self._follow_job(job)
        elif state in ("Retrying", "Suspending"):
            await self._release(job)
        elif state == "Suspended" and not job["spec"].get("suspend"):
            await self.set_status(job, {"jobDeploymentStatus": None, "jobStatus": None})
        elif state in FINISHED:
            await self._delete_after_finish(job)

    async def cleanup(self, namespace: str, name: str) -> None:
        """The RayJob is gone: stop its Ray job (its driver outlives the head otherwise), remove its pods."""
        pods = await self.core.list_namespaced_pod(namespace, label_selector=pods_selector(name))
        for pod in pods.items:
            env = {e.name: e.value for e in pod.spec.containers[0].env or []}
            if "RAY_JOB_SUBMISSION_ID" in env and not pod.metadata.deletion_timestamp:  # the submitter
                await self._stop_ray_job(env.get("RAY_DASHBOARD_ADDRESS", ""), env["RAY_JOB_SUBMISSION_ID"])
        await self.delete_pods(namespace, pods_selector(name))

    # -- steps ------------------------------------------------------------------------------------------

    async def _initialize(self, job: dict[str, Any]) -> None:
        """New: fix the job id and the cluster's name before anything starts (no double submission)."""
        status, spec = _status(job), job["spec"]
        generation = job["metadata"].get("generation")
        if problem := validation_problem(job):
            # Reconcile's validateRayJob: the metadata's check (the name's length) comes first.
            metadata = len(job["metadata"]["name"]) > MAX_NAME_LENGTH
            reason = "InvalidRayJobMetadata" if metadata else "InvalidRayJobSpec"
            namespace, name = key_of(job)
            await self._event(job, "Warning", reason, "Validate", f"{namespace}/{name}: {problem}")
            await self.set_status(
                job,
                {
                    "jobDeploymentStatus": "ValidationFailed",
                    "reason": "ValidationFailed",
                    "message": problem,
                    "observedGeneration": generation,
                },
            )
            return
        await self.set_status(
            job,
            {
                "jobId": status.get("jobId")
                or spec.get("jobId")
                or f"{job['metadata']['name']}-{random_string()}",  # utils.GenerateRayJobId
                "rayClusterName": status.get("rayClusterName") or cluster_name(job),
                "jobDeploymentStatus": "Initializing",
                "startTime": timestamp(),
                "failed": int(status.get("failed") or 0),
                "succeeded": int(status.get("succeeded") or 0),
                "observedGeneration": generation,
            },
        )

    async def _start_cluster(self, job: dict[str, Any]) -> None:
        """Initializing: start the head, wait until its dashboard answers, start the submitter."""
        if await self._suspended_or_late(job):
            return
        if problem := engines.missing("ray") or netns.missing_tools():
            await self._fail(job, "SubmissionFailed", problem)
            return
        namespace, status = job["metadata"]["namespace"], _status(job)
        head = await self.find_pod(job, head_selector(status["rayClusterName"]))
        if head is None:
            await self._create_head(job)
            return
        if _phase(head) in ("Succeeded", "Failed"):
            await self._fail(job, "SubmissionFailed", await self._ended(namespace, head, "the Ray head"))
            return
        ports = head_ports(head)
        dashboard_url = f"127.0.0.1:{ports['dashboard']}"
        if _phase(head) != "Running" or await self._get(dashboard_url, "/api/jobs/") is None:
            return
        if await self.find_pod(job, submitter_selector(job["metadata"]["name"])) is None:
            await self._create_submitter(job, dashboard_url)
        cpus = head["spec"]["containers"][0]["resources"]["requests"]["cpu"]
        await self.set_status(
            job,
            {
                "jobDeploymentStatus": "Running",
                "dashboardURL": dashboard_url,
                "rayClusterStatus": {
                    "state": "ready",
                    "head": {
                        "podName": head["metadata"]["name"],
                        "podIP": "127.0.0.1",
                        "serviceIP": "127.0.0.1",
                    },
                    "endpoints": {name: str(port) for name, port in ports.items()},
                    "desiredCPU": cpus,
                    "lastUpdateTime": timestamp(),
                },
            },
        )

    async def _follow_job(self, job: dict[str, Any]) -> None:
        """Running: mirror the Ray job's state; finish once it ended and the submitter is done."""
        if await self._suspended_or_late(job):
            return
        namespace, status = job["metadata"]["namespace"], _status(job)
        submitter = await self.find_pod(job, submitter_selector(job["metadata"]["name"]))
        submitter_done = submitter is None or _phase(submitter) in ("Succeeded", "Failed")
        info = await self._get(status["dashboardURL"], f"/api/jobs/{status['jobId']}")
        if info:
            update = {
                "jobStatus": info.get("status"),
                "message": info.get("message"),
                "rayJobInfo": {
                    "startTime": _ray_time(info.get("start_time")),
                    "endTime": _ray_time(info.get("end_time")),
                },
            }
            if info.get("status") in RAY_TERMINAL:
                ended = parse_timestamp(_ray_time(info.get("end_time"))) or now()
                late = now() >= ended + datetime.timedelta(seconds=TRANSITION_GRACE_SECONDS)
                if submitter_done or late:
                    await self._finish(job, update, late)
                    return
            if any(status.get(field) != value for field, value in update.items()):
                await self.set_status(job, update)
        elif submitter_done:  # the job never reached Ray, or the head went away under it
            reason = "AppFailed" if status.get("jobStatus") == "FAILED" else "SubmissionFailed"
            if submitter is None:
                detail = f"the submitter pod of Kubernetes Job {namespace}/{job['metadata']['name']} is gone"
            else:
                detail = await self._ended(namespace, submitter, "the submitter")
            await self._fail(job, reason, f"Job submission has failed: {detail}")

    async def _finish(self, job: dict[str, Any], update: dict[str, Any], late: bool) -> None:
        reason = "JobDeploymentStatusTransitionGracePeriodExceeded" if late else None
        if update["jobStatus"] == "FAILED":
            await self._fail(job, reason or "AppFailed", update["message"], update)
            return
        succeeded = int(_status(job).get("succeeded") or 0) + (update["jobStatus"] == "SUCCEEDED")
        await self.set_status(
            job,
            {
                **update,
                "jobDeploymentStatus": "Complete",
                "reason": reason,
                "succeeded": succeeded,
                "endTime": timestamp(),
            },
        )

    async def _fail(
        self, job: dict[str, Any], reason: str, message: str, update: dict[str, Any] | None = None
    ) -> None:
        """Failed, or Retrying while ``backoffLimit`` has attempts left (not after a deadline)."""
        failed = int(_status(job).get("failed") or 0) + 1
        retry = reason != "DeadlineExceeded" and failed < int(job["spec"].get("backoffLimit") or 0) + 1
        patch = {**(update or {}), "reason": reason, "message": message, "failed": failed}
        if retry:
            patch["jobDeploymentStatus"] = "Retrying"
        else:
            patch.update(jobDeploymentStatus="Failed", endTime=timestamp())
        await self.set_status(job, patch)

    async def _suspended_or_late(self, job: dict[str, Any]) -> bool:
        """Suspension and ``activeDeadlineSeconds``, checked before each step of a live job."""
        status = _status(job)
        if job["spec"].get("suspend"):
            await self.set_status(job, {"jobDeploymentStatus": "Suspending"})
            return True
        deadline = job["spec"].get("activeDeadlineSeconds")
        started = parse_timestamp(status.get("startTime"))
        if deadline is None or started is None:
            return False
        if now() < started + datetime.timedelta(seconds=int(deadline)):
            return False
        if status.get("dashboardURL") and status.get("jobStatus") not in RAY_TERMINAL:
            await self._stop_ray_job(status["dashboardURL"], status["jobId"])
        await self._fail(
            job,
            "DeadlineExceeded",
            f"The RayJob has passed the activeDeadlineSeconds. StartTime: {status['startTime']}. "
            f"ActiveDeadlineSeconds: {deadline}",
        )
        return True

    async def _release(self, job: dict[str, Any]) -> None:
        """Retrying / Suspending: remove the cluster and the submitter, then reset the status
        (the reset leaves ``jobId`` empty: ``initRayJobStatusIfNeed`` gives the next attempt a new one)."""
        status, (namespace, name) = _status(job), key_of(job)
        if status.get("dashboardURL") and status.get("jobStatus") not in RAY_TERMINAL:
            await self._stop_ray_job(status["dashboardURL"], status["jobId"])
        await self._delete_cluster(job)
        if await self._live(job, submitter_selector(name)):  # deleteSubmitterJob
            await self._event(
                job,
                "Normal",
                "DeletedRayJobSubmitter",
                "Delete",
                f"Deleted submitter K8s Job {namespace}/{name}",
            )
        if await self.delete_pods(namespace, pods_selector(name)):
            return  # still going away
        retrying = status.get("jobDeploymentStatus") == "Retrying"
        await self.set_status(
            job,
            {
                "jobDeploymentStatus": None if retrying else "Suspended",
                "jobStatus": None,
                "jobId": None,
                "rayClusterName": None,
                "dashboardURL": None,
                "message": None,
                "reason": None,
                "rayJobInfo": None,
                "rayClusterStatus": None,
            },
        )

    async def _delete_after_finish(self, job: dict[str, Any]) -> None:
        """A finished job's :func:`deletion_rules`: once a rule's time has come and its deletion is
        not done, the most impactful such rule is carried out (``selectMostImpactfulRule``).

        ``DeleteCluster`` keeps the submitter pod, as KubeRay keeps the submitter Job: it holds the
        job's log. There are no worker pods locally, so ``DeleteWorkers`` has nothing to do.
        """
        if not self.needs_attention(job):
            return
        rules = deletion_rules(job)
        ended = parse_timestamp(_status(job).get("endTime")) or now()
        due = [policy for policy, ttl in rules if now() >= ended + datetime.timedelta(seconds=ttl)]
        undone = [policy for policy in due if not await self._deletion_done(job, policy)]
        if undone:
            policy = max(
                undone, key=lambda policy: DELETION_IMPACT.index(policy) if policy in DELETION_IMPACT else -1
            )
            if policy == "DeleteSelf":
                await self.hook.delete(
                    self.resource, job["metadata"]["name"], job["metadata"]["namespace"], missing_ok=True
                )
            elif policy == "DeleteCluster":
                status = _status(job)
                if status.get("dashboardURL") and status.get("jobStatus") not in RAY_TERMINAL:
                    await self._stop_ray_job(status["dashboardURL"], status["jobId"])
                await self._delete_cluster(job)
        elif len(due) == len(rules):
            self._settled.add(key_of(job))

    async def _deletion_done(self, job: dict[str, Any], policy: str) -> bool:
        """``isDeletionActionCompleted``: the cluster is gone for ``DeleteCluster``."""
        if policy == "DeleteSelf":
            return False
        if policy == "DeleteCluster":
            return await self.find_pod(job, pods_selector(job["metadata"]["name"], "head")) is None
        return True

    async def _delete_cluster(self, job: dict[str, Any]) -> None:
        """``deleteClusterResources``: the head pod goes, with a ``DeletedRayCluster`` event."""
        namespace, name = key_of(job)
        if await self._live(job, pods_selector(name, "head")):
            cluster = _status(job).get("rayClusterName")
            await self._event(
                job, "Normal", "DeletedRayCluster", "Delete", f"Deleted cluster {namespace}/{cluster}"
            )
        await self.delete_pods(namespace, pods_selector(name, "head"))

    async def _live(self, job: dict[str, Any], selector: str) -> bool:
        """Whether a pod of ``job`` matching ``selector`` is there and not being deleted."""
        pod = await self.find_pod(job, selector)
        return pod is not None and not pod["metadata"].get("deletionTimestamp")

    async def _event(self, job: dict[str, Any], event_type: str, reason: str, action: str, note: str) -> None:
        await self.record_event(recorder_event(job, event_type, reason, action, note, EVENT_CONTROLLER))

    # -- pods ------------------------------------------------------------------------------------------

    async def _create_head(self, job: dict[str, Any]) -> None:
        """The RayCluster's head pod (``getOrCreateRayClusterInstance`` records ``CreatedRayCluster``)."""
        cluster_spec = job["spec"]["rayClusterSpec"]
        head_group = cluster_spec["headGroupSpec"]
        template = head_group.get("template") or {}
        container = _first_container(head_group)
        ray = engines.engine_program("ray", "ray")
        assert ray is not None
        ports = {name: free_port() for name in PORT_NAMES}
        cpus = cluster_cpus(cluster_spec, os.cpu_count() or 1)
        cluster = _status(job)["rayClusterName"]
        namespace = job["metadata"]["namespace"]
        await self._event(
            job, "Normal", "CreatedRayCluster", "Create", f"Created RayCluster {namespace}/{cluster}"
        )
        labels = {
            **((template.get("metadata") or {}).get("labels") or {}),
            **(head_group.get("labels") or {}),
            **origin_labels(job),
            "ray.io/cluster": cluster,
            "ray.io/node-type": "head",
            "ray.io/group": "headgroup",
            "ray.io/is-ray-node": "yes",
            "ray.io/identifier": f"{cluster}-head",
            "app.kubernetes.io/name": "kuberay",
        }
        env = [
            *(container.get("env") or []),
            *self._engine_env(),
            {"name": "RAY_CLUSTER_NAME", "value": cluster},
            {"name": "RAY_USAGE_STATS_ENABLED", "value": "0"},
            # Ray's drain on SIGTERM waits for a GCS that the pod's stop has already ended.
            {"name": "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "value": "0"},
        ]
        await self.create_pod(
            job,
            head_pod_name(cluster),
            labels,
            {
                "name": container.get("name") or "ray-head",
                "image": container.get("image") or "rayproject/ray",
                # Ray's core servers listen on every interface: keep them in a network namespace
                # of their own, with only the dashboard forwarded to loopback.
                "command": netns.isolated(
                    head_command(str(ray), ports, cpus, head_group.get("rayStartParams") or {}),
                    [ports["dashboard"]],
                ),
                "env": env,
                "ports": [{"name": port, "containerPort": number} for port, number in ports.items()],
                "resources": {"requests": {"cpu": str(cpus)}},
            },
        )

    async def _create_submitter(self, job: dict[str, Any], dashboard_url: str) -> None:
        """The pod of KubeRay's submitter Job (``createNewK8sJob``, named after the RayJob, records
        ``CreatedRayJobSubmitter``); a user's ``submitterPodTemplate`` command is used as it is."""
        (namespace, name), job_id = key_of(job), _status(job)["jobId"]
        await self._event(
            job, "Normal", "CreatedRayJobSubmitter", "Create", f"Created Kubernetes Job {namespace}/{name}"
        )
        template = job["spec"].get("submitterPodTemplate") or {}
        container = dict((((template.get("spec") or {}).get("containers")) or [{}])[0])
        ray = engines.engine_program("ray", "ray")
        assert ray is not None
        command = container.get("command") or submit_command(job["spec"], str(ray), dashboard_url, job_id)
        labels = {
            **((template.get("metadata") or {}).get("labels") or {}),
            **origin_labels(job),
            **job_labels(name, str(uuid.uuid4())),  # the Job's uid: a new Job each attempt
        }
        env = [
            *(container.get("env") or []),
            *self._engine_env(),
            {"name": "PYTHONUNBUFFERED", "value": "1"},
            {"name": "RAY_DASHBOARD_ADDRESS", "value": dashboard_url},
            {"name": "RAY_JOB_SUBMISSION_ID", "value": job_id},
        ]
        await self.create_pod(
            job,
            generated_name(f"{name}-"),  # the Job controller's pod: generateName "<job name>-"
            labels,
            {
                "name": container.get("name") or "ray-job-submitter",
                "image": container.get("image") or "rayproject/ray",
                "command": command,
                "args": container.get("args") or [],
                "env": env,
            },
        )

    @staticmethod
    def _engine_env() -> list[dict[str, str]]:
        """The engine's programs first on PATH, so that ``python`` and ``ray`` in commands are Ray's."""
        ray = engines.engine_program("ray", "ray")
        assert ray is not None
        return [{"name": "PATH", "value": f"{ray.parent}{os.pathsep}{os.environ.get('PATH', '')}"}]

    async def _ended(self, namespace: str, pod: dict[str, Any], what: str) -> str:
        terminated = container_termination(pod) or {}
        tail = " | ".join(await self.log_tail(namespace, pod["metadata"]["name"], 5))
        return (
            f"{what} pod {pod['metadata']['name']} ended with exit code "
            f"{terminated.get('exitCode', 'unknown')} ({terminated.get('reason', 'Error')}): {tail}"
        )

    # -- the head's dashboard ----------------------------------------------------------------------------

    async def _session(self) -> Any:
        import aiohttp

        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS))
        return self._http

    async def _get(self, dashboard_url: str, path: str) -> Any:
        """A JSON answer of the dashboard, or ``None`` when it does not answer or has no such thing."""
        import aiohttp

        try:
            async with (await self._session()).get(f"http://{dashboard_url}{path}") as response:
                if response.status != 200:
                    return None
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def _stop_ray_job(self, dashboard_url: str, job_id: str) -> None:
        """Ask Ray to stop the job (SIGTERM, then SIGKILL to its driver) and wait until it ended."""
        import asyncio

        import aiohttp

        try:
            async with (await self._session()).post(f"http://{dashboard_url}/api/jobs/{job_id}/stop"):
                pass
        except (aiohttp.ClientError, TimeoutError):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_WAIT_SECONDS
        while loop.time() < deadline:
            info = await self._get(dashboard_url, f"/api/jobs/{job_id}")
            if not isinstance(info, dict) or info.get("status") in RAY_TERMINAL:
                return
            await asyncio.sleep(0.2)
