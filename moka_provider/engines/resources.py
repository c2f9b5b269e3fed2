"""The former import path of :mod:`moka_provider.resources`, kept for DAGs and scripts written
against it (the README showed ``from moka_provider.engines.resources import SPARK_APPLICATION``)."""

from moka_provider.resources import (
    ALL_RESOURCES,
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    RAY_JOB,
    SPARK_APPLICATION,
    CustomResource,
    UnknownResourceError,
    resource_for,
)

__all__ = [
    "ALL_RESOURCES",
    "FLINK_DEPLOYMENT",
    "FLINK_SESSION_JOB",
    "RAY_JOB",
    "SPARK_APPLICATION",
    "CustomResource",
    "UnknownResourceError",
    "resource_for",
]
