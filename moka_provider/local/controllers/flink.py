"""The local FlinkDeployment and FlinkSessionJob controllers: the Flink operator's states, run with PyFlink.

Status fields follow the flink-kubernetes-operator (docs/design.md section 3): ``lifecycleState``
``CREATED -> DEPLOYED -> STABLE`` (or ``FAILED``), ``jobManagerDeploymentStatus`` ``DEPLOYING ->
DEPLOYED_NOT_READY -> READY``, ``jobStatus`` (``jobId``, ``jobName``, ``state`` ``CREATED -> RUNNING
-> FINISHED | FAILED``, ``startTime``/``updateTime`` as epoch-millis strings) and ``error``, a JSON
string shaped like the operator's (``type``, ``message``, ``additionalMetadata``, ``throwableList``).

An application deployment's JobManager pod (named and labelled as the pod of the Deployment Flink
creates: ``<name>-<pod-template-hash>-<5 random>``, ``app``, ``component=jobmanager``,
``type=flink-native-kubernetes``, ``pod-template-hash``; found by those labels) runs the job itself with Flink's own CLI from the engine's
virtualenv, ``<pyflink>/bin/flink run -t local``: a mini cluster in that process, ``flinkConfiguration``
passed on as ``-D`` options (``execution.runtime-mode: BATCH`` included), ``parallelism.default`` from
``job.parallelism`` capped at the machine's cores (the pod requests that many CPUs), and the job id
fixed with ``$internal.pipeline.job-id`` as the operator does, so ``jobStatus.jobId`` is the id Flink
reports. Python jobs (``PythonDriver`` with ``-py``/``-pym``, or a ``.py`` jarURI) run with the
engine's python; jars with ``-c entryClass``. The job is RUNNING (and the JobManager READY) once
Flink logs its submission, FINISHED or FAILED by the process's exit; the JobManager of a finished
job is removed after ``kubernetes.operator.jm-deployment.shutdown-ttl`` (60 s here, one day in the
operator), turning it MISSING while the job's state stays.

A session deployment (no ``spec.job``) gets a JobManager pod that only stands for the session
cluster: locally each FlinkSessionJob runs in its own mini cluster, in a pod of its own (labelled as
the session's JobManager, where a cluster runs the job), once its session is READY. The job id derives from the resource's uid and generation, and every step is
decided from the status and the pods, so a restarted controller neither loses nor repeats a run.
The operator's Events on the resources are recorded (``Submit``, ``JobStatusChanged``, ``Missing``,
``ValidationError``). Not played: upgrades of a running spec, suspend/savepoints, restart strategies
across pods.

What the controllers decide without I/O (the job id, the ``flink run`` command line and its ``-D``
options, ``status.error``) lives in ``flink_job.py``; this module reads files and talks to Kubernetes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, ClassVar

from moka_provider.exceptions import MokaApiError
from moka_provider.local import engines
from moka_provider.local.controllers.base import (
    Controller,
    container_termination,
    now,
    parse_timestamp,
)
from moka_provider.local.controllers.events import flink_event
from moka_provider.local.controllers.flink_job import (
    JobSpecError,
    deployment_failed_error,
    failure_error,
    fixed_job_id,
    flat_configuration,
    is_python_program,
    jar_path,
    job_arguments,
    job_parallelism,
    job_submitted,
    local_run_command,
    missing_jobmanager_error,
    program_arguments,
    run_options,
    shutdown_ttl,
    validation_error,
)
from moka_provider.local.controllers.kube_names import pod_template_hash, replica_set_pod_name
from moka_provider.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB

PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"
#: How long a FlinkSessionJob waits for its FlinkDeployment to appear before failing.
SESSION_WAIT_SECONDS = 5.0
TERMINAL_JOB_STATES = ("FINISHED", "FAILED", "CANCELED")
SESSION_JOB_LABEL = "moka.local/flink-session-job"
SESSION_PLACEHOLDER = (
    "import signal, sys; print(sys.argv[1], flush=True); signal.pause()",
    "moka local: session cluster up; each FlinkSessionJob runs in a local mini cluster of its own",
)


# -- the job's command line: the engine's Flink, the job's files ---------------------------------


def flink_home() -> Path | None:
    """The Flink distribution inside the engine's PyFlink package (``bin/flink``, ``opt/``)."""
    found = sorted(engines.engine_dir("flink").glob("lib/python*/site-packages/pyflink/bin/flink"))
    return found[0].parent.parent if found else None


