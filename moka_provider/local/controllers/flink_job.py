"""A Flink job as data: the ``flink run`` it becomes locally, and what the operator's status says of it.

The Flink controllers (``flink.py``) talk to Kubernetes and look for files; everything they decide
from a resource's spec, its configuration and its pod's log lines alone lives here, free of I/O,
so that it can be tested on its own: the job's id, its ``flinkConfiguration`` as Flink keys, the
parallelism and the shutdown TTL, the ``flink run -t local`` command line with its ``-D`` options,
when a job counts as submitted, and ``status.error`` written as the operator writes it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

TTL_KEY = "kubernetes.operator.jm-deployment.shutdown-ttl"
DEFAULT_TTL_SECONDS = 60.0
SUBMITTED = "Job has been submitted with JobID"
#: Configuration that means nothing to a local mini cluster (or that the controller sets itself).
NOT_PASSED_ON = ("kubernetes.", "high-availability", "execution.target", "$internal.", "parallelism.default")
OPERATOR_EXCEPTIONS = "org.apache.flink.kubernetes.operator.exception"


class JobSpecError(ValueError):
    """``spec.job`` asks for something moka local cannot run; the message says what."""


# -- the job -------------------------------------------------------------------------------------


def fixed_job_id(obj: dict[str, Any]) -> str:
    """A 32-hex Flink JobID, the same for the same resource and generation."""
    seed = f"{obj['metadata']['uid']}/{obj['metadata'].get('generation', 1)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def flat_configuration(conf: dict[str, Any] | None, prefix: str = "") -> dict[str, str]:
    """``flinkConfiguration`` as Flink keys (nested YAML flattened) with string values."""
    flat: dict[str, str] = {}
    for key, value in (conf or {}).items():
        if isinstance(value, dict):
            flat.update(flat_configuration(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_UNITS = {
    "": 0.001, "ms": 0.001, "milli": 0.001, "millis": 0.001, "s": 1, "sec": 1, "secs": 1,
    "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip


def duration_seconds(value: str) -> float:
    """A Flink duration (``30 s``, ``5min``, ``1 d``; a bare number is milliseconds)."""
    match = _DURATION.match(value.lower())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"not a duration: {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def shutdown_ttl(conf: dict[str, str]) -> float:
    """How long a finished job's pod stays: the operator's shutdown TTL, or the default if unreadable."""
    try:
        return duration_seconds(conf[TTL_KEY]) if TTL_KEY in conf else DEFAULT_TTL_SECONDS
    except ValueError:
        return DEFAULT_TTL_SECONDS


def job_parallelism(job: dict[str, Any], conf: dict[str, str], machine_cores: int) -> int:
    """``job.parallelism`` (else ``parallelism.default``, else 1), between 1 and the machine's cores."""
    wanted = job.get("parallelism") or conf.get("parallelism.default") or 1
    return max(1, min(machine_cores, int(wanted)))


# -- its command line ----------------------------------------------------------------------------


def job_arguments(job: dict[str, Any], python: Path) -> list[str]:
    """``spec.job.args`` as strings, with the engine's python for ``-pyclientexec``/``-pyexec`` (an image's)."""
    args = [str(a) for a in job.get("args") or []]
    for flag in ("-pyclientexec", "-pyexec"):
        if flag in args[:-1]:
            args[args.index(flag) + 1] = str(python)
    return args


def jar_path(job: dict[str, Any]) -> str:
    """``spec.job.jarURI`` as a path on this machine (``local://``, ``file://`` or a plain path)."""
    jar_uri = job.get("jarURI")
    if not jar_uri:
        raise JobSpecError("spec.job.jarURI is required (a jar, or a .py file for a Python job)")
    if re.match(r"^[a-z][a-z0-9+.-]*://", jar_uri) and not jar_uri.startswith(("local://", "file://")):
        raise JobSpecError(
            f"spec.job.jarURI {jar_uri}: moka local runs local files only (local://, file:// or a path)"
        )
    return jar_uri.removeprefix("local://").removeprefix("file://")


def is_python_program(path: str) -> bool:
    """Whether ``flink run`` takes this program with ``-py`` (rather than as a jar)."""
    return path.endswith(".py")


