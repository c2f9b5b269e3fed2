"""The DAG of the outage tests (``tests/deployment/test_deployment_outage.py``).

``moka_deploy_outage``: deferred Spark jobs whose statuses the test writes (the local controllers
leave them alone; no pod runs): the ``outage_*`` tasks wait through an outage of the API server,
each job ending as its task id says (``..._completed`` / ``..._failed``); the ``triggerer_kill_*``
tasks wait while their triggerer is killed and another one is started.
"""

from __future__ import annotations

from airflow.sdk import DAG

from moka_provider.local.controllers.base import LEFT_ALONE_LABEL
from moka_provider.operators.spark import MokaSparkOperator

OUTAGE_TASKS = [f"outage_{i:02d}_{'failed' if i % 4 == 3 else 'completed'}" for i in range(20)]
KILL_TASKS = [f"triggerer_kill_{i}" for i in range(3)]

with DAG(
    "moka_deploy_outage",
    schedule=None,
    catchup=False,
    tags=["moka", "test"],
    max_active_tasks=len(OUTAGE_TASKS) + len(KILL_TASKS),  # all deferred at once
):
    for task_id in OUTAGE_TASKS + KILL_TASKS:
        MokaSparkOperator(
            task_id=task_id,
            application="local:///opt/spark/work/never-run.py",
            application_file={
                "apiVersion": "sparkoperator.k8s.io/v1beta2",
                "kind": "SparkApplication",
                "metadata": {"labels": {LEFT_ALONE_LABEL: "off"}},
            },
            deferrable=True,
            start_timeout=300,
        )