def local_program_arguments(job: dict[str, Any], home: Path, python: Path) -> list[str]:
    """What follows ``flink run [options]``, once the files it names are found on this machine."""
    args = job_arguments(job, python)
    if "-py" in args[:-1]:
        _require_file(args[args.index("-py") + 1], "Python program")
    entry = job.get("entryClass")
    if entry == PYTHON_DRIVER:
        # The upstream examples' jarURI is a placeholder for Flink's own flink-python jar.
        jars = sorted((home / "opt").glob("flink-python*.jar"))
        if not jars:
            raise JobSpecError(f"no flink-python jar in {home / 'opt'}: reinstall the flink engine")
        return program_arguments(PYTHON_DRIVER, str(jars[0]), args)
    path = jar_path(job)
    _require_file(path, "Python program" if is_python_program(path) else "jar")
    return program_arguments(entry, path, args)


def _require_file(path: str, what: str) -> None:
    if not Path(path).is_file():
        raise JobSpecError(
            f"{what} {path} does not exist on this machine (paths inside a Flink image are not there locally)"
        )


def run_command(job: dict[str, Any], conf: dict[str, str], job_id: str, parallelism: int) -> list[str]:
    """``flink run -t local`` of the job, from the engine's Flink."""
    home, python = flink_home(), engines.engine_program("flink", "python")
    if home is None or python is None:
        raise JobSpecError(engines.missing("flink") or "flink is not installed for moka local")
    options = run_options(conf, job_id, parallelism, python)
    return local_run_command(home, options, local_program_arguments(job, home, python))


# -- timestamps, pods and events -----------------------------------------------------------------


def millis() -> str:
    return str(int(time.time() * 1000))


def jobmanager_labels(cluster_id: str) -> dict[str, str]:
    """Flink's JobManager selectors, ``KubernetesUtils#getJobManagerSelectors`` in Flink's native
    Kubernetes integration (``type=flink-native-kubernetes``, ``app=<cluster id>``,
    ``component=jobmanager``), which the operator looks pods up by (``NativeFlinkService#getJmPodList``);
    the cluster id is the resource's name (``FlinkConfigBuilder`` sets ``kubernetes.cluster-id``)."""
    return {"type": "flink-native-kubernetes", "app": cluster_id, "component": "jobmanager"}


def selector(labels: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in labels.items())


#: ``AbstractFlinkResourceReconciler.MSG_SUBMIT``, the message of a ``Submit`` event.
MSG_SUBMIT = "Starting deployment"
#: ``AbstractFlinkDeploymentObserver#onMissingDeployment``'s message of a ``Missing`` event.
MSG_MISSING_JOBMANAGER = "Missing JobManager deployment"
#: ``JobStatusObserver.JOB_NOT_FOUND_ERR``, the message of a job's ``Missing`` event.
MSG_JOB_NOT_FOUND = "Job Not Found"


# -- controllers ---------------------------------------------------------------------------------