def program_arguments(entry_class: str | None, program: str, args: list[str]) -> list[str]:
    """What follows ``flink run [options]``: a Python program (``-py``) or a jar (``-c entryClass``)."""
    if is_python_program(program):
        return ["-py", program, *args]
    return [*(["-c", entry_class] if entry_class else []), program, *args]


#: Whatever the mini cluster serves (REST, RPC, data exchange) listens on loopback only.
LOOPBACK_ONLY = {
    "rest.address": "127.0.0.1",
    "rest.bind-address": "127.0.0.1",
    "jobmanager.rpc.address": "127.0.0.1",
    "jobmanager.bind-host": "127.0.0.1",
    "taskmanager.host": "127.0.0.1",
    "taskmanager.bind-host": "127.0.0.1",
}


def run_options(conf: dict[str, str], job_id: str, parallelism: int, python: Path) -> dict[str, str]:
    """The ``-D`` options of the run: the configuration a mini cluster uses, and what is fixed here."""
    options = {key: value for key, value in conf.items() if not key.startswith(NOT_PASSED_ON)}
    return (
        options
        | LOOPBACK_ONLY
        | {
            "parallelism.default": str(parallelism),
            "$internal.pipeline.job-id": job_id,
            "python.client.executable": str(python),
            "python.executable": str(python),
        }
    )


def local_run_command(home: Path, options: dict[str, str], program: list[str]) -> list[str]:
    """``flink run -t local`` from the Flink distribution at ``home``: a mini cluster in that process."""
    command = [str(home / "bin" / "flink"), "run", "-t", "local"]
    command += [f"-D{key}={value}" for key, value in options.items()]
    return command + program


def job_submitted(lines: list[str], job_id: str) -> bool:
    """Whether Flink's log lines say the job with this id was submitted."""
    return any(f"{SUBMITTED} {job_id}" in line for line in lines)


# -- status.error --------------------------------------------------------------------------------


def error_json(kind: str, message: str, causes: list[dict[str, Any]] | None = None, **metadata: Any) -> str:
    """``status.error`` as the operator writes it (a serialized FlinkResourceException)."""
    return json.dumps(
        {"type": kind, "message": message, "additionalMetadata": metadata, "throwableList": causes or []}
    )


def validation_error(message: str) -> str:
    """``status.error`` of a resource that cannot run as specified."""
    return error_json(f"{OPERATOR_EXCEPTIONS}.ValidationException", message)


def deployment_failed_error(message: str, reason: str) -> str:
    """``status.error`` of a JobManager whose pod cannot run (``DeploymentFailedException``, with
    the pod's waiting reason, as ``FlinkDeploymentController#reconcile`` records it)."""
    return error_json(f"{OPERATOR_EXCEPTIONS}.DeploymentFailedException", message, reason=reason)


def missing_jobmanager_error(message: str) -> str:
    """``status.error`` of a resource whose JobManager pod went away."""
    return error_json(f"{OPERATOR_EXCEPTIONS}.MissingJobManagerException", message)


_EXCEPTION = re.compile(r"^(?:Caused by: )?([A-Za-z_][\w$.]*(?:Exception|Error|Exit))(?:: (.*))?$")


def failure_error(lines: list[str], terminated: dict[str, Any]) -> str:
    """The error of a failed job from its last log lines: the exceptions (Java and Python) in them."""
    meaningful = [
        line.rstrip()
        for line in lines
        if line.strip() and not re.match(r"^\s+(at |\.\.\. \d+ more|File \")", line)
    ]
    found: list[dict[str, Any]] = [
        {"type": match.group(1), "message": match.group(2) or "", "additionalMetadata": {}}
        for line in meaningful
        if (match := _EXCEPTION.match(line.strip()))
    ]
    code = terminated.get("exitCode", "unknown")
    top = found[0] if found else {"type": f"{OPERATOR_EXCEPTIONS}.DeploymentFailedException"}
    message = top.get("message") or f"JobManager container exited with code {code}"
    return error_json(
        str(top["type"]),
        str(message),
        found[1:],
        exitCode=code,
        reason=terminated.get("reason", "Error"),
        lastLines=meaningful[-10:],
    )
