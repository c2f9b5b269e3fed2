"""The local SparkApplication controller: the spark-operator's state machine, run with pyspark.

States and status fields follow the kubeflow spark-operator (docs/design.md section 3):
``"" -> SUBMITTED -> RUNNING -> COMPLETED | FAILED``, with ``SUBMISSION_FAILED`` and, under
``restartPolicy: OnFailure``, ``FAILING -> PENDING_RERUN -> SUBMITTED`` for each retry. The driver
pod is created with the operator's labels and runs ``spark-submit --master local[N]`` from the
Spark engine's virtualenv, so the application's own executors are threads of that JVM: ``N`` is
the executor cores the spec asks for (instances x cores, or max executors with dynamic
allocation), capped at the machine's cores, and the driver pod requests ``N`` CPUs so the local
kubelet queues applications rather than oversubscribing the machine.

Each submission gets a new ``status.submissionID`` (the driver's ``submission-id`` label) and counts
an execution attempt, and the operator's Events on the application are recorded (see
``SPARK_EVENTS``); a terminated application with ``timeToLiveSeconds`` is deleted that long after
its ``terminationTime``.
"""

from __future__ import annotations

import datetime
import os
import uuid
from pathlib import Path
from typing import Any

from moka_provider.local import engines
from moka_provider.local.controllers.base import (
    Controller,
    container_termination,
    now,
    parse_timestamp,
    timestamp,
)
from moka_provider.local.controllers.events import go_extra, recorder_event
from moka_provider.resources import SPARK_APPLICATION

TERMINAL = ("COMPLETED", "FAILED")
DEFAULT_RETRY_INTERVAL = 5
#: The operator's event recorder (cmd/operator/controller/start.go: ``GetEventRecorder``).
EVENT_CONTROLLER = "spark-application-controller"
#: The operator's ``--driver-pod-creation-grace-period`` default, as Go prints it.
DRIVER_POD_CREATION_GRACE_PERIOD = "10s"
#: ``recordSparkApplicationEvent`` (internal/controller/sparkapplication/controller.go): by state,
#: the event's type, reason and message format, which the operator passes as the ``action`` (its
#: ``note`` is the application's name: see :func:`~.events.go_extra`).
SPARK_EVENTS = {
    "": ("Normal", "SparkApplicationAdded", "SparkApplication %s was added, enqueuing it for submission"),
    "SUBMITTED": ("Normal", "SparkApplicationSubmitted", "SparkApplication %s was submitted successfully"),
    "SUBMISSION_FAILED": (
        "Warning",
        "SparkApplicationSubmissionFailed",
        "failed to submit SparkApplication %s: %s",
    ),
    "COMPLETED": ("Normal", "SparkApplicationCompleted", "SparkApplication %s completed"),
    "FAILED": ("Warning", "SparkApplicationFailed", "SparkApplication %s failed: %s"),
    "PENDING_RERUN": ("Warning", "SparkApplicationPendingRerun", "SparkApplication %s is pending rerun"),
}
#: ``updateDriverState``'s event when the driver pod is gone (its format is the ``action`` too).
DRIVER_NOT_FOUND = "Driver pod %s not found after grace period %v, marking application as Failing"
#: ``recordDriverEvent``: by driver pod phase, when the application's state changes with it.
DRIVER_EVENTS = {
    "Running": ("Normal", "SparkDriverRunning", "Driver %s is running"),
    "Succeeded": ("Normal", "SparkDriverCompleted", "Driver %s completed"),
    "Failed": ("Warning", "SparkDriverFailed", "Driver %s failed"),
}


def driver_pod_name(app: dict[str, Any]) -> str:
    """``util.GetDriverPodName`` without ``driver.podName`` or ``spark.kubernetes.driver.pod.name``."""
    return f"{app['metadata']['name']}-driver"


def _major_version(version: Any) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def driver_labels(app: dict[str, Any], app_id: str, submission_id: str) -> dict[str, str]:
    """The driver pod's labels: the spec's ``driver.labels``, those the operator passes as
    ``spark.kubernetes.driver.label.*`` (submission.go ``driverConfOption``: ``app-name``,
    ``launched-by-spark-operator``, ``submission-id``, and ``mutated-by-spark-operator`` unless the
    driver has a pod template on Spark 3+), and those Spark puts on its driver pod (``spark-role``,
    ``spark-app-selector`` with the application id, ``spark-app-name``)."""
    spec, name = app["spec"], app["metadata"]["name"]
    driver = spec.get("driver") or {}
    labels = {
        **(driver.get("labels") or {}),
        "spark-role": "driver",
        "spark-app-selector": app_id,
        "spark-app-name": name,
        "sparkoperator.k8s.io/app-name": name,
        "sparkoperator.k8s.io/launched-by-spark-operator": "true",
        "sparkoperator.k8s.io/submission-id": submission_id,
    }
    if _major_version(spec.get("sparkVersion")) < 3 or not driver.get("template"):
        labels["sparkoperator.k8s.io/mutated-by-spark-operator"] = "true"
    return labels


