"""What the local Flink controllers decide from a spec and log lines alone: no Kubernetes, no files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moka_provider.local.controllers.flink_job import (
    DEFAULT_TTL_SECONDS,
    LOOPBACK_ONLY,
    OPERATOR_EXCEPTIONS,
    TTL_KEY,
    JobSpecError,
    duration_seconds,
    error_json,
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

PYTHON = Path("/engines/flink/bin/python")


def resource(uid: str = "3f1c", generation: int | None = None) -> dict[str, object]:
    metadata: dict[str, object] = {"name": "wordcount", "uid": uid}
    if generation is not None:
        metadata["generation"] = generation
    return {"metadata": metadata}


# -- the job -------------------------------------------------------------------------------------


def test_fixed_job_id_is_32_hex_and_stable_for_a_resource_and_generation():
    job_id = fixed_job_id(resource(generation=2))

    assert len(job_id) == 32
    assert int(job_id, 16) >= 0
    assert fixed_job_id(resource(generation=2)) == job_id


def test_fixed_job_id_changes_with_generation_and_uid_and_defaults_to_generation_one():
    first = fixed_job_id(resource(generation=1))

    assert fixed_job_id(resource()) == first
    assert fixed_job_id(resource(generation=2)) != first
    assert fixed_job_id(resource(uid="other", generation=1)) != first


def test_flat_configuration_flattens_nested_keys_and_writes_flink_values():
    conf = {
        "execution": {"runtime-mode": "BATCH", "checkpointing": {"interval": "10 s"}},
        "pipeline.object-reuse": True,
        "rest.flamegraph.enabled": False,
        "taskmanager.numberOfTaskSlots": 2,
    }

    assert flat_configuration(conf) == {
        "execution.runtime-mode": "BATCH",
        "execution.checkpointing.interval": "10 s",
        "pipeline.object-reuse": "true",
        "rest.flamegraph.enabled": "false",
        "taskmanager.numberOfTaskSlots": "2",
    }


def test_flat_configuration_of_nothing_is_empty():
    assert flat_configuration(None) == {}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30 s", 30.0),
        ("5min", 300.0),
        ("1 d", 86400.0),
        ("2 hours", 7200.0),
        ("1.5m", 90.0),
        ("250 ms", 0.25),
        ("1500", 1.5),  # a bare number is milliseconds
        (" 10 S ", 10.0),
    ],
)
def test_duration_seconds_reads_flink_durations(value, seconds):
    assert duration_seconds(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["soon", "5 weeks", "-1 s", "", "s"])
def test_duration_seconds_refuses_what_is_not_a_duration(value):
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds(value)


def test_shutdown_ttl_reads_the_operator_key_and_falls_back_to_the_default():
    assert shutdown_ttl({TTL_KEY: "2 min"}) == 120.0
    assert shutdown_ttl({}) == DEFAULT_TTL_SECONDS
    assert shutdown_ttl({TTL_KEY: "whenever"}) == DEFAULT_TTL_SECONDS


@pytest.mark.parametrize(
    ("job", "conf", "cores", "expected"),
    [
        ({"parallelism": 3}, {"parallelism.default": "2"}, 8, 3),
        ({}, {"parallelism.default": "2"}, 8, 2),
        ({}, {}, 8, 1),
        ({"parallelism": 16}, {}, 4, 4),
        ({"parallelism": "-2"}, {}, 4, 1),
    ],
)
def test_job_parallelism_prefers_the_job_and_stays_within_the_machine(job, conf, cores, expected):
    assert job_parallelism(job, conf, cores) == expected


# -- its command line ----------------------------------------------------------------------------


def test_job_arguments_are_strings_with_the_engine_python_for_interpreters():
    job = {"args": ["-pyexec", "/usr/bin/python3", "-pyclientexec", "/opt/python", "--lines", 3]}

    python = str(PYTHON)
    assert job_arguments(job, PYTHON) == ["-pyexec", python, "-pyclientexec", python, "--lines", "3"]


def test_job_arguments_leave_a_trailing_interpreter_flag_and_missing_args_alone():
    assert job_arguments({"args": ["--out", "-pyexec"]}, PYTHON) == ["--out", "-pyexec"]
    assert job_arguments({}, PYTHON) == []


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("local:///opt/flink/usrlib/job.jar", "/opt/flink/usrlib/job.jar"),
        ("file:///tmp/wordcount.py", "/tmp/wordcount.py"),
        ("/tmp/job.jar", "/tmp/job.jar"),
        ("relative/job.jar", "relative/job.jar"),
    ],
)
def test_jar_path_reads_local_uris_as_paths(uri, path):
    assert jar_path({"jarURI": uri}) == path


def test_jar_path_refuses_remote_uris():
    with pytest.raises(JobSpecError, match=r"s3://bucket/job\.jar: moka local runs local files only"):
        jar_path({"jarURI": "s3://bucket/job.jar"})


def test_jar_path_requires_a_jar_uri():
    with pytest.raises(JobSpecError, match=r"spec\.job\.jarURI is required"):
        jar_path({"entryClass": "org.example.Job"})


def test_is_python_program_by_suffix():
    assert is_python_program("/tmp/wordcount.py")
    assert not is_python_program("/tmp/wordcount.jar")


def test_program_arguments_run_a_python_program_with_py_and_no_entry_class():
    assert program_arguments("ignored.Entry", "/tmp/job.py", ["--n"]) == ["-py", "/tmp/job.py", "--n"]


def test_program_arguments_run_a_jar_with_its_entry_class_if_any():
    assert program_arguments("org.example.Job", "job.jar", ["x"]) == ["-c", "org.example.Job", "job.jar", "x"]
    assert program_arguments(None, "job.jar", []) == ["job.jar"]


def test_run_options_pass_on_the_configuration_a_mini_cluster_uses_and_fix_the_rest():
    conf = {
        "execution.runtime-mode": "BATCH",
        "kubernetes.operator.jm-deployment.shutdown-ttl": "1 min",
        "high-availability.type": "kubernetes",
        "execution.target": "kubernetes-application",
        "$internal.pipeline.job-id": "00000000000000000000000000000000",
        "parallelism.default": "8",
    }

    assert run_options(conf, "ab" * 16, 2, PYTHON) == {
        "execution.runtime-mode": "BATCH",
        **LOOPBACK_ONLY,
        "parallelism.default": "2",
        "$internal.pipeline.job-id": "ab" * 16,
        "python.client.executable": str(PYTHON),
        "python.executable": str(PYTHON),
    }


def test_a_user_cannot_make_the_mini_cluster_listen_beyond_loopback():
    options = run_options({"rest.bind-address": "0.0.0.0"}, "ab" * 16, 1, PYTHON)
    assert options["rest.bind-address"] == "127.0.0.1"
    assert set(LOOPBACK_ONLY.values()) == {"127.0.0.1"}


def test_local_run_command_is_flink_run_local_with_d_options_then_the_program():
    options = {"parallelism.default": "2", "execution.runtime-mode": "BATCH"}

    command = local_run_command(Path("/pyflink"), options, ["-py", "/tmp/job.py"])

    assert command == [
        "/pyflink/bin/flink",
        "run",
        "-t",
        "local",
        "-Dparallelism.default=2",
        "-Dexecution.runtime-mode=BATCH",
        "-py",
        "/tmp/job.py",
    ]


def test_job_submitted_only_for_the_line_with_this_job_id():
    job_id = "0f" * 16
    lines = ["Starting mini cluster", f"Job has been submitted with JobID {job_id}"]

    assert job_submitted(lines, job_id)
    assert not job_submitted(lines, "1e" * 16)
    assert not job_submitted(lines[:1], job_id)


# -- status.error --------------------------------------------------------------------------------


def test_error_json_is_shaped_like_the_operators():
    error = json.loads(error_json("a.b.SomeException", "broke", [{"type": "x"}], exitCode=1))

    assert error == {
        "type": "a.b.SomeException",
        "message": "broke",
        "additionalMetadata": {"exitCode": 1},
        "throwableList": [{"type": "x"}],
    }


def test_validation_and_missing_jobmanager_errors_name_the_operators_exceptions():
    validation = json.loads(validation_error("no jarURI"))
    missing = json.loads(missing_jobmanager_error("pod gone"))

    assert validation["type"] == f"{OPERATOR_EXCEPTIONS}.ValidationException"
    assert validation["message"] == "no jarURI"
    assert missing["type"] == f"{OPERATOR_EXCEPTIONS}.MissingJobManagerException"
    assert missing["message"] == "pod gone"
    assert validation["throwableList"] == missing["throwableList"] == []


def test_failure_error_reports_the_first_exception_and_the_rest_as_causes():
    lines = [
        "org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: boom",
        "\tat org.apache.flink.client.program.PackagedProgram.callMainMethod(PackagedProgram.java:373)",
        "\t... 12 more",
        "Caused by: java.lang.RuntimeException: boom",
        "",
        "Traceback (most recent call last):",
        '  File "/tmp/job.py", line 3, in <module>',
        "ValueError: bad input",
    ]

    error = json.loads(failure_error(lines, {"exitCode": 1, "reason": "Error"}))

    assert error["type"] == "org.apache.flink.client.program.ProgramInvocationException"
    assert error["message"] == "The main method caused an error: boom"
    assert [(cause["type"], cause["message"]) for cause in error["throwableList"]] == [
        ("java.lang.RuntimeException", "boom"),
        ("ValueError", "bad input"),
    ]
    assert error["additionalMetadata"]["exitCode"] == 1
    assert error["additionalMetadata"]["lastLines"] == [
        lines[0],
        "Caused by: java.lang.RuntimeException: boom",
        "Traceback (most recent call last):",
        "ValueError: bad input",
    ]


def test_failure_error_without_exceptions_is_a_failed_deployment_with_the_exit_code():
    lines = [f"line {n}" for n in range(15)]

    error = json.loads(failure_error(lines, {"exitCode": 137, "reason": "OOMKilled"}))

    assert error["type"] == f"{OPERATOR_EXCEPTIONS}.DeploymentFailedException"
    assert error["message"] == "JobManager container exited with code 137"
    assert error["throwableList"] == []
    assert error["additionalMetadata"] == {"exitCode": 137, "reason": "OOMKilled", "lastLines": lines[-10:]}


def test_failure_error_of_an_unknown_termination():
    error = json.loads(failure_error([], {}))

    assert error["message"] == "JobManager container exited with code unknown"
    assert error["additionalMetadata"]["reason"] == "Error"
