"""The engines' operators, played locally: one controller per custom resource.

To add an engine, write its controller (a :class:`~.base.Controller`) and list it here.
"""

from __future__ import annotations

from moka_provider.local.controllers.base import Controller
from moka_provider.local.controllers.flink import FlinkDeploymentController, FlinkSessionJobController
from moka_provider.local.controllers.ray import RayJobController
from moka_provider.local.controllers.spark import SparkController

CONTROLLERS: tuple[type[Controller], ...] = (
    SparkController,
    FlinkDeploymentController,
    FlinkSessionJobController,
    RayJobController,
)
