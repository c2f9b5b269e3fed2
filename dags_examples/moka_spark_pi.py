"""Run a real PySpark job on Moka and wait for it: the README's demo.

The task submits ``workloads/pyspark_pi.py`` as a SparkApplication through MokaHook, follows it
with a watch until the spark-operator's state is final, prints the driver's log, and fails with the
operator's error message if the job failed. (MokaSparkOperator will do all of this, deferrable and
with links; this example shows the hook underneath.) On `moka local` the job runs with pyspark on
this machine; the file path is where the driver runs, so this example is for `moka local`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from airflow.sdk import dag, get_current_context, task

WORKLOAD = Path(__file__).resolve().parent / "workloads" / "pyspark_pi.py"


@dag(schedule=None, catchup=False, tags=["moka", "example", "spark"], params={"partitions": 4})
def moka_spark_pi() -> None:
    @task
    def spark_pi() -> str:
        from airflow.sdk.exceptions import AirflowException

        from moka_provider.engines.resources import SPARK_APPLICATION
        from moka_provider.hooks.moka import MokaHook

        context = get_current_context()
        name = "spark-pi-" + hashlib.sha256(context["run_id"].encode()).hexdigest()[:8]
        hook = MokaHook()
        app = {
            "apiVersion": SPARK_APPLICATION.api_version,
            "kind": SPARK_APPLICATION.kind,
            "metadata": {"name": name, "labels": {"moka.dev/dag-id": context["dag"].dag_id}},
            "spec": {
                "type": "Python",
                "mode": "cluster",
                "sparkVersion": "4.0.0",
                "mainApplicationFile": f"local://{WORKLOAD}",
                "arguments": [str(context["params"]["partitions"])],
                "driver": {"cores": 1, "memory": "1g"},
                "executor": {"instances": 2, "cores": 1, "memory": "1g"},
            },
        }
        hook.create(SPARK_APPLICATION, app)
        state, message = "", None
        for event in hook.watch(SPARK_APPLICATION, name=name, timeout=600):
            application_state = (event.object.get("status") or {}).get("applicationState") or {}
            if application_state.get("state") != state:
                state, message = application_state.get("state", ""), application_state.get("errorMessage")
                print(f"SparkApplication {name}: {state}")
            if state in ("COMPLETED", "FAILED"):
                break
        driver_log = list(hook.read_pod_log(f"{name}-driver"))
        print(
            f"driver log of {name}, last 15 lines:\n" + "\n".join(f"  | {line}" for line in driver_log[-15:])
        )
        hook.delete(SPARK_APPLICATION, name, missing_ok=True)
        if state != "COMPLETED":
            raise AirflowException(f"SparkApplication {name} ended {state or 'without a state'}: {message}")
        return next(line for line in driver_log if line.startswith("Pi is roughly"))

    spark_pi()


moka_spark_pi()
