"""One case per row of the Monarch -> Moka translation table, and whole-job findings."""

from __future__ import annotations

from typing import Any

import pytest

from moka_provider.migration.spark_submit import SparkSubmit, parse_spark_submit_command
from moka_provider.migration.translate import (
    CONF_PREFIX_RULES,
    CONF_RULES,
    OPTION_RULES,
    Finding,
    translate,
)

_JAR: dict[str, Any] = {"application": "local:///opt/app.jar"}
LAKE = {"hdfs://nn/": "s3a://lake/", "hdfs://nn/raw": "s3a://raw"}


def _run(conf: dict[str, Any] | None = None, **fields: Any) -> tuple[dict[str, Any], list[Finding]]:
    result = translate(SparkSubmit(**{**_JAR, **fields}, conf=conf or {}), path_map=LAKE)
    arguments = {key: value for key, value in result.arguments.items() if key != "application"}
    return arguments, result.findings


def _only(findings: list[Finding], subject: str) -> list[tuple[str, str]]:
    return [(finding.kind, finding.detail) for finding in findings if finding.subject == subject]


# -- Spark properties ------------------------------------------------------------------------------

CONF_CASES: list[tuple[str, Any, dict[str, Any], str | None]] = [
    # key, value, expected arguments, expected finding kind
    (
        "spark.yarn.executor.memoryOverhead",
        "1g",
        {"spark_conf": {"spark.executor.memoryOverhead": "1g"}},
        "renamed",
    ),
    (
        "spark.yarn.driver.memoryOverhead",
        512,
        {"spark_conf": {"spark.driver.memoryOverhead": 512}},
        "renamed",
    ),
    (
        "spark.yarn.keytab",
        "/k/a.keytab",
        {"spark_conf": {"spark.kerberos.keytab": "/k/a.keytab"}},
        "attention",
    ),
    ("spark.yarn.principal", "a@R", {"spark_conf": {"spark.kerberos.principal": "a@R"}}, "attention"),
    ("spark.yarn.max.executor.failures", 8, {"spark_conf": {"spark.executor.maxNumFailures": 8}}, "renamed"),
    (
        "spark.yarn.access.hadoopFileSystems",
        "hdfs://nn/",
        {"spark_conf": {"spark.kerberos.access.hadoopFileSystems": "s3a://lake/"}},
        "renamed",
    ),
    (
        "spark.yarn.access.namenodes",
        "hdfs://nn/",
        {"spark_conf": {"spark.kerberos.access.hadoopFileSystems": "s3a://lake/"}},
        "renamed",
    ),
    (
        "spark.yarn.submit.waitAppCompletion",
        "false",
        {"spark_conf": {"spark.kubernetes.submission.waitAppCompletion": "false"}},
        "mapped",
    ),
    (
        "spark.yarn.appMasterEnv.PYSPARK_PYTHON",
        "./venv/bin/python",
        {"spark_conf": {"spark.kubernetes.driverEnv.PYSPARK_PYTHON": "./venv/bin/python"}},
        "mapped",
    ),
    ("spark.yarn.queue", "root.etl", {"yunikorn_queue": "root.etl"}, "mapped"),
    ("spark.master", "yarn", {}, "dropped"),
    ("spark.master", "local[*]", {}, "attention"),
    ("spark.submit.deployMode", "cluster", {}, "dropped"),
    ("spark.app.name", "daily", {"name": "daily"}, None),
    (
        "spark.yarn.am.nodeLabelExpression",
        "ssd",
        {"driver": {"node_selector": {"moka.dev/node-label": "ssd"}}},
        "attention",
    ),
    (
        "spark.yarn.executor.nodeLabelExpression",
        "gpu",
        {"executors": {"node_selector": {"moka.dev/node-label": "gpu"}}},
        "attention",
    ),
    ("spark.yarn.executor.nodeLabelExpression", "gpu || ssd", {}, "attention"),
    (
        "spark.yarn.tags",
        "team:a,nightly",
        {
            "driver": {"labels": {"tag.moka.dev/team-a": "true", "tag.moka.dev/nightly": "true"}},
            "executors": {"labels": {"tag.moka.dev/team-a": "true", "tag.moka.dev/nightly": "true"}},
        },
        "mapped",
    ),
    ("spark.yarn.priority", 5, {}, "attention"),
    ("spark.yarn.maxAppAttempts", 1, {"spec_overrides": {"restartPolicy": {"type": "Never"}}}, "mapped"),
    (
        "spark.yarn.maxAppAttempts",
        "3",
        {
            "spec_overrides": {
                "restartPolicy": {"type": "OnFailure", "onFailureRetries": 2, "onSubmissionFailureRetries": 2}
            }
        },
        "mapped",
    ),
    ("spark.yarn.maxAppAttempts", "{{ params.n }}", {}, "attention"),
    ("spark.yarn.jars", "hdfs://nn/spark/jars/*", {}, "dropped"),
    ("spark.yarn.archive", "hdfs://nn/spark/spark-libs.zip", {}, "dropped"),
    (
        "spark.yarn.dist.jars",
        "hdfs://nn/a.jar,hdfs://nn/b.jar",
        {"spark_deps": {"jars": ["s3a://lake/a.jar", "s3a://lake/b.jar"]}},
        "mapped",
    ),
    (
        "spark.yarn.dist.files",
        "hdfs://nn/c.conf#c",
        {"spark_deps": {"files": ["s3a://lake/c.conf#c"]}},
        "mapped",
    ),
    (
        "spark.yarn.dist.archives",
        "hdfs://nn/v.tgz#v",
        {"spark_deps": {"archives": ["s3a://lake/v.tgz#v"]}},
        "mapped",
    ),
    (
        "spark.yarn.dist.pyFiles",
        "hdfs://nn/l.zip",
        {"spark_deps": {"py_files": ["s3a://lake/l.zip"]}},
        "mapped",
    ),
    ("spark.yarn.exclude.nodes", "n1,n2", {}, "dropped"),
    ("spark.yarn.am.memory", "2g", {}, "dropped"),
    ("spark.yarn.am.extraJavaOptions", "-Dx", {}, "dropped"),
    ("spark.yarn.rolledLog.includePattern", "stdout", {}, "dropped"),
    ("spark.yarn.rolledLog.excludePattern", "gc", {}, "dropped"),
    ("spark.yarn.scheduler.heartbeat.interval-ms", 3000, {}, "dropped"),
    ("spark.yarn.scheduler.initial-allocation.interval", "200ms", {}, "dropped"),
    ("spark.yarn.stagingDir", "hdfs://nn/tmp", {}, "dropped"),
    ("spark.shuffle.service.enabled", "true", {}, "dropped"),
    ("spark.shuffle.service.port", 7337, {}, "dropped"),
    ("hive.exec.dynamic.partition", "true", {}, "dropped"),
    ("spark.executor.memory", "6g", {"executors": {"memory": "6g"}}, "mapped"),
    ("spark.executor.cores", "4", {"executors": {"cores": 4}}, "mapped"),
    ("spark.executor.instances", 12, {"executors": {"instances": 12}}, "mapped"),
    (
        "spark.executor.instances",
        "{{ params.n }}",
        {"spark_conf": {"spark.executor.instances": "{{ params.n }}"}},
        None,
    ),
    ("spark.driver.memory", "2g", {"driver": {"memory": "2g"}}, "mapped"),
    ("spark.driver.cores", 2, {"driver": {"cores": 2}}, "mapped"),
    (
        "spark.driver.extraClassPath",
        "/opt/lib/*:hdfs://nn:8020/x.jar",
        {"spark_conf": {"spark.driver.extraClassPath": "/opt/lib/*"}},
        "attention",
    ),
    (
        "spark.executor.extraClassPath",
        "local:///opt/a.jar:/opt/b.jar",
        {"spark_conf": {"spark.executor.extraClassPath": "local:///opt/a.jar:/opt/b.jar"}},
        None,
    ),
    (
        "spark.jars.ivySettings",
        "/etc/spark/ivysettings.xml",
        {"spark_conf": {"spark.jars.ivySettings": "/etc/spark/ivysettings.xml"}},
        "attention",
    ),
    ("spark.sql.shuffle.partitions", 400, {"spark_conf": {"spark.sql.shuffle.partitions": 400}}, None),
    ("spark.executorEnv.TZ", "UTC", {"spark_conf": {"spark.executorEnv.TZ": "UTC"}}, None),
    (
        "spark.dynamicAllocation.enabled",
        "false",
        {"spark_conf": {"spark.dynamicAllocation.enabled": "false"}},
        None,
    ),
]