def local_parallelism(spec: dict[str, Any], machine_cores: int) -> int:
    executor = spec.get("executor") or {}
    cores = int(executor.get("cores") or 1)
    instances = int(executor.get("instances") or 1)
    dynamic = spec.get("dynamicAllocation") or {}
    if dynamic.get("enabled"):
        instances = int(dynamic.get("maxExecutors") or dynamic.get("initialExecutors") or instances)
    return max(1, min(machine_cores, cores * instances))


#: SPARK_HOME inside the operator's Spark images; ``local://`` paths below it are looked up in
#: pyspark's own installation, which ships the same Python examples (not the JVM examples jar).
IMAGE_SPARK_HOME = "/opt/spark/"
#: Spark's property prefix for a driver variable taken from a Secret (``<ENV>=<secret>:<key>``).
DRIVER_SECRET_KEY_REF = "spark.kubernetes.driver.secretKeyRef."


def _local_path(uri: str) -> str:
    """A ``local://`` URI (a path inside the image) as a path on this machine."""
    path = uri.removeprefix("local://")
    if path.startswith(IMAGE_SPARK_HOME) and not Path(path).exists():
        home = engines.package_dir("spark", "pyspark")
        if home is not None and (home / path.removeprefix(IMAGE_SPARK_HOME)).exists():
            return str(home / path.removeprefix(IMAGE_SPARK_HOME))
    return path


def _missing_file(uri: str) -> bool:
    """A main application file that is a local path and is not there."""
    return "://" not in uri.removeprefix("local://") and not Path(_local_path(uri)).exists()


def secret_key_ref_env(spark_conf: dict[str, Any]) -> list[dict[str, Any]]:
    """The driver's variables from Secrets: what spark-submit makes of
    ``spark.kubernetes.driver.secretKeyRef.<ENV>=<secret>:<key>`` (Spark's ``EnvSecretsFeatureStep``)."""
    env = []
    for key, value in spark_conf.items():
        if key.startswith(DRIVER_SECRET_KEY_REF) and ":" in str(value):
            secret, _, secret_key = str(value).partition(":")
            reference = {"secretKeyRef": {"name": secret, "key": secret_key}}
            env.append({"name": key.removeprefix(DRIVER_SECRET_KEY_REF), "valueFrom": reference})
    return env


def submit_command(app: dict[str, Any], app_id: str, spark_submit: str, parallelism: int) -> list[str]:
    """The ``spark-submit`` command line of the application in local mode."""
    spec = app["spec"]
    command = [
        spark_submit,
        "--master", f"local[{parallelism}]",
        "--deploy-mode", "client",
        "--name", app["metadata"]["name"],
        "--conf", f"spark.app.id={app_id}",
        "--conf", "spark.ui.showConsoleProgress=false",
        # Everything the driver serves (RPC, block manager, Spark UI) listens on loopback only.
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
    ]  # fmt: skip
    if memory := (spec.get("driver") or {}).get("memory"):
        command += ["--driver-memory", str(memory)]
    for key, value in (spec.get("sparkConf") or {}).items():
        if not key.startswith(("spark.kubernetes.", "spark.master", "spark.submit.deployMode")):
            command += ["--conf", f"{key}={value}"]
    for key, value in (spec.get("hadoopConf") or {}).items():
        command += ["--conf", f"spark.hadoop.{key}={value}"]
    deps = spec.get("deps") or {}
    for field, flag in (
        ("jars", "--jars"),
        ("files", "--files"),
        ("pyFiles", "--py-files"),
        ("archives", "--archives"),
    ):
        if deps.get(field):
            command += [flag, ",".join(_local_path(path) for path in deps[field])]
    if deps.get("packages"):
        command += ["--packages", ",".join(deps["packages"])]
    if spec.get("mainClass"):
        command += ["--class", spec["mainClass"]]
    command.append(_local_path(spec["mainApplicationFile"]))
    command += [str(argument) for argument in spec.get("arguments") or []]
    return command


