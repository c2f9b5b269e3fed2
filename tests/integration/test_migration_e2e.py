"""A sample of the Monarch corpus, rewritten by ``moka migrate``, runs on `moka local` with real
Spark: each Spark task's driver says what it ran with, in the task log, and each task made one
SparkApplication with the YARN queue as its YuniKorn queue and its data paths mapped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.migration.corpus_tools import (
    E2E_FILES,
    corpus_files,
    corpus_sources,
    e2e_path_map,
    rewrite,
    rewrite_corpus,
)

NAMES = [path.name for path in corpus_files()]

#: file -> (dag id, YARN queue = YuniKorn queue, {Spark task id: (its job's name argument,
#: spark.sql.shuffle.partitions it ran with)}).
E2E_EXPECTED: dict[str, tuple[str, str, dict[str, tuple[str, int]]]] = {
    "01_daily_sessions_provider.py": ("monarch_01_daily_sessions", "web", {"sessionize": ("sessions", 8)}),
    "29_bash_continuations_e2e.py": (
        "monarch_29_store_traffic",
        "retail",
        {"rollup_traffic": ("store_traffic", 5)},
    ),
    "30_factory_loop_e2e.py": (
        "monarch_30_warehouse_snapshots",
        "supply-chain",
        {"snapshot_north": ("snapshot_north", 3), "snapshot_south": ("snapshot_south", 3)},
    ),
    "31_taskflow_contrib_fstring_e2e.py": (
        "monarch_31_loyalty_tiers",
        "loyalty",
        {
            "compute_tiers": ("compute_tiers", 6),
            "publish_tiers": ("publish_tiers", 200),
        },  # 200: Spark's default
    ),
}


#: Samples whose rewritten DAG runs a drop-in operator (translating at run time).
E2E_DROP_INS = ("30_factory_loop_e2e.py", "31_taskflow_contrib_fstring_e2e.py")


@pytest.fixture(scope="module")
def e2e_env(
    moka_local: Any, tmp_path_factory: pytest.TempPathFactory, airflow_homes: Callable[..., dict[str, str]]
) -> dict[str, str]:
    """An Airflow home on the sample files, rewritten with the applications mapped to this
    repository's workloads; the drop-in operators read the same map from the connection."""

    folder = tmp_path_factory.mktemp("e2e-dags")
    helpers = [name for name in corpus_sources() if name not in NAMES]
    results = rewrite_corpus(lambda source: rewrite(source, e2e_path_map()), folder, [*E2E_FILES, *helpers])
    assert all(result.error is None for result in results.values())
    extras = urlencode({"monarch_path_map": json.dumps(e2e_path_map())})
    connection = os.environ["AIRFLOW_CONN_MOKA_DEFAULT"] + "&" + extras
    return airflow_homes(folder, AIRFLOW_CONN_MOKA_DEFAULT=connection)


@pytest.mark.parametrize("name", sorted(E2E_EXPECTED))
def test_rewritten_sample_runs_on_moka_local_with_real_spark(name: str, e2e_env: dict[str, str]) -> None:
    from moka_provider.jobs.identity import label_value
    from tests.integration.conftest import SyncOrAsync, clean, jobs_of, run_dag

    dag_id, queue, expected = E2E_EXPECTED[name]
    hook = SyncOrAsync("sync")
    clean(hook, "spark", dag_id)
    output = run_dag(e2e_env, dag_id, timeout=400)
    for job_name, partitions in expected.values():  # the driver's own line, in the task log
        said = rf"monarch job {job_name} args=\[.*\] buckets=7 rows=1000 shuffle_partitions={partitions}\b"
        assert re.search(said, output), f"{said!r} not in: {output[-4000:]}"
    if name in E2E_DROP_INS:  # translated when the task ran, its findings logged
        assert re.search(r"Monarch -> Moka: mapped (spark\.yarn\.queue|--queue): the YARN queue", output)
    jobs = jobs_of(hook, "spark", dag_id)
    by_task = {job["metadata"]["labels"]["moka.dev/task-id"]: job for job in jobs}
    assert sorted(by_task) == sorted(label_value(task_id) for task_id in expected)
    assert len(jobs) == len(expected)  # one SparkApplication per Spark task
    for job in jobs:
        assert job["metadata"]["labels"]["moka.dev/dag-id"] == label_value(dag_id)
        assert job["status"]["applicationState"]["state"] == "COMPLETED"
        spec = job["spec"]
        assert spec["mainApplicationFile"].endswith("/etl/monarch_job.py")
        assert spec["batchSchedulerOptions"]["queue"] == queue  # the YARN queue, now YuniKorn's
        assert "hdfs://" not in json.dumps(spec["arguments"])  # data paths mapped too