@pytest.mark.parametrize(
    ("key", "value", "expected", "kind"), CONF_CASES, ids=[f"{c[0]}={c[1]}" for c in CONF_CASES]
)
def test_conf_row(key: str, value: Any, expected: dict[str, Any], kind: str | None) -> None:
    arguments, findings = _run({key: value})
    assert arguments == expected
    assert [k for k, _ in _only(findings, key)] == ([kind] if kind else [])


def test_every_conf_rule_has_a_case() -> None:
    covered = {case[0] for case in CONF_CASES}
    dynamic = {key for key in CONF_RULES if key.startswith("spark.dynamicAllocation.")}
    overridden = {key for key, rule in CONF_RULES.items() if rule.flag and rule.kind is None}
    assert set(CONF_RULES) - covered - dynamic - overridden == set()
    assert all(any(case.startswith(prefix) for case in covered) for prefix in CONF_PREFIX_RULES)


def test_the_name_is_made_a_dns_label_keeping_jinja() -> None:
    arguments, findings = _run(name="Daily_Load {{ ds_nodash }}")
    assert arguments == {"name": "daily-load-{{ ds_nodash }}"}
    assert [kind for kind, _ in _only(findings, "--name")] == ["renamed", "attention"]


def test_a_priority_with_a_known_priority_class() -> None:
    result = translate(
        SparkSubmit(**_JAR, conf={"spark.yarn.priority": 5}), priority_classes={"5": "batch-high"}
    )
    assert result.arguments["spec_overrides"] == {
        "driver": {"priorityClassName": "batch-high"},
        "executor": {"priorityClassName": "batch-high"},
    }
    assert result.findings[-1].kind == "mapped"