class SparkController(Controller):
    resource = SPARK_APPLICATION

    def needs_attention(self, obj: dict[str, Any]) -> bool:
        state = self._state(obj)
        return state not in TERMINAL or bool(obj["spec"].get("timeToLiveSeconds"))

    @staticmethod
    def _state(app: dict[str, Any]) -> str:
        return str(((app.get("status") or {}).get("applicationState") or {}).get("state") or "")

    async def reconcile(self, app: dict[str, Any]) -> None:
        state = self._state(app)
        if state in ("", "PENDING_RERUN"):
            await self._submit(app)
        elif state in ("SUBMITTED", "RUNNING"):
            await self._follow_driver(app)
        elif state == "FAILING":
            await self.set_status(app, {"applicationState": {"state": "PENDING_RERUN"}})
        elif state == "SUBMISSION_FAILED":
            await self._after_submission_failure(app)
        elif state in TERMINAL:
            await self._expire(app)

    async def cleanup(self, namespace: str, name: str) -> None:
        await self.delete_pods(namespace, f"sparkoperator.k8s.io/app-name={name}")

    # -- events ----------------------------------------------------------------------------------

    async def _event(
        self, app: dict[str, Any], event: tuple[str, str, str], note: str, *args: str, go_type: str = "string"
    ) -> None:
        event_type, reason, action = event
        note = go_extra(note, *args, go_type=go_type)
        await self.record_event(recorder_event(app, event_type, reason, action, note, EVENT_CONTROLLER))

    async def _app_event(self, app: dict[str, Any]) -> None:
        """``recordSparkApplicationEvent`` for the application's current state."""
        state = self._state(app)
        if state in SPARK_EVENTS:
            message = ((app.get("status") or {}).get("applicationState") or {}).get("errorMessage") or ""
            has_message = state in ("SUBMISSION_FAILED", "FAILED")
            await self._event(
                app, SPARK_EVENTS[state], app["metadata"]["name"], *([message] if has_message else [])
            )

    # -- steps ---------------------------------------------------------------------------------

    async def _submit(self, app: dict[str, Any]) -> None:
        """``submitSparkApplication``: a new submission ID, the driver pod, SUBMITTED (or SUBMISSION_FAILED)."""
        status = app.get("status") or {}
        namespace, name, driver = app["metadata"]["namespace"], app["metadata"]["name"], driver_pod_name(app)
        if self._state(app) == "PENDING_RERUN":
            if not self._interval_passed(app, "onFailureRetryInterval"):
                return
            if await self.delete_pods(namespace, f"sparkoperator.k8s.io/app-name={name}"):
                return  # the previous attempt's driver is still going away
            await self._app_event(app)  # reconcilePendingRerunSparkApplication, once its resources are gone
        attempts = int(status.get("submissionAttempts") or 0) + 1
        problem = engines.missing("spark")
        spec = app["spec"]
        if problem is None and spec.get("type") in ("Java", "Scala") and not spec.get("mainClass"):
            problem = f"spec.mainClass is required for a {spec['type']} application"
        if problem is None and spec.get("type") == "R":
            problem = "R applications are not supported by moka local"
        if problem is None and _missing_file(spec["mainApplicationFile"]):
            problem = f"mainApplicationFile {spec['mainApplicationFile']} does not exist on this machine"
        if problem is not None:
            await self._app_event(app)  # recorded for the state it was in when spark-submit failed
            app = await self.set_status(
                app,
                {
                    "applicationState": {"state": "SUBMISSION_FAILED", "errorMessage": problem},
                    "driverInfo": {"podName": driver},
                    "submissionID": str(uuid.uuid4()),
                    "submissionAttempts": attempts,
                    "lastSubmissionAttemptTime": timestamp(),
                },
            )
            await self._app_event(app)
            return
        app_id = f"spark-{uuid.uuid4().hex}"
        submission_id = str(uuid.uuid4())
        parallelism = local_parallelism(spec, os.cpu_count() or 1)
        spark_submit = engines.engine_program("spark", "spark-submit")
        python = engines.engine_program("spark", "python")
        assert spark_submit is not None and python is not None
        driver_spec = spec.get("driver") or {}
        env = [
            {"name": "PYSPARK_PYTHON", "value": str(python)},
            {"name": "PYSPARK_DRIVER_PYTHON", "value": str(python)},
            {"name": "SPARK_LOCAL_IP", "value": "127.0.0.1"},
        ]
        env += [
            {"name": e["name"], "value": str(e.get("value", ""))}
            for e in driver_spec.get("env") or []
            if "name" in e
        ]
        env += [{"name": k, "value": str(v)} for k, v in (driver_spec.get("envVars") or {}).items()]
        env += secret_key_ref_env(spec.get("sparkConf") or {})
        await self.create_pod(
            app,
            driver,
            driver_labels(app, app_id, submission_id),
            {
                "name": "spark-kubernetes-driver",
                "image": spec.get("image") or "spark",
                "command": submit_command(app, app_id, str(spark_submit), parallelism),
                "env": env,
                "resources": {"requests": {"cpu": str(parallelism)}},
            },
        )
        app = await self.set_status(
            app,
            {
                "applicationState": {"state": "SUBMITTED", "errorMessage": None},
                "sparkApplicationId": app_id,
                "submissionID": submission_id,
                "submissionAttempts": attempts,
                "executionAttempts": int(status.get("executionAttempts") or 0) + 1,
                "lastSubmissionAttemptTime": timestamp(),
                "terminationTime": None,
                "driverInfo": {"podName": driver},
            },
        )
        await self._app_event(app)

    async def _follow_driver(self, app: dict[str, Any]) -> None:
        """``updateDriverState``: the application's state follows its driver pod's phase."""
        namespace, driver = app["metadata"]["namespace"], driver_pod_name(app)
        pod = await self.get_pod(namespace, driver)
        if pod is None:
            await self._event(
                app,
                ("Warning", "SparkDriverNotFound", DRIVER_NOT_FOUND),
                driver,
                DRIVER_POD_CREATION_GRACE_PERIOD,
                go_type="time.Duration",
            )
            await self._finish(app, "FAILED", "driver pod not found")
            return
        phase = (pod.get("status") or {}).get("phase")
        if phase in DRIVER_EVENTS and (phase != "Running" or self._state(app) == "SUBMITTED"):
            await self._event(app, DRIVER_EVENTS[phase], driver)
        if phase == "Running" and self._state(app) == "SUBMITTED":
            await self.set_status(app, {"applicationState": {"state": "RUNNING"}, "executorState": {}})
        elif phase == "Succeeded":
            await self._finish(app, "COMPLETED", None)
        elif phase == "Failed":
            terminated = container_termination(pod) or {}
            message = (
                f"driver container failed with ExitCode: {terminated.get('exitCode', 'unknown')}, "
                f"Reason: {terminated.get('reason', 'Error')}"
            )
            if self._retries_left(app, "onFailureRetries", "executionAttempts"):
                await self.set_status(
                    app,
                    {
                        "applicationState": {"state": "FAILING", "errorMessage": message},
                        "terminationTime": timestamp(),
                    },
                )
            else:
                await self._finish(app, "FAILED", message)

    async def _finish(self, app: dict[str, Any], state: str, message: str | None) -> dict[str, Any]:
        return await self.set_status(
            app,
            {"applicationState": {"state": state, "errorMessage": message}, "terminationTime": timestamp()},
        )

    async def _after_submission_failure(self, app: dict[str, Any]) -> None:
        """``reconcileFailedSubmissionSparkApplication``: retry, or FAILED with its event."""
        if self._retries_left(app, "onSubmissionFailureRetries", "submissionAttempts"):
            if self._interval_passed(app, "onSubmissionFailureRetryInterval", "lastSubmissionAttemptTime"):
                await self.set_status(app, {"applicationState": {"state": "PENDING_RERUN"}})
        else:
            message = ((app.get("status") or {}).get("applicationState") or {}).get("errorMessage")
            await self._app_event(await self._finish(app, "FAILED", message))

    async def _expire(self, app: dict[str, Any]) -> None:
        """``reconcileTerminatedSparkApplication``: deleted once ``util.IsExpired``, i.e. more than
        ``spec.timeToLiveSeconds`` after ``status.terminationTime``."""
        ttl = app["spec"].get("timeToLiveSeconds")
        finished = parse_timestamp((app.get("status") or {}).get("terminationTime"))
        if (
            ttl is not None
            and finished is not None
            and now() > finished + datetime.timedelta(seconds=int(ttl))
        ):
            await self.hook.delete(
                self.resource, app["metadata"]["name"], app["metadata"]["namespace"], missing_ok=True
            )

    # -- restart policy ------------------------------------------------------------------------

    @staticmethod
    def _retries_left(app: dict[str, Any], retries_field: str, attempts_field: str) -> bool:
        policy = app["spec"].get("restartPolicy") or {}
        kind = policy.get("type", "Never")
        if kind == "Never":
            return False
        attempts = int((app.get("status") or {}).get(attempts_field) or 0)
        if kind == "Always":
            return True
        return attempts <= int(policy.get(retries_field) or 0)

    @staticmethod
    def _interval_passed(
        app: dict[str, Any], interval_field: str, since_field: str = "terminationTime"
    ) -> bool:
        policy = app["spec"].get("restartPolicy") or {}
        interval = int(policy.get(interval_field) or DEFAULT_RETRY_INTERVAL)
        since = parse_timestamp((app.get("status") or {}).get(since_field))
        return since is None or now() >= since + datetime.timedelta(seconds=interval)
