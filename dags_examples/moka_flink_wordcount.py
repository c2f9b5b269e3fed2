"""Run a real PyFlink batch job on Moka with MokaFlinkOperator.

``word_count`` runs ``workloads/pyflink_wordcount.py`` as a FlinkDeployment in application mode
(``execution.runtime-mode: BATCH``), waits for it in the triggerer, puts the JobManager's log in
the task log and deletes the deployment once the job FINISHED, so no JobManager is left behind.
On `moka local` the job runs with PyFlink on this machine (the path is where the JobManager runs).
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG

from moka_provider.operators.flink import MokaFlinkOperator

WORKLOAD = Path(__file__).resolve().parent / "workloads" / "pyflink_wordcount.py"

with DAG("moka_flink_wordcount", schedule=None, catchup=False, tags=["moka", "example", "flink"]):
    MokaFlinkOperator(
        task_id="word_count",
        python_file=str(WORKLOAD),
        parallelism=1,
        job_manager={"cpu": 1, "memory": "1024m"},
        task_manager={"cpu": 1, "memory": "1024m"},
        deferrable=True,
        start_timeout=300,
    )