# -- dynamic allocation and the shuffle service ----------------------------------------------------


def test_dynamic_allocation_moves_to_its_argument_and_gets_shuffle_tracking() -> None:
    arguments, findings = _run(
        {
            "spark.shuffle.service.enabled": "true",
            "spark.dynamicAllocation.enabled": True,
            "spark.dynamicAllocation.minExecutors": "2",
            "spark.dynamicAllocation.maxExecutors": 20,
            "spark.dynamicAllocation.initialExecutors": "{{ params.n }}",
            "spark.dynamicAllocation.executorIdleTimeout": "60s",
        }
    )
    assert arguments == {
        "dynamic_allocation": {"min_executors": 2, "max_executors": 20, "shuffle_tracking_enabled": True},
        "spark_conf": {
            "spark.dynamicAllocation.initialExecutors": "{{ params.n }}",
            "spark.dynamicAllocation.executorIdleTimeout": "60s",
        },
    }
    assert _only(findings, "spark.dynamicAllocation.shuffleTracking.enabled")[0][0] == "mapped"
    assert _only(findings, "spark.shuffle.service.enabled")[0][0] == "dropped"


def test_dynamic_allocation_without_shuffle_tracking_needs_attention() -> None:
    arguments, findings = _run(
        {
            "spark.dynamicAllocation.enabled": "true",
            "spark.dynamicAllocation.shuffleTracking.enabled": "false",
        }
    )
    assert arguments == {"dynamic_allocation": {"shuffle_tracking_enabled": False}}
    assert "attention" in [k for k, _ in _only(findings, "spark.dynamicAllocation.shuffleTracking.enabled")]


