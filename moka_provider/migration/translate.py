"""Translate a Monarch spark-submit into MokaSparkOperator arguments, saying what changed and why.

Every YARN-era setting is handled by one row of a table: the spark-submit options in
:data:`OPTION_RULES`, Spark properties in :data:`CONF_RULES` (exact keys) and
:data:`CONF_PREFIX_RULES` (the longest matching prefix wins). A row names a small action (move to an
argument, rename, drop, ...), its target, and the finding it leaves: ``mapped`` (now expressed the
Moka way), ``renamed`` (a Spark property under its Kubernetes-era name), ``dropped`` (no meaning on
Moka) or ``attention`` (a human must check or decide). A property that a given option overrides is
dropped, as spark-submit lets the option win. Properties without a row are kept as they are.

Values are never rendered: Jinja (``{{ ds }}``) stays verbatim, and only path prefixes are replaced
(:mod:`~moka_provider.migration.paths`). Pure logic over a :class:`SparkSubmit`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from moka_provider.jobs.identity import LABEL_PREFIX, label_value
from moka_provider.merge import deep_merge
from moka_provider.migration.paths import PathMap, is_local
from moka_provider.migration.spark_submit import FLAG_OF, JINJA, SparkSubmit, split_list

FINDING_KINDS = ("mapped", "renamed", "dropped", "attention")
#: Node label key a YARN node label becomes (Moka nodes of that kind must carry it).
NODE_LABEL_KEY = LABEL_PREFIX + "node-label"
#: Label key prefix of YARN application tags (``tag.moka.dev/<tag>: "true"``).
TAG_LABEL_PREFIX = "tag." + LABEL_PREFIX
#: Environment of the YARN client that has no meaning in Moka's image.
CLIENT_ENV = ("HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_HOME", "SPARK_CONF_DIR", "HADOOP_HOME", "JAVA_HOME")
#: What the S3A magic committer needs (Spark's cloud committer bindings).
MAGIC_COMMITTER_CONF = {
    "spark.hadoop.fs.s3a.committer.name": "magic",
    "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
    "spark.sql.sources.commitProtocolClass": "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
    "spark.sql.parquet.output.committer.class": "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
}
_OVERHEAD_KEYS = (
    "spark.executor.memoryOverhead",
    "spark.driver.memoryOverhead",
    "spark.executor.memoryOverheadFactor",
    "spark.driver.memoryOverheadFactor",
    "spark.kubernetes.memoryOverheadFactor",
)
_ALLOCATION_FIELDS = {
    "spark.dynamicAllocation.minExecutors": "min_executors",
    "spark.dynamicAllocation.maxExecutors": "max_executors",
    "spark.dynamicAllocation.initialExecutors": "initial_executors",
    "spark.dynamicAllocation.shuffleTracking.enabled": "shuffle_tracking_enabled",
}
_SHUFFLE_TRACKING = "spark.dynamicAllocation.shuffleTracking.enabled"
_JINJA = re.compile(f"({JINJA.pattern})", re.DOTALL)  # split() keeps the templates
#: One entry of a ``:``-separated class path: a URL (with an optional port) or a plain path.
_CLASS_PATH_ENTRY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/:]*(?::[0-9]+)?[^:]*|[^:]+")
#: A template that reads a secret: rendered into the job's spec, anyone who reads the job sees it.
_SECRET_TEMPLATE = re.compile(
    r"\{\{[^}]*(password|passwd|secret|token|credential|conn\.[\w.]+\.extra)[^}]*\}\}", re.IGNORECASE
)


@dataclass(frozen=True)
class Finding:
    """What happened to one setting: ``kind`` (see :data:`FINDING_KINDS`), the option or property
    it is about, and why, in plain words."""

    kind: str
    subject: str
    detail: str


@dataclass
class Translation:
    """MokaSparkOperator keyword arguments, and the findings of the translation."""

    arguments: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)


class _Job:
    """The arguments being built, the findings so far, and the path map."""

    def __init__(self, submit: SparkSubmit, paths: PathMap, priority_classes: Mapping[str, str]) -> None:
        self.submit = submit
        self.paths = paths
        self.priority_classes = priority_classes
        self.arguments: dict[str, Any] = {}
        self.conf: dict[str, Any] = {}
        self.allocation: dict[str, Any] = {}
        self.findings: list[Finding] = []

    def note(self, kind: str, subject: str, detail: str) -> None:
        self.findings.append(Finding(kind, subject, detail))

    def put(self, target: str, value: Any) -> None:
        """Set ``target``, an argument name or ``argument.key`` (``driver.memory``)."""
        *parents, last = target.split(".")
        self.arguments = deep_merge(self.arguments, _nested(parents, {last: value}))

    def override(self, fragment: dict[str, Any]) -> None:
        self.put("spec_overrides", deep_merge(self.arguments.get("spec_overrides", {}), fragment))

    def path(self, value: Any, subject: str) -> Any:
        if not isinstance(value, str):
            return value

        def unmapped(url: str) -> None:
            self.note("attention", subject, f"{url} has no entry in the path map; kept as is")

        return self.paths.value(value, unmapped)

    def local_path(self, path: str, subject: str) -> None:
        if is_local(path):
            self.note(
                "attention",
                subject,
                f"{path} is a file of the machine that ran spark-submit; Moka's driver runs in a pod: "
                "put it in the image (local://) or on object storage (and in the path map)",
            )


def _nested(parents: list[str], value: dict[str, Any]) -> dict[str, Any]:
    for parent in reversed(parents):
        value = {parent: value}
    return value


class Rule(NamedTuple):
    """One row: ``action(job, subject, value, rule)``; ``target`` and ``detail`` are its data;
    ``kind`` the finding it leaves (``None``: none); ``flag`` the SparkSubmit field that overrides
    this property when given."""

    action: Callable[[_Job, str, Any, Rule], None]
    target: str | None = None
    kind: str | None = "mapped"
    detail: str = ""
    flag: str | None = None


# -- actions ---------------------------------------------------------------------------------------


def _finding(job: _Job, subject: str, rule: Rule) -> None:
    if rule.kind:
        job.note(rule.kind, subject, rule.detail)


def _argument(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    job.put(rule.target or "", list(value) if isinstance(value, tuple) else value)
    _finding(job, subject, rule)


def _paths(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """The application, or files for ``spark_deps`` (added to those already there), mapped; files
    of the submitting machine are flagged."""
    target = rule.target or ""
    single = target == "application"
    items = (value,) if single else split_list(value) if isinstance(value, str) else tuple(value)
    for item in items:
        job.local_path(item, subject)
    mapped = [job.path(item, subject) for item in items]
    if single:
        job.put(target, mapped[0])
    else:
        existing = job.arguments.get("spark_deps", {}).get(target.split(".")[1], [])
        job.put(target, [*existing, *mapped])
    _finding(job, subject, rule)


def _application_args(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    job.put("arguments", [job.path(item, subject) for item in value])


def _drop(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    _finding(job, subject, rule)


def _to_conf(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """Into ``spark_conf[target]`` (an option that is a property on Kubernetes, or a renamed one)."""
    target = rule.target or subject
    if subject != target and target in job.submit.conf:
        job.note("dropped", subject, f"{target} is given too and is kept")
        return
    job.conf[target] = job.path(value, subject)
    _finding(job, subject, rule)


def _rename_prefix(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    prefix = next(prefix for prefix, row in CONF_PREFIX_RULES.items() if row is rule)
    _to_conf(job, subject, value, rule._replace(target=(rule.target or "") + subject[len(prefix) :]))


def _as_option(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """A property that is the same as an option (``spark.yarn.queue`` and ``--queue``)."""
    option_rule = OPTION_RULES[rule.target or ""]
    option_rule.action(job, subject, value, option_rule)


def _master(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    master = str(value).strip().lower()
    if master.startswith("yarn"):
        job.note("dropped", subject, "Moka runs on Kubernetes; the Spark operator sets the master")
    elif master.startswith("local"):
        job.note(
            "attention",
            subject,
            f"{value} is not a YARN job: it ran inside the Airflow worker; on Moka it runs on the "
            "cluster (a driver pod and executors); check that this task is meant to move",
        )
    else:
        job.note("attention", subject, f"{value} is not a YARN master; Moka sets its own")


def _name(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """The Moka job name prefix: a DNS label; Jinja parts are kept as they are."""
    parts = _JINJA.split(str(value))
    cleaned = [
        part if index % 2 else re.sub(r"[^a-z0-9]+", "-", part.lower()) for index, part in enumerate(parts)
    ]
    name = "".join(cleaned)
    name = re.sub(r"^[^a-z{]+", "", name) if not cleaned[0].startswith("{") else name
    name = name.rstrip("-") if not name.endswith("}") else name
    if not name:
        job.note(
            "dropped",
            subject,
            f"{value!r} has no letters to make a name of; Moka names the job after the task",
        )
        return
    job.put("name", name)
    if name != value:
        job.note("renamed", subject, f"the Moka job name must be a DNS label: {value!r} becomes {name!r}")
    if len(parts) > 1:
        job.note(
            "attention",
            subject,
            "the name is a template: it must render to lowercase letters, digits and '-'",
        )


def _total_cores(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """YARN ignores ``--total-executor-cores`` (standalone, Mesos and Kubernetes only): the Monarch
    job ran with ``spark.executor.instances``. Keep what ran, and say what the value would mean."""
    submit = job.submit
    if submit.num_executors is not None:
        job.note("dropped", subject, "--num-executors gives the executor count (YARN ignores this option)")
        return
    cores = submit.executor_cores if isinstance(submit.executor_cores, int) else 1
    meaning = ""
    if isinstance(value, int) and isinstance(submit.executor_cores or 1, int):
        meaning = f"; meant literally it is {max(1, value // cores)} executors of {cores} cores"
    job.note(
        "attention",
        subject,
        "YARN ignores it: the Monarch job ran with spark.executor.instances (2 unless set, or the "
        f"cluster's dynamic allocation); set executors['instances'] to what the job needs{meaning}",
    )


def _class_path(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """A JVM class path names files of the pod: remote entries are left out (jars to ship go in
    ``spark_deps['jars']``, which the driver and executors add to their class paths)."""
    kept = []
    for entry in _CLASS_PATH_ENTRY.findall(str(value)):
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", entry) and not entry.startswith(("local://", "file:")):
            job.note(
                "attention",
                subject,
                f"{entry} is not a file of the pod and a class path cannot fetch it: left out; ship it "
                "in spark_deps['jars'] (added to the class path) or put it in the image",
            )
        else:
            kept.append(entry)
    if kept:
        _to_conf(job, subject, ":".join(kept), rule)


def _resource(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """A size given as a property goes where its option would put it: without it the operator's
    own resource fields (or the connection's defaults) would override the property. A count that is
    not a number (a template) stays a property."""
    target = rule.target or ""
    if target.endswith((".cores", ".instances")):
        count = _integer(value)
        if count is None:
            _to_conf(job, subject, value, rule._replace(target=None, kind=None))
            return
        value = count
    job.put(target, value)
    _finding(job, subject, rule)


def _local_file_conf(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    """A property naming a file that Spark reads in the driver: kept, flagged if it is the worker's."""
    job.conf[subject] = job.path(value, subject)
    if isinstance(value, str):
        job.local_path(value, subject)


def _kerberos(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    job.conf[rule.target or subject] = value
    _finding(job, subject, rule)


def _proxy_user(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    job.override({"proxyUser": value})
    _finding(job, subject, rule)


def _env(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    for name, text in value.items():
        if name in CLIENT_ENV:
            job.note(
                "dropped", name, "configures the YARN client on the Airflow worker; Moka's image has its own"
            )
        else:
            job.put("driver.env", {name: job.path(text, name)})
            job.note(
                "mapped",
                name,
                "set in the driver pod, as spark.yarn.appMasterEnv.* did on YARN (executors get "
                "spark.executorEnv.*)",
            )


def _node_label(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(value)):
        job.note(
            "attention", subject, f"the label expression {value!r} is not one label; choose a node selector"
        )
        return
    job.put(f"{rule.target}.node_selector", {NODE_LABEL_KEY: str(value)})
    job.note(
        "attention",
        subject,
        f"the YARN node label becomes the node selector {NODE_LABEL_KEY}={value}: Moka's nodes must carry it",
    )


def _tags(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    labels = {}
    for tag in split_list(str(value)):
        if _JINJA.search(tag) or not label_value(tag):
            job.note("attention", subject, f"the tag {tag!r} cannot be a label name; left out")
        else:
            labels[TAG_LABEL_PREFIX + label_value(tag)] = "true"
    if labels:
        job.put("driver.labels", labels)
        job.put("executors.labels", labels)
        job.note("mapped", subject, f"YARN tags become pod labels {', '.join(labels)}")


def _priority(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    priority_class = job.priority_classes.get(str(value))
    if priority_class is None:
        job.note(
            "attention",
            subject,
            f"YARN priority {value} has no Kubernetes equivalent without a PriorityClass: pass "
            "priority_classes={...} or set driver/executor priorityClassName in spec_overrides",
        )
        return
    job.override({role: {"priorityClassName": priority_class} for role in ("driver", "executor")})
    job.note("mapped", subject, f"YARN priority {value} becomes the PriorityClass {priority_class}")


def _attempts(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    attempts = _integer(value)
    if attempts is None or attempts < 1:
        job.note(
            "attention", subject, f"{value!r} is not a number of attempts; set spec_overrides restartPolicy"
        )
        return
    retries = attempts - 1
    policy: dict[str, Any] = {"type": "Never"}
    if retries:
        policy = {"type": "OnFailure", "onFailureRetries": retries, "onSubmissionFailureRetries": retries}
    job.override({"restartPolicy": policy})
    job.note(
        "mapped",
        subject,
        f"{attempts} attempt(s) become restartPolicy {policy['type']} with {retries} retries "
        "(Airflow's task retries come on top)",
    )


def _allocation(job: _Job, subject: str, value: Any, rule: Rule) -> None:
    job.allocation[subject] = value


# -- the table -------------------------------------------------------------------------------------

_CLUSTER_MODE = "Moka always runs the driver in a pod on the cluster (cluster mode)"
_KEYTAB = (
    "Kerberos on Moka: the keytab must be mounted into the driver pod at this path (a Kubernetes "
    "secret), and the KDC reachable from the cluster"
)
_OVERRIDDEN = "{flag} overrides it, as in spark-submit"

#: SparkSubmit fields (spark-submit options) -> what they become.
OPTION_RULES: dict[str, Rule] = {
    "application": Rule(_paths, "application", None),
    "application_args": Rule(_application_args, "arguments", None),
    "main_class": Rule(_argument, "main_class", None),
    "master": Rule(_master),
    "deploy_mode": Rule(_drop, kind="dropped", detail=_CLUSTER_MODE),
    "name": Rule(_name),
    "jars": Rule(_paths, "spark_deps.jars", detail="spark_deps['jars']"),
    "files": Rule(_paths, "spark_deps.files", detail="spark_deps['files']"),
    "py_files": Rule(_paths, "spark_deps.py_files", detail="spark_deps['py_files']"),
    "archives": Rule(_paths, "spark_deps.archives", detail="spark_deps['archives']"),
    "packages": Rule(
        _argument, "spark_deps.packages", detail="spark_deps['packages'], resolved in the driver pod"
    ),
    "exclude_packages": Rule(
        _argument, "spark_deps.exclude_packages", detail="spark_deps['exclude_packages']"
    ),
    "repositories": Rule(
        _argument, "spark_deps.repositories", detail="spark_deps['repositories']: the pods must reach them"
    ),
    "properties_file": Rule(
        _drop,
        kind="attention",
        detail="the file is on the Airflow worker and Moka does not read it: copy its properties into spark_conf",
    ),
    "driver_memory": Rule(_argument, "driver.memory", detail="driver['memory']"),
    "driver_cores": Rule(_argument, "driver.cores", detail="driver['cores']"),
    "driver_java_options": Rule(_to_conf, "spark.driver.extraJavaOptions", detail="a Spark property"),
    "driver_library_path": Rule(
        _to_conf, "spark.driver.extraLibraryPath", detail="a Spark property; the path must exist in the image"
    ),
    "driver_class_path": Rule(
        _class_path,
        "spark.driver.extraClassPath",
        detail="a Spark property; the paths must exist in the image",
    ),
    "executor_memory": Rule(_argument, "executors.memory", detail="executors['memory']"),
    "executor_cores": Rule(_argument, "executors.cores", detail="executors['cores']"),
    "num_executors": Rule(_argument, "executors.instances", detail="executors['instances']"),
    "total_executor_cores": Rule(_total_cores),
    "queue": Rule(
        _argument,
        "yunikorn_queue",
        detail="the YARN queue becomes the YuniKorn queue of the same name: check that Moka has it",
    ),
    "keytab": Rule(_kerberos, "spark.kerberos.keytab", "attention", _KEYTAB),
    "principal": Rule(_kerberos, "spark.kerberos.principal", "attention", _KEYTAB),
    "proxy_user": Rule(
        _proxy_user,
        kind="attention",
        detail="spec.proxyUser: impersonation needs Hadoop delegation tokens on Moka; check it is still needed",
    ),
    "env": Rule(_env),
    "verbose": Rule(
        _drop, kind="dropped", detail="the Spark operator runs spark-submit; its output is not the task log"
    ),
    "supervise": Rule(_drop, kind="dropped", detail="restarts come from restartPolicy (and Airflow retries)"),
    "spark_binary": Rule(_drop, kind="dropped", detail="Moka runs the spark-submit of its image"),
    "conn_id": Rule(
        _drop,
        kind="attention",
        detail="Moka uses the moka connection: check what this Spark connection set (queue, deploy mode, "
        "keytab, principal) and pass it explicitly",
    ),
}

_YARN_ONLY = "a YARN-only setting with no effect on Kubernetes"
#: Spark properties (exact keys) -> what they become.
CONF_RULES: dict[str, Rule] = {
    "spark.master": Rule(_as_option, "master", flag="master"),
    "spark.submit.deployMode": Rule(_as_option, "deploy_mode", flag="deploy_mode"),
    "spark.app.name": Rule(_as_option, "name", flag="name"),
    "spark.yarn.queue": Rule(_as_option, "queue", flag="queue"),
    "spark.yarn.executor.memoryOverhead": Rule(
        _to_conf, "spark.executor.memoryOverhead", "renamed", "its name outside YARN"
    ),
    "spark.yarn.driver.memoryOverhead": Rule(
        _to_conf, "spark.driver.memoryOverhead", "renamed", "its name outside YARN"
    ),
    "spark.yarn.keytab": Rule(
        _kerberos, "spark.kerberos.keytab", "attention", "renamed; " + _KEYTAB, "keytab"
    ),
    "spark.yarn.principal": Rule(
        _kerberos, "spark.kerberos.principal", "attention", "renamed; " + _KEYTAB, "principal"
    ),
    "spark.yarn.max.executor.failures": Rule(
        _to_conf, "spark.executor.maxNumFailures", "renamed", "its name outside YARN"
    ),
    "spark.yarn.access.hadoopFileSystems": Rule(
        _to_conf, "spark.kerberos.access.hadoopFileSystems", "renamed", "its name outside YARN"
    ),
    "spark.yarn.access.namenodes": Rule(
        _to_conf, "spark.kerberos.access.hadoopFileSystems", "renamed", "its name outside YARN"
    ),
    "spark.yarn.submit.waitAppCompletion": Rule(
        _to_conf, "spark.kubernetes.submission.waitAppCompletion", detail="the Kubernetes equivalent"
    ),
    "spark.yarn.am.nodeLabelExpression": Rule(_node_label, "driver"),
    "spark.yarn.executor.nodeLabelExpression": Rule(_node_label, "executors"),
    "spark.yarn.tags": Rule(_tags),
    "spark.yarn.priority": Rule(_priority),
    "spark.yarn.maxAppAttempts": Rule(_attempts),
    "spark.yarn.jars": Rule(_drop, kind="dropped", detail="Spark's jars come with Moka's image"),
    "spark.yarn.archive": Rule(_drop, kind="dropped", detail="Spark's jars come with Moka's image"),
    "spark.yarn.dist.jars": Rule(_paths, "spark_deps.jars", detail="spark_deps['jars']"),
    "spark.yarn.dist.files": Rule(_paths, "spark_deps.files", detail="spark_deps['files']"),
    "spark.yarn.dist.archives": Rule(_paths, "spark_deps.archives", detail="spark_deps['archives']"),
    "spark.yarn.dist.pyFiles": Rule(_paths, "spark_deps.py_files", detail="spark_deps['py_files']"),
    "spark.yarn.exclude.nodes": Rule(
        _drop, kind="dropped", detail="Kubernetes schedules the pods; " + _YARN_ONLY
    ),
    "spark.yarn.rolledLog.includePattern": Rule(
        _drop, kind="dropped", detail="Moka ships every pod's log to S3"
    ),
    "spark.yarn.rolledLog.excludePattern": Rule(
        _drop, kind="dropped", detail="Moka ships every pod's log to S3"
    ),
    "spark.yarn.scheduler.heartbeat.interval-ms": Rule(_drop, kind="dropped", detail=_YARN_ONLY),
    "spark.yarn.scheduler.initial-allocation.interval": Rule(_drop, kind="dropped", detail=_YARN_ONLY),
    "spark.driver.extraClassPath": Rule(
        _class_path, kind=None, flag="driver_class_path", detail="the paths must exist in the image"
    ),
    "spark.executor.extraClassPath": Rule(_class_path, kind=None, detail="the paths must exist in the image"),
    "spark.jars.ivySettings": Rule(_local_file_conf),
    "spark.shuffle.service.enabled": Rule(
        _drop,
        kind="dropped",
        detail="YARN's external shuffle service does not exist on Moka; dynamic allocation uses shuffle tracking",
    ),
    "spark.dynamicAllocation.enabled": Rule(_allocation),
    **{key: Rule(_allocation) for key in _ALLOCATION_FIELDS},
    # resources given as properties: where the options would put them (the option wins if given)
    **{
        key: Rule(_resource, OPTION_RULES[flag].target, flag=flag, detail=OPTION_RULES[flag].detail)
        for key, flag in {
            "spark.executor.memory": "executor_memory",
            "spark.executor.cores": "executor_cores",
            "spark.executor.instances": "num_executors",
            "spark.driver.memory": "driver_memory",
            "spark.driver.cores": "driver_cores",
        }.items()
    },
    # properties that the corresponding option overrides when both are given
    **{
        key: Rule(_to_conf, kind=None, flag=flag)
        for key, flag in {
            "spark.jars": "jars",
            "spark.files": "files",
            "spark.submit.pyFiles": "py_files",
            "spark.archives": "archives",
            "spark.jars.packages": "packages",
            "spark.jars.excludes": "exclude_packages",
            "spark.jars.repositories": "repositories",
            "spark.driver.extraJavaOptions": "driver_java_options",
            "spark.driver.extraLibraryPath": "driver_library_path",
            "spark.kerberos.keytab": "keytab",
            "spark.kerberos.principal": "principal",
        }.items()
    },
}
#: Spark properties by prefix (the longest matching prefix wins) -> what they become.
CONF_PREFIX_RULES: dict[str, Rule] = {
    "spark.yarn.appMasterEnv.": Rule(
        _rename_prefix, "spark.kubernetes.driverEnv.", detail="the driver pod's environment"
    ),
    "spark.yarn.am.": Rule(
        _drop,
        kind="dropped",
        detail="the YARN ApplicationMaster; on Moka the driver pod's own settings apply",
    ),
    "spark.yarn.": Rule(_drop, kind="dropped", detail=_YARN_ONLY),
    "spark.shuffle.service.": Rule(
        _drop, kind="dropped", detail="YARN's external shuffle service is not on Moka"
    ),
}
_NOT_SPARK = Rule(
    _drop, kind="dropped", detail="spark-submit ignores properties whose name does not start with 'spark.'"
)
_KEEP = Rule(_to_conf, kind=None)


def conf_rule(key: str) -> Rule:
    """The row for a Spark property: its exact key, else its longest prefix, else kept as is."""
    if key in CONF_RULES:
        return CONF_RULES[key]
    prefixes = [prefix for prefix in CONF_PREFIX_RULES if key.startswith(prefix)]
    if prefixes:
        return CONF_PREFIX_RULES[max(prefixes, key=len)]
    return _KEEP if key.startswith("spark.") else _NOT_SPARK


# -- the translation -------------------------------------------------------------------------------


def translate(
    submit: SparkSubmit,
    *,
    path_map: Mapping[str, str] | None = None,
    priority_classes: Mapping[str, str] | None = None,
) -> Translation:
    """MokaSparkOperator arguments for ``submit``, with a finding for everything that changed.

    :param path_map: path prefixes (``hdfs://nn/data``) and what replaces them (``s3a://lake/data``).
    :param priority_classes: YARN priorities (as text) and the PriorityClass each becomes.
    """
    job = _Job(submit, PathMap(path_map), priority_classes or {})
    for option in dataclasses.fields(SparkSubmit):
        value = getattr(submit, option.name)
        if option.name in OPTION_RULES and value not in (None, (), {}, False):
            rule = OPTION_RULES[option.name]
            rule.action(job, FLAG_OF.get(option.name, option.name), value, rule)
    for key, value in submit.conf.items():
        rule = conf_rule(key)
        if rule.flag and getattr(submit, rule.flag) not in (None, ()):
            job.note("dropped", key, _OVERRIDDEN.format(flag=FLAG_OF[rule.flag]))
        else:
            rule.action(job, key, value, rule)
    for name in submit.operator_only:
        job.note(
            "dropped", name, "steers the SparkSubmitOperator only; Moka's operator tracks the job itself"
        )
    for subject in submit.repeated:
        job.note("attention", subject, "given more than once: the last value is kept, as spark-submit does")
    _dynamic_allocation(job)
    _advice(job)
    if job.conf:
        job.put("spark_conf", job.conf)
    return Translation(_ordered(job.arguments), job.findings)


def _dynamic_allocation(job: _Job) -> None:
    """``spark.dynamicAllocation.*`` -> ``dynamic_allocation`` when it is on (kept as properties otherwise)."""
    given = job.allocation
    enabled = given.get("spark.dynamicAllocation.enabled")
    if not (enabled is True or str(enabled).strip().lower() == "true"):
        job.conf.update(given)
        return
    allocation: dict[str, Any] = {}
    for key, value in given.items():
        name = _ALLOCATION_FIELDS.get(key)
        number = _integer(value) if name != "shuffle_tracking_enabled" else _boolean(value)
        if name is None:
            job.note("mapped", key, "dynamic_allocation (enabled)")
        elif number is None:
            job.conf[key] = value
        else:
            allocation[name] = number
            job.note("mapped", key, f"dynamic_allocation[{name!r}]")
    if "shuffle_tracking_enabled" not in allocation:
        allocation["shuffle_tracking_enabled"] = True
        job.note(
            "mapped",
            _SHUFFLE_TRACKING,
            "added: without YARN's shuffle service, dynamic allocation on Kubernetes needs shuffle tracking "
            "(or a remote shuffle service such as Celeborn)",
        )
    elif allocation["shuffle_tracking_enabled"] is False:
        job.note(
            "attention",
            _SHUFFLE_TRACKING,
            "dynamic allocation without shuffle tracking needs a remote shuffle service",
        )
    job.put("dynamic_allocation", allocation)


def _advice(job: _Job) -> None:
    """Findings about the job as a whole: PySpark memory overhead, the S3A committer, secrets."""
    arguments, conf = job.arguments, job.conf
    for subject, text in _texts(arguments):
        if _SECRET_TEMPLATE.search(text):
            job.note(
                "attention",
                subject,
                "a secret rendered into the job's spec is readable by anyone who can read Spark "
                "applications in the namespace: give it to the pods from a Kubernetes secret instead",
            )
    application = str(arguments.get("application", ""))
    explicit_overhead = any(key in conf for key in _OVERHEAD_KEYS) or any(
        "memory_overhead" in arguments.get(role, {}) for role in ("driver", "executors")
    )
    if application.split("#")[0].endswith(".py") and not explicit_overhead:
        job.note(
            "attention",
            "spark.executor.memoryOverheadFactor",
            "Kubernetes gives PySpark pods a memory overhead factor of 0.4 (0.1 on YARN): pods ask for more "
            "memory than on Monarch; set an overhead (or spec_overrides memoryOverheadFactor) to keep the sizing",
        )
    if any(target.startswith("s3a://") for target in job.paths.targets) and not any(
        key in conf for key in MAGIC_COMMITTER_CONF
    ):
        suggested = ", ".join(f"{key}={value}" for key, value in MAGIC_COMMITTER_CONF.items())
        job.note(
            "attention",
            "spark.hadoop.fs.s3a.committer.name",
            f"output now goes to S3: use the S3A magic committer instead of HDFS renames ({suggested})",
        )


def _texts(value: Any, subject: str = "") -> list[tuple[str, str]]:
    """Every text inside ``value`` (nested arguments), with the argument it is in."""
    if isinstance(value, str):
        return [(subject, value)]
    if isinstance(value, dict):
        return [item for key, inner in value.items() for item in _texts(inner, subject or str(key))]
    if isinstance(value, list | tuple):
        return [item for inner in value for item in _texts(inner, subject)]
    return []


def _integer(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).strip().lower())


_ARGUMENT_ORDER = (
    "name",
    "application",
    "main_class",
    "arguments",
    "spark_conf",
    "driver",
    "executors",
    "dynamic_allocation",
    "spark_deps",
    "yunikorn_queue",
    "env",
    "spec_overrides",
)


def _ordered(arguments: dict[str, Any]) -> dict[str, Any]:
    return {key: arguments[key] for key in _ARGUMENT_ORDER if key in arguments}
