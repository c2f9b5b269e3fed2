"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

Kept free of imports beyond the standard library: Airflow calls it in every process that
discovers providers.
"""

from __future__ import annotations

from typing import Any

from moka_provider import __version__


def _text(label: str, description: str, placeholder: str | None = None) -> dict[str, Any]:
    field: dict[str, Any] = {
        "label": label,
        "description": description,
        "schema": {"type": ["string", "null"]},
    }
    if placeholder:
        field["placeholder"] = placeholder
    return field


def _flag(label: str, description: str) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["boolean", "null"]}}


_CONN_FIELDS: dict[str, dict[str, Any]] = {
    # Cluster access: read by the cncf.kubernetes provider's hooks (same field names as its connection).
    "kube_config_path": _text(
        "Kubeconfig path", "Path of a kubeconfig file on the Airflow workers and triggerer.", "~/.kube/config"
    ),
    "kube_config": {
        "label": "Kubeconfig (inline)",
        "description": "Contents of a kubeconfig (JSON or YAML). Use instead of a path, not with it.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "in_cluster": _flag("In-cluster", "Use the service account of the pod Airflow runs in."),
    "cluster_context": _text("Kubeconfig context", "Context to use; the kubeconfig's current one if empty."),
    "disable_verify_ssl": _flag("Skip TLS verification", "Do not verify the API server's certificate."),
    # Moka defaults.
    "namespace": _text("Namespace", "Namespace jobs are created in unless a task says otherwise.", "moka"),
    "queue": _text("YuniKorn queue", "Default queue of jobs (one per project on Moka).", "root.default"),
    "service_account": _text("Job service account", "Service account the jobs' pods run as.", "spark"),
    "spark_image": _text(
        "Spark image", "Default Spark image; {arch} is replaced by amd64 or arm64.", "my-registry/spark:3.5.3"
    ),
    "spark_version": _text("Spark version", "Spark version of the default image.", "3.5.3"),
    "flink_image": _text(
        "Flink image", "Default Flink image; {arch} is replaced by amd64 or arm64.", "my-registry/flink:1.20"
    ),
    "flink_version": _text("Flink version", "Flink version of the default image.", "v1_20"),
    "ray_image": _text(
        "Ray image", "Default Ray image; {arch} is replaced by amd64 or arm64.", "my-registry/ray:2.41.0"
    ),
    "ray_version": _text("Ray version", "Ray version of the default image.", "2.41.0"),
    # Monarch migration (the MonarchSpark* drop-in operators and `moka migrate`).
    "monarch_path_map": _text(
        "Monarch path map",
        "JSON object: Hadoop-era path prefixes and what replaces each on Moka.",
        '{"hdfs://monarch-nn/data": "s3a://lake/data"}',
    ),
    "monarch_priority_classes": _text(
        "Monarch priorities",
        "JSON object: YARN application priorities and the PriorityClass each becomes.",
        '{"10": "batch-high"}',
    ),
    "spark_sql_runner": _text(
        "Spark SQL runner",
        "Where MonarchSparkSqlOperator's runner script is, as the driver sees it (local:// in the image, s3a://).",
        "local:///opt/moka/spark_sql_runner.py",
    ),
    "spark_jdbc_runner": _text(
        "Spark JDBC runner",
        "Where MonarchSparkJDBCOperator's runner script is, as the driver sees it (local:// in the image, s3a://).",
        "local:///opt/moka/spark_jdbc_runner.py",
    ),
    "pyspark_function_runner": _text(
        "PySpark function runner",
        "Where @task.moka_pyspark's runner script is, as the driver sees it (local:// in the image, s3a://).",
        "local:///opt/moka/pyspark_function_runner.py",
    ),
    # Link templates. Placeholders: {namespace} {name} {kind} {engine} {pod} {spark_app_id} {job_id} {ray_cluster}
    "moka_ui_url": _text(
        "Moka UI job link",
        "Template of a job's page in the Moka UI.",
        "https://moka.example/jobs/{namespace}/{name}",
    ),
    "spark_ui_url": _text(
        "Live Spark UI link",
        "Template of a running application's Spark UI.",
        "https://spark.example/{namespace}/{name}",
    ),
    "spark_history_url": _text(
        "Spark History Server link",
        "Template of a finished application in the History Server.",
        "https://history.example/history/{spark_app_id}",
    ),
    "log_archive_url": _text(
        "Log archive location",
        "Template of a pod's archived log (s3://, file://, https://).",
        "s3://moka-logs/{namespace}/{name}/{pod}.log",
    ),
    "job_log_url": _text(
        "Job log link",
        "Template of a page showing a pod's log (http/https; else the log archive if it is http/https).",
        "https://logs.example/{namespace}/{pod}",
    ),
    "flink_dashboard_url": _text(
        "Flink dashboard link",
        "Template of a Flink job's dashboard.",
        "https://flink.example/{namespace}/{name}/",
    ),
    "ray_dashboard_url": _text(
        "Ray dashboard link",
        "Template of a Ray job's dashboard.",
        "https://ray.example/{namespace}/{ray_cluster}/",
    ),
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "moka-provider",
        "name": "Moka",
        "description": "Run Spark, Flink Batch and Ray jobs on Moka, the Kubernetes batch data platform.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Moka",
                "external-doc-url": "https://airflow.apache.org/docs/",
                "tags": ["software"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Moka",
                "python-modules": ["moka_provider.hooks.moka", "moka_provider.hooks.moka_async"],
            }
        ],
        "operators": [
            {
                "integration-name": "Moka",
                "python-modules": [
                    "moka_provider.operators.spark",
                    "moka_provider.operators.flink",
                    "moka_provider.operators.ray",
                    "moka_provider.operators.monarch",
                ],
            }
        ],
        "triggers": [{"integration-name": "Moka", "python-modules": ["moka_provider.triggers.job"]}],
        "sensors": [{"integration-name": "Moka", "python-modules": ["moka_provider.sensors.job"]}],
        "task-decorators": [
            {"name": "moka_pyspark", "class-name": "moka_provider.decorators.moka_pyspark.moka_pyspark_task"}
        ],
        # Keep in step with moka_provider.links.job_links.ALL_LINKS (a unit test checks).
        "extra-links": [
            "moka_provider.links.job_links.MokaUILink",
            "moka_provider.links.job_links.JobLogLink",
            "moka_provider.links.job_links.SparkUILink",
            "moka_provider.links.job_links.FlinkDashboardLink",
            "moka_provider.links.job_links.RayDashboardLink",
        ],
        "connection-types": [
            {
                "hook-class-name": "moka_provider.hooks.moka.MokaHook",
                "hook-name": "Moka",
                "connection-type": "moka",
                "conn-fields": {
                    name: {key: value for key, value in field.items() if key != "placeholder"}
                    for name, field in _CONN_FIELDS.items()
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "login", "password", "port"],
                    "relabeling": {},
                    "placeholders": {
                        name: field["placeholder"]
                        for name, field in _CONN_FIELDS.items()
                        if "placeholder" in field
                    },
                },
            }
        ],
    }