# -- options ---------------------------------------------------------------------------------------

#: A path mapped to s3a:// brings the advice to use the S3A magic committer.
_S3A = ["mapped", "attention"]
OPTION_CASES: list[tuple[str, Any, dict[str, Any], list[str]]] = [
    ("main_class", "com.x.Main", {"main_class": "com.x.Main"}, []),
    ("master", "yarn", {}, ["dropped"]),
    ("master", "yarn-cluster", {}, ["dropped"]),
    ("master", "local[4]", {}, ["attention"]),
    ("master", "spark://m:7077", {}, ["attention"]),
    ("deploy_mode", "client", {}, ["dropped"]),
    ("name", "etl", {"name": "etl"}, []),
    (
        "jars",
        ("hdfs://nn/a.jar", "local:///b.jar"),
        {"spark_deps": {"jars": ["s3a://lake/a.jar", "local:///b.jar"]}},
        _S3A,
    ),
    ("files", ("hdfs://nn/raw/x.json#x",), {"spark_deps": {"files": ["s3a://raw/x.json#x"]}}, _S3A),
    ("py_files", ("hdfs://nn/l.zip",), {"spark_deps": {"py_files": ["s3a://lake/l.zip"]}}, _S3A),
    (
        "archives",
        ("hdfs://nn/v.tgz#venv",),
        {"spark_deps": {"archives": ["s3a://lake/v.tgz#venv"]}},
        _S3A,
    ),
    ("packages", ("org.a:b:1",), {"spark_deps": {"packages": ["org.a:b:1"]}}, ["mapped"]),
    ("exclude_packages", ("org.c:d",), {"spark_deps": {"exclude_packages": ["org.c:d"]}}, ["mapped"]),
    ("repositories", ("https://repo",), {"spark_deps": {"repositories": ["https://repo"]}}, ["mapped"]),
    ("properties_file", "/etc/spark/x.conf", {}, ["attention"]),
    ("driver_memory", "4g", {"driver": {"memory": "4g"}}, ["mapped"]),
    ("driver_cores", 2, {"driver": {"cores": 2}}, ["mapped"]),
    ("driver_java_options", "-Dx=1", {"spark_conf": {"spark.driver.extraJavaOptions": "-Dx=1"}}, ["mapped"]),
    (
        "driver_library_path",
        "/opt/n",
        {"spark_conf": {"spark.driver.extraLibraryPath": "/opt/n"}},
        ["mapped"],
    ),
    (
        "driver_class_path",
        "/opt/l/*",
        {"spark_conf": {"spark.driver.extraClassPath": "/opt/l/*"}},
        ["mapped"],
    ),
    ("executor_memory", "8g", {"executors": {"memory": "8g"}}, ["mapped"]),
    ("executor_cores", 4, {"executors": {"cores": 4}}, ["mapped"]),
    ("num_executors", "{{ params.n }}", {"executors": {"instances": "{{ params.n }}"}}, ["mapped"]),
    ("total_executor_cores", 10, {}, ["attention"]),
    ("queue", "etl", {"yunikorn_queue": "etl"}, ["mapped"]),
    ("keytab", "/k/u.keytab", {"spark_conf": {"spark.kerberos.keytab": "/k/u.keytab"}}, ["attention"]),
    ("principal", "u@R", {"spark_conf": {"spark.kerberos.principal": "u@R"}}, ["attention"]),
    ("proxy_user", "svc", {"spec_overrides": {"proxyUser": "svc"}}, ["attention"]),
    ("verbose", True, {}, ["dropped"]),
    ("supervise", True, {}, ["dropped"]),
    ("spark_binary", "spark2-submit", {}, ["dropped"]),
    ("conn_id", "yarn_spark", {}, ["attention"]),
]