class FlinkJobController(Controller):
    """What FlinkDeployment (application mode) and FlinkSessionJob share: one pod runs one job."""

    #: Whether the resource reports its JobManager (``jobManagerDeploymentStatus``).
    reports_jobmanager: ClassVar[bool] = False
    #: The ``source.component`` of the resource's ``Submit`` event.
    submit_component: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._removed: set[tuple[str, str, str]] = set()  # (namespace, name, uid) whose pods expired

    @staticmethod
    def job_state(obj: dict[str, Any]) -> str:
        return str(((obj.get("status") or {}).get("jobStatus") or {}).get("state") or "")

    def new_pod(self, obj: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The name and labels of a new pod to run the job in."""
        raise NotImplementedError

    def pod_selector(self, obj: dict[str, Any]) -> str:
        """The label selector of the pods running the job."""
        raise NotImplementedError

    def _jobmanager(self, value: str) -> dict[str, Any]:
        return {"jobManagerDeploymentStatus": value} if self.reports_jobmanager else {}

    async def _create_pod(
        self,
        obj: dict[str, Any],
        command: list[str],
        container: dict[str, Any] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> None:
        """The pod of ``obj`` (:meth:`new_pod` names and labels it), Flink's main container running
        ``command``."""
        name, labels = self.new_pod(obj)
        main = {
            "name": "flink-main-container",
            "image": obj["spec"].get("image") or "flink",
            "command": command,
        }
        await self.create_pod(obj, name, labels, {**main, **(container or {})}, annotations=annotations)

    async def event(
        self, obj: dict[str, Any], event_type: str, reason: str, component: str, message: str
    ) -> None:
        """An event as the operator's ``EventRecorder#triggerEvent`` records it."""
        await self.record_event(flink_event(obj, event_type, reason, message, component))

    async def _create(self, obj: dict[str, Any]) -> None:
        """First sight: accepted, with the job's id."""
        await self.set_status(
            obj,
            {
                "lifecycleState": "CREATED",
                "observedGeneration": obj["metadata"].get("generation"),
                "error": None,
                "jobStatus": {
                    "jobId": fixed_job_id(obj),
                    "jobName": obj["metadata"]["name"],
                    "state": "CREATED",
                    "updateTime": millis(),
                },
            },
        )

    async def _fail(self, obj: dict[str, Any], error: str, jobmanager: str = "ERROR") -> None:
        """The resource cannot run (spec, engine, session cluster): FAILED before a deployment."""
        await self.set_status(
            obj, {"lifecycleState": "FAILED", "error": error, **self._jobmanager(jobmanager)}
        )

    async def _invalid(self, obj: dict[str, Any], message: str) -> None:
        """Not runnable as specified: a ``ValidationError`` event (``FlinkDeploymentController#
        validateDeployment``, ``FlinkSessionJobController#validateSessionJob``), then FAILED."""
        await self.event(obj, "Warning", "ValidationError", "Operator", message)
        await self._fail(obj, validation_error(message))

    async def _start_job(self, obj: dict[str, Any], conf: dict[str, str]) -> None:
        problem = engines.missing("flink")
        job = obj["spec"].get("job") or {}
        parallelism = job_parallelism(job, conf, os.cpu_count() or 1)
        job_id = fixed_job_id(obj)
        try:
            if problem:
                raise JobSpecError(problem)
            command = run_command(job, conf, job_id, parallelism)
        except JobSpecError as error:
            await self._invalid(obj, str(error))
            return
        if await self.find_pod(obj, self.pod_selector(obj)) is None:  # one pod, as a ReplicaSet keeps
            await self.event(obj, "Normal", "Submit", self.submit_component, MSG_SUBMIT)
            await self._create_pod(
                obj,
                command,
                {
                    "env": [{"name": "FLINK_LOG_DIR", "value": "log"}],
                    "resources": {"requests": {"cpu": str(parallelism)}},
                },
                annotations={"moka.local/flink-job-id": job_id},
            )
        spec_json = json.dumps(obj["spec"], sort_keys=True)
        await self.set_status(
            obj,
            {
                "lifecycleState": "DEPLOYED",
                **self._jobmanager("DEPLOYING"),
                "jobStatus": {"jobId": job_id, "state": "CREATED", "updateTime": millis()},
                "reconciliationStatus": {
                    "state": "DEPLOYED",
                    "lastReconciledSpec": spec_json,
                    "reconciliationTimestamp": int(time.time() * 1000),
                },
            },
        )

    async def _follow(self, obj: dict[str, Any]) -> None:
        """Move the job along with its pod: submitted -> RUNNING, exit -> FINISHED | FAILED."""
        namespace = obj["metadata"]["namespace"]
        pod = await self.find_pod(obj, self.pod_selector(obj))
        if pod is not None and pod["metadata"].get("deletionTimestamp"):
            return  # going away: wait until it is gone
        if pod is None and self.job_state(obj) == "CREATED":
            # Not submitted yet (it was deleted before the job started): deploy again, as the
            # operator recovers a missing JobManager.
            await self.set_status(obj, {"lifecycleState": "CREATED"})
            return
        if pod is None:
            if self.reports_jobmanager:
                await self.event(obj, "Warning", "Missing", "JobManagerDeployment", MSG_MISSING_JOBMANAGER)
            else:
                await self.event(obj, "Warning", "Missing", "Job", MSG_JOB_NOT_FOUND)
            await self._finish(
                obj,
                "FAILED",
                missing_jobmanager_error(
                    f"the pod running the job ({namespace}, {self.pod_selector(obj)}) is gone"
                ),
                jobmanager="MISSING",
            )
            return
        name = pod["metadata"]["name"]
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Running":
            if (
                self.reports_jobmanager
                and (obj.get("status") or {}).get("jobManagerDeploymentStatus") == "DEPLOYING"
            ):
                obj = await self.set_status(obj, self._jobmanager("DEPLOYED_NOT_READY"))
            if self.job_state(obj) == "CREATED" and await self._submitted(obj, namespace, name):
                await self._running(obj)
        elif phase in ("Succeeded", "Failed"):
            if (
                phase == "Failed"
                and self.reports_jobmanager
                and self.job_state(obj) == "CREATED"
                and not await self._submitted(obj, namespace, name)
            ):
                await self._crash_loop(obj, pod)
                return
            if self.job_state(obj) == "CREATED":
                obj = await self._running(obj)
            if phase == "Succeeded":
                await self._finish(obj, "FINISHED", None)
            else:
                terminated = container_termination(pod) or {}
                lines = await self.log_tail(namespace, name, lines=60)
                await self._finish(obj, "FAILED", failure_error(lines, terminated))

    async def _crash_loop(self, obj: dict[str, Any], pod: dict[str, Any]) -> None:
        """The JobManager died before it submitted the job: on a cluster its Deployment restarts it
        into ``CrashLoopBackOff``, which the operator reports as ``jobManagerDeploymentStatus:
        ERROR``, ``jobStatus.state: RECONCILING`` and a ``DeploymentFailedException`` (message
        ``[<container>] CrashLoop - <termination message>``), with a Warning Event of the waiting
        reason, and retries without end (``AbstractFlinkDeploymentObserver#observeJmDeployment``,
        ``DeploymentFailedException#forContainerStatus``, ``FlinkDeploymentController#reconcile``).
        Written once: the operator writes nothing more while nothing changes."""
        if (obj.get("status") or {}).get("jobManagerDeploymentStatus") == "ERROR":
            return
        terminated = container_termination(pod) or {}
        lines = await self.log_tail(obj["metadata"]["namespace"], pod["metadata"]["name"], lines=5)
        detail = terminated.get("message") or (
            lines[-1] if lines else f"exit code {terminated.get('exitCode')}"
        )
        message = f"[flink-main-container] CrashLoop - {detail}"
        await self.event(obj, "Warning", "CrashLoopBackOff", "JobManagerDeployment", message)
        await self.set_status(
            obj,
            {
                **self._jobmanager("ERROR"),
                "jobStatus": {"state": "RECONCILING", "updateTime": millis()},
                "error": deployment_failed_error(message, "CrashLoopBackOff"),
            },
        )

    async def _submitted(self, obj: dict[str, Any], namespace: str, pod: str) -> bool:
        job_id = str((obj["status"].get("jobStatus") or {}).get("jobId"))
        return job_submitted(await self.log_tail(namespace, pod, 200), job_id)

    async def _job_status_changed(self, obj: dict[str, Any], state: str) -> None:
        """``JobStatusObserver#updateJobStatus``'s ``JobStatusChanged`` event."""
        previous = self.job_state(obj)
        if previous != state:
            message = (
                f"Job status changed from {previous} to {state}"
                if previous
                else f"Job status changed to {state}"
            )
            await self.event(obj, "Normal", "JobStatusChanged", "Job", message)

    async def _running(self, obj: dict[str, Any]) -> dict[str, Any]:
        await self._job_status_changed(obj, "RUNNING")
        now = millis()
        return await self.set_status(
            obj,
            {
                "lifecycleState": "STABLE",
                **self._jobmanager("READY"),
                "jobStatus": {"state": "RUNNING", "startTime": now, "updateTime": now},
                "reconciliationStatus": {
                    "lastStableSpec": (obj["status"].get("reconciliationStatus") or {}).get(
                        "lastReconciledSpec"
                    )
                },
            },
        )

    async def _finish(
        self, obj: dict[str, Any], state: str, error: str | None, jobmanager: str = "READY"
    ) -> None:
        await self._job_status_changed(obj, state)
        await self.set_status(
            obj,
            {
                "lifecycleState": "STABLE" if state == "FINISHED" else "FAILED",
                **self._jobmanager(jobmanager),
                "jobStatus": {"state": state, "updateTime": millis()},
                "error": error,
            },
        )

    async def _expire(self, obj: dict[str, Any], conf: dict[str, str]) -> None:
        """A finished job's pod goes after the shutdown TTL (the job's state stays)."""
        finished = int((obj["status"].get("jobStatus") or {}).get("updateTime") or 0) / 1000
        if time.time() < finished + shutdown_ttl(conf):
            return
        await self.delete_pods(obj["metadata"]["namespace"], self.pod_selector(obj))
        self._removed.add((*self._key(obj), obj["metadata"]["uid"]))
        if self.reports_jobmanager:
            await self.set_status(obj, self._jobmanager("MISSING"))

    @staticmethod
    def _key(obj: dict[str, Any]) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _expired(self, obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        if self.reports_jobmanager and status.get("jobManagerDeploymentStatus") in ("MISSING", "ERROR"):
            return True
        return (*self._key(obj), obj["metadata"]["uid"]) in self._removed


class FlinkDeploymentController(FlinkJobController):
    resource = FLINK_DEPLOYMENT
    reports_jobmanager = True
    #: ``ApplicationReconciler#deploy``'s ``Submit`` event.
    submit_component = "JobManagerDeployment"

    def new_pod(self, obj: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The JobManager pod: Flink creates a Deployment named after the cluster id
        (``KubernetesUtils#getDeploymentName``), whose ReplicaSet's pod gets a generated name and
        the ``pod-template-hash`` label; the hash here follows the spec's generation."""
        template_hash = pod_template_hash(f"{obj['metadata']['uid']}/{obj['metadata'].get('generation', 1)}")
        name = obj["metadata"]["name"]
        return replica_set_pod_name(name, template_hash), {
            **jobmanager_labels(name),
            "pod-template-hash": template_hash,
        }

    def pod_selector(self, obj: dict[str, Any]) -> str:
        return selector(jobmanager_labels(obj["metadata"]["name"]))

    def needs_attention(self, obj: dict[str, Any]) -> bool:
        return not self._expired(obj)

    async def reconcile(self, obj: dict[str, Any]) -> None:
        status = obj.get("status") or {}
        lifecycle = status.get("lifecycleState")
        conf = flat_configuration(obj["spec"].get("flinkConfiguration"))
        if not lifecycle:
            await self._create(obj)
        elif lifecycle == "CREATED":
            if obj["spec"].get("job"):
                await self._start_job(obj, conf)
            else:
                await self._start_session(obj)
        elif status.get("jobManagerDeploymentStatus") in ("ERROR", "MISSING"):
            return
        elif not obj["spec"].get("job"):
            await self._follow_session(obj)
        elif self.job_state(obj) in TERMINAL_JOB_STATES:
            await self._expire(obj, conf)
        else:
            await self._follow(obj)

    async def cleanup(self, namespace: str, name: str) -> None:
        # The session's jobs go with their session cluster, as on a cluster.
        await self.delete_pods(namespace, f"app={name},type=flink-native-kubernetes")

    # -- session clusters ----------------------------------------------------------------------

    async def _create(self, obj: dict[str, Any]) -> None:
        if obj["spec"].get("job"):
            await super()._create(obj)
        else:
            await self.set_status(
                obj, {"lifecycleState": "CREATED", "observedGeneration": obj["metadata"].get("generation")}
            )

    async def _start_session(self, obj: dict[str, Any]) -> None:
        python = engines.engine_program("flink", "python")
        problem = engines.missing("flink")
        if problem or python is None:
            await self._invalid(obj, str(problem))
            return
        if await self.find_pod(obj, self.pod_selector(obj)) is None:
            await self._create_pod(obj, [str(python), "-c", *SESSION_PLACEHOLDER])
        await self.set_status(obj, {"lifecycleState": "DEPLOYED", **self._jobmanager("DEPLOYING")})

    async def _follow_session(self, obj: dict[str, Any]) -> None:
        pod = await self.find_pod(obj, self.pod_selector(obj))
        phase = ((pod or {}).get("status") or {}).get("phase")
        current = (obj.get("status") or {}).get("jobManagerDeploymentStatus")
        if phase == "Running" and current == "DEPLOYING":
            obj = await self.set_status(obj, self._jobmanager("DEPLOYED_NOT_READY"))
            current = "DEPLOYED_NOT_READY"
        if phase == "Running" and current == "DEPLOYED_NOT_READY":
            await self.set_status(obj, {"lifecycleState": "STABLE", **self._jobmanager("READY")})
        elif pod is None or phase in ("Succeeded", "Failed"):
            await self.event(obj, "Warning", "Missing", "JobManagerDeployment", MSG_MISSING_JOBMANAGER)
            message = f"the session cluster's JobManager pod ({self.pod_selector(obj)}) is gone"
            await self._fail(obj, missing_jobmanager_error(message), "MISSING")


class FlinkSessionJobController(FlinkJobController):
    resource = FLINK_SESSION_JOB
    #: ``SessionJobReconciler#deploy``'s ``Submit`` event.
    submit_component = "Job"

    def new_pod(self, obj: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """A pod of moka local's own: on a cluster the job runs in the session's JobManager, whose
        log holds the job's; so this pod carries the session JobManager's labels, and the newest
        such pod (this one) is where the provider finds the job's log, as on a cluster."""
        name = obj["metadata"]["name"]
        labels = {**jobmanager_labels(obj["spec"].get("deploymentName") or ""), SESSION_JOB_LABEL: name}
        return f"{name}-session-job", labels

    def pod_selector(self, obj: dict[str, Any]) -> str:
        return f"{SESSION_JOB_LABEL}={obj['metadata']['name']}"

    def needs_attention(self, obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        if status.get("lifecycleState") == "FAILED" and not (status.get("jobStatus") or {}).get("startTime"):
            return False  # never ran: nothing to follow or remove
        return not self._expired(obj)

    async def reconcile(self, obj: dict[str, Any]) -> None:
        status = obj.get("status") or {}
        lifecycle = status.get("lifecycleState")
        if not lifecycle:
            await self._create(obj)
        elif lifecycle == "CREATED":
            await self._start_on_session(obj)
        elif lifecycle == "FAILED" and not (status.get("jobStatus") or {}).get("startTime"):
            return
        elif self.job_state(obj) in TERMINAL_JOB_STATES:
            session = await self._session(obj)
            await self._expire(obj, self._configuration(obj, session or {}))
        else:
            await self._follow(obj)

    async def cleanup(self, namespace: str, name: str) -> None:
        await self.delete_pods(namespace, f"{SESSION_JOB_LABEL}={name}")

    async def _session(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        name = obj["spec"].get("deploymentName") or ""
        try:
            session: dict[str, Any] = await self.hook.get(
                FLINK_DEPLOYMENT, name, obj["metadata"]["namespace"]
            )
        except MokaApiError as error:
            if error.not_found:
                return None
            raise
        return session

    @staticmethod
    def _configuration(obj: dict[str, Any], session: dict[str, Any]) -> dict[str, str]:
        return flat_configuration(session.get("spec", {}).get("flinkConfiguration")) | flat_configuration(
            obj["spec"].get("flinkConfiguration")
        )

    async def _start_on_session(self, obj: dict[str, Any]) -> None:
        namespace, deployment = obj["metadata"]["namespace"], obj["spec"].get("deploymentName") or ""
        session = await self._session(obj) if deployment else None
        problem = None
        if session is None:
            created = obj["metadata"].get("creationTimestamp")
            if deployment and created and self._age(created) < SESSION_WAIT_SECONDS:
                return  # created together with its session: give the deployment a moment
            problem = f"Session cluster deployment is not found: FlinkDeployment {namespace}/{deployment!s}"
        elif session["spec"].get("job"):
            problem = (
                f"FlinkDeployment {namespace}/{deployment} runs an application (spec.job), not a session"
            )
        else:
            session_status = session.get("status") or {}
            if session_status.get("lifecycleState") == "FAILED":
                problem = f"session cluster FlinkDeployment {namespace}/{deployment} failed"
            elif session_status.get("jobManagerDeploymentStatus") != "READY":
                return  # the session cluster is still starting
        if problem:
            await self._invalid(obj, problem)
            return
        assert session is not None
        await self._start_job(obj, self._configuration(obj, session))

    @staticmethod
    def _age(created: str) -> float:
        when = parse_timestamp(created)
        return (now() - when).total_seconds() if when else 0.0
