"""Run a real Ray job on Moka with MokaRayOperator.

``sum_squares`` runs ``workloads/ray_job.py`` as a RayJob on a Ray cluster of its own (shut down
when the job finishes), waits for it in a worker while the job's output streams into the task
log, and returns the job's facts in XCom. On `moka local` the job runs with Ray on this machine.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG

from moka_provider.operators.ray import MokaRayOperator

WORKLOAD = Path(__file__).resolve().parent / "workloads" / "ray_job.py"

with DAG("moka_ray_job", schedule=None, catchup=False, tags=["moka", "example", "ray"], params={"tasks": 8}):
    MokaRayOperator(
        task_id="sum_squares",
        entrypoint=f"python {WORKLOAD} {{{{ params.tasks }}}}",
        head={"cpu": 1, "memory": "2Gi"},
        runtime_env={"env_vars": {"MOKA_EXAMPLE": "1"}},
        start_timeout=300,
    )