@pytest.mark.parametrize(
    ("name", "value", "expected", "kinds"), OPTION_CASES, ids=[f"{c[0]}={c[1]}" for c in OPTION_CASES]
)
def test_option_row(name: str, value: Any, expected: dict[str, Any], kinds: list[str]) -> None:
    arguments, findings = _run(**{name: value})
    assert arguments == expected
    assert [finding.kind for finding in findings] == kinds


def test_every_option_rule_has_a_case() -> None:
    assert set(OPTION_RULES) - {case[0] for case in OPTION_CASES} == {
        "application",
        "application_args",
        "env",
    }


def test_total_executor_cores_is_ignored_as_yarn_ignored_it() -> None:
    arguments, findings = _run(total_executor_cores=10, executor_cores=4)
    assert arguments["executors"] == {"cores": 4}
    [(kind, detail)] = _only(findings, "--total-executor-cores")
    assert kind == "attention" and "2 executors of 4 cores" in detail
    arguments, findings = _run(total_executor_cores=10, num_executors=3)
    assert arguments["executors"] == {"instances": 3}
    assert _only(findings, "--total-executor-cores")[0][0] == "dropped"


def test_an_option_overrides_the_same_property() -> None:
    arguments, findings = _run(
        {"spark.executor.memory": "2g", "spark.yarn.queue": "a", "spark.kerberos.keytab": "/x"},
        executor_memory="4g",
        queue="b",
    )
    assert arguments == {
        "executors": {"memory": "4g"},
        "yunikorn_queue": "b",
        "spark_conf": {"spark.kerberos.keytab": "/x"},
    }
    assert [kind for kind, _ in _only(findings, "spark.executor.memory")] == ["dropped"]
    assert [kind for kind, _ in _only(findings, "spark.yarn.queue")] == ["dropped"]


def test_environment() -> None:
    arguments, findings = _run(env={"HADOOP_CONF_DIR": "/etc/hadoop", "PYSPARK_PYTHON": "./venv/bin/python"})
    assert arguments == {"driver": {"env": {"PYSPARK_PYTHON": "./venv/bin/python"}}}
    assert [(f.kind, f.subject) for f in findings] == [
        ("dropped", "HADOOP_CONF_DIR"),
        ("mapped", "PYSPARK_PYTHON"),
    ]


def test_repeats_and_operator_only_arguments() -> None:
    _, findings = _run(repeated=("--jars",), operator_only=("status_poll_interval",))
    assert [(f.kind, f.subject) for f in findings] == [
        ("dropped", "status_poll_interval"),
        ("attention", "--jars"),
    ]


# -- paths -----------------------------------------------------------------------------------------


def test_paths_go_through_the_longest_prefix_and_unmapped_hdfs_paths_need_attention() -> None:
    submit = parse_spark_submit_command(
        "spark-submit --conf spark.sql.warehouse.dir=hdfs://nn/raw/wh --conf spark.x=hdfs://other/y "
        "hdfs://nn/apps/job.jar hdfs://nn/raw/{{ ds }} --out=hdfs://nn/out,hdfs://nn/rawer 7"
    )
    result = translate(submit, path_map=LAKE)
    assert result.arguments["application"] == "s3a://lake/apps/job.jar"
    assert result.arguments["arguments"] == [
        "s3a://raw/{{ ds }}",
        "--out=s3a://lake/out,s3a://lake/rawer",
        "7",
    ]
    assert result.arguments["spark_conf"] == {
        "spark.sql.warehouse.dir": "s3a://raw/wh",
        "spark.x": "hdfs://other/y",
    }
    assert _only(result.findings, "spark.x") == [
        ("attention", "hdfs://other/y has no entry in the path map; kept as is")
    ]
    assert any(f.subject == "spark.hadoop.fs.s3a.committer.name" for f in result.findings)


