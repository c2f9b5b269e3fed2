"""``@task.moka_pyspark`` in a real Airflow 3 (``airflow dags test``) with real PySpark on `moka local`:
XCom in and out, the driver's output in the task log, a driver exception, a return value that is
not JSON. One DAG run of three Spark jobs (``dags/moka_pyspark_cases.py``)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.integration.conftest import (
    DAGS,
    AirflowHomes,
    SyncOrAsync,
    airflow_with_links,
    clean,
    jobs_of,
    run_dag,
)

DAG_ID = "moka_pyspark_taskflow"


def test_functions_run_as_spark_drivers_with_xcom_in_and_out(
    moka_local: Any, airflow_homes: AirflowHomes
) -> None:
    hook = SyncOrAsync("sync")
    clean(hook, "spark", DAG_ID)

    output = run_dag(airflow_with_links(airflow_homes, {}), DAG_ID, "2024-03-05", succeed=False)

    jobs = {job["metadata"]["labels"]["moka.dev/task-id"]: job for job in jobs_of(hook, "spark", DAG_ID)}
    assert sorted(jobs) == ["not_json", "raises", "squares"]
    for job in jobs.values():  # the runner is the application; the function goes in its one argument
        assert job["spec"]["mainApplicationFile"].endswith("/pyspark_function_runner.py")
        assert len(job["spec"]["arguments"]) == 1
    # squares: the upstream XCom in, Spark used, the driver's print in the task log, JSON out downstream
    assert "driver says: sq-20240305" in output
    [printed] = re.findall(r"PYSPARK_RESULT=(.*)", output)
    consumed, _ = json.JSONDecoder().raw_decode(printed)  # the log line goes on after the JSON
    assert consumed["result"] == {"label": "sq-20240305", "total": 55, "partitions": "2"}  # 1+4+9+16+25
    assert consumed["job"]["name"] == jobs["squares"]["metadata"]["name"]
    assert consumed["job"]["state"] == "COMPLETED"
    assert jobs["squares"]["status"]["applicationState"]["state"] == "COMPLETED"
    # raises (deferred): the exception's type, message and traceback in the task's error
    assert jobs["raises"]["status"]["applicationState"]["state"] == "FAILED"
    error = output.split("MokaJobFailed: raises(): the function raised: LookupError: no table nowhere\n", 1)
    assert len(error) == 2, "the task's error does not start with the function's exception"
    dag_file = DAGS / "moka_pyspark_cases.py"
    line = dag_file.read_text().splitlines().index('        raise LookupError(f"no table {table}")') + 1
    assert f'File "{dag_file}", line {line}, in raises' in error[1].split("SparkApplication", 1)[0]
    # not_json: the runner says the return value is not JSON, and the task fails saying so
    assert jobs["not_json"]["status"]["applicationState"]["state"] == "FAILED"
    assert (
        "not_json(): the function's return value is not JSON: TypeError: Object of type DataFrame" in output
    )
