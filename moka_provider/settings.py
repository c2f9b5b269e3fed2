"""What a ``moka`` connection says beyond cluster access: defaults and link templates.

Cluster access (kubeconfig path or inline, in-cluster, context, exec-based auth) is read by the
cncf.kubernetes provider's hooks from the same connection; this module only parses and checks the
Moka settings, so that a mistake in the connection is reported with the field's name when the
hook first loads it, not as a broken URL or a rejected job later. Pure logic, no I/O.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moka_provider.exceptions import MokaError

ENGINES = ("spark", "flink", "ray")
ARCHITECTURES = ("amd64", "arm64")

#: Link kinds a connection may template, with the connection field that holds each.
LINK_FIELDS = {
    "moka_ui": "moka_ui_url",
    "spark_ui": "spark_ui_url",
    "spark_history": "spark_history_url",
    "log_archive": "log_archive_url",
    "job_log": "job_log_url",
    "flink_dashboard": "flink_dashboard_url",
    "ray_dashboard": "ray_dashboard_url",
}

#: Placeholders a link template may use; the operators fill them from the job and its status.
LINK_PLACEHOLDERS = frozenset(
    {"namespace", "name", "kind", "engine", "pod", "spark_app_id", "job_id", "ray_cluster"}
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class ConnectionSettingsError(MokaError, ValueError):
    """A ``moka`` connection field holds a value Moka cannot use."""

    def __init__(self, field_name: str, problem: str) -> None:
        self.field_name = field_name
        super().__init__(f"moka connection field {field_name!r}: {problem}")


@dataclass(frozen=True)
class MokaSettings:
    """The Moka defaults and link templates of one connection."""

    namespace: str = "default"
    queue: str | None = None
    service_account: str | None = None
    images: Mapping[str, str] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    link_templates: Mapping[str, str] = field(default_factory=dict)
    #: Monarch migration: Hadoop-era path prefixes and what replaces each (``hdfs://nn/data`` ->
    #: ``s3a://lake/data``), YARN priorities and their PriorityClass, and where the runners are.
    path_map: Mapping[str, str] = field(default_factory=dict)
    priority_classes: Mapping[str, str] = field(default_factory=dict)
    spark_sql_runner: str | None = None
    spark_jdbc_runner: str | None = None
    #: Where the driver finds the program that runs ``@task.moka_pyspark`` functions.
    pyspark_function_runner: str | None = None

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any]) -> MokaSettings:
        """Read and check the settings from a connection's extras."""

        def text(name: str) -> str | None:
            value = extras.get(name)
            if value is None or value == "":
                return None
            if not isinstance(value, str):
                raise ConnectionSettingsError(name, f"expected text, got {type(value).__name__}")
            return value.strip() or None

        namespace = text("namespace") or "default"
        if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
            raise ConnectionSettingsError(
                "namespace", f"{namespace!r} is not a Kubernetes namespace name (lowercase DNS label)"
            )
        images = {}
        for engine in ENGINES:
            if image := text(f"{engine}_image"):
                _check_template(f"{engine}_image", image, {"arch"})
                images[engine] = image
        versions = {engine: v for engine in ENGINES if (v := text(f"{engine}_version"))}
        links = {}
        for link, field_name in LINK_FIELDS.items():
            if template := text(field_name):
                _check_template(field_name, template, LINK_PLACEHOLDERS)
                if link != "log_archive" and not template.startswith(("http://", "https://")):
                    raise ConnectionSettingsError(
                        field_name,
                        f"{template!r} is not an http(s) URL: it is a link button, and browsers (the "
                        "Airflow UI) open only those",
                    )
                if not template.startswith(("http://", "https://", "s3://", "file://", "gs://")):
                    raise ConnectionSettingsError(
                        field_name, f"{template!r} is not an absolute URL (http://, https://, s3://, ...)"
                    )
                links[link] = template
        return cls(
            namespace=namespace,
            queue=text("queue"),
            service_account=text("service_account"),
            images=images,
            versions=versions,
            link_templates=links,
            path_map=_text_mapping(extras, "monarch_path_map"),
            priority_classes=_text_mapping(extras, "monarch_priority_classes"),
            spark_sql_runner=text("spark_sql_runner"),
            spark_jdbc_runner=text("spark_jdbc_runner"),
            pyspark_function_runner=text("pyspark_function_runner"),
        )

    def image_for(self, engine: str, architecture: str = "amd64") -> str | None:
        """The default image of ``engine`` for ``architecture`` (``{arch}`` in the template filled)."""
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; Moka runs {', '.join(ENGINES)}")
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"unknown architecture {architecture!r}; Moka nodes are {', '.join(ARCHITECTURES)}"
            )
        template = self.images.get(engine)
        return template.format(arch=architecture) if template else None

    def link(self, kind: str, /, **params: str | None) -> str | None:
        """The URL of link ``kind`` for these parameters.

        ``None`` when the connection has no template for it, or when the template needs a parameter
        the job does not have yet (a Spark application id before the driver started, say): a link
        that cannot be complete is not shown rather than shown broken.
        """
        template = self.link_templates.get(kind)
        if template is None:
            return None
        needed = _placeholders(template)
        if any(params.get(name) in (None, "") for name in needed):
            return None
        return template.format(**{name: params[name] for name in needed})


def _text_mapping(extras: Mapping[str, Any], name: str) -> dict[str, str]:
    """A mapping of text to text, given as a mapping or as JSON text (the connection form's way)."""
    value = extras.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ConnectionSettingsError(name, f"not valid JSON: {error}") from None
    if not isinstance(value, Mapping):
        raise ConnectionSettingsError(name, f"expected a JSON object, got {type(value).__name__}")
    mapping = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str | int) or isinstance(item, bool):
            raise ConnectionSettingsError(name, f"{key!r}: {item!r}: keys and values must be text")
        mapping[key] = str(item)
    return mapping


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check_template(field_name: str, template: str, allowed: frozenset[str] | set[str]) -> None:
    try:
        fields = [
            (name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
        ]
    except ValueError as error:
        raise ConnectionSettingsError(field_name, f"{template!r} is not a valid template: {error}") from None
    for name, spec, conversion in fields:
        if name == "":
            raise ConnectionSettingsError(field_name, f"{template!r} has an empty placeholder {{}}; name it")
        if spec or conversion:
            raise ConnectionSettingsError(
                field_name,
                f"placeholder {{{name}}} in {template!r} may not carry a format spec or conversion",
            )
    names = {name for name, _, _ in fields if name is not None}
    if unknown := names - allowed:
        raise ConnectionSettingsError(
            field_name,
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in sorted(unknown))}; "
            f"allowed: {', '.join('{' + n + '}' for n in sorted(allowed))}",
        )