def test_local_application_paths_need_attention_and_no_s3a_no_committer_advice() -> None:
    result = translate(SparkSubmit(application="jobs/etl.jar", jars=("file:///opt/x.jar",)))
    assert [(f.kind, f.subject) for f in result.findings if f.kind == "attention"] == [
        ("attention", "application"),
        ("attention", "--jars"),
    ]


def test_pyspark_without_an_explicit_overhead_gets_a_sizing_note() -> None:
    subject = "spark.executor.memoryOverheadFactor"
    assert _only(translate(SparkSubmit(application="s3a://b/app.py")).findings, subject)
    with_overhead = SparkSubmit(application="s3a://b/app.py", conf={"spark.executor.memoryOverhead": "1g"})
    assert not _only(translate(with_overhead).findings, subject)


def test_jinja_and_integers_are_kept_verbatim() -> None:
    result = translate(
        SparkSubmit(
            application="s3a://b/{{ params.app }}.py",
            application_args=("{{ ds }}", 3),
            conf={"spark.sql.shuffle.partitions": 200, "spark.app.tag": "{{ run_id }}"},
            executor_memory="{{ params.mem }}",
        )
    )
    assert result.arguments["arguments"] == ["{{ ds }}", 3]
    assert result.arguments["spark_conf"] == {
        "spark.sql.shuffle.partitions": 200,
        "spark.app.tag": "{{ run_id }}",
    }
    assert result.arguments["executors"] == {"memory": "{{ params.mem }}"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("hdfs://nn:8020/data/a.csv", "s3a://lake/data/a.csv"),  # the default port written out
        ("HDFS://NN/data/b#b", "s3a://lake/data/b#b"),  # scheme and host in any case
        ("hdfs://nn:9000/data/c", "hdfs://nn:9000/data/c"),  # another port is another service
        ("hdfs://me@nn:8020/data/d", "hdfs://me@nn:8020/data/d"),  # a user is part of the address
        ("--in=hdfs://nn/data/e,hdfs://other:8020/x/f", "--in=s3a://lake/data/e,s3a://other/f"),
    ],
)
def test_path_map_keys_match_with_or_without_the_default_hdfs_port(path: str, expected: str) -> None:
    from moka_provider.migration.paths import PathMap

    unmapped: list[str] = []
    mapped = PathMap({"hdfs://nn/data": "s3a://lake/data", "hdfs://other:8020/x": "s3a://other"}).value(
        path, unmapped.append
    )
    assert mapped == expected
    assert unmapped == ([] if mapped != path else [path])


def test_remote_class_path_entries_are_left_out_with_a_reason() -> None:
    arguments, findings = _run(
        driver_class_path="hdfs://nn/raw/ojdbc8.jar:/opt/drivers/*", jars=("hdfs://nn/raw/ojdbc8.jar",)
    )
    assert arguments["spark_conf"] == {"spark.driver.extraClassPath": "/opt/drivers/*"}
    assert arguments["spark_deps"] == {"jars": ["s3a://raw/ojdbc8.jar"]}
    [(kind, detail)] = _only(findings, "--driver-class-path")[:1]
    assert kind == "attention" and "hdfs://nn/raw/ojdbc8.jar" in detail


@pytest.mark.parametrize(
    ("argument", "secret"),
    [
        ("{{ conn.vendor_db.password }}", True),
        ("--token={{ var.value.api_token }}", True),
        ("{{ ti.xcom_pull(task_ids='x') }}", False),
        ("{{ ds }}", False),
    ],
)
def test_a_secret_in_the_arguments_needs_attention(argument: str, secret: bool) -> None:
    _, findings = _run(application_args=("--in", argument))
    flagged = [f for f in findings if f.kind == "attention" and "secret" in f.detail]
    assert bool(flagged) == secret
