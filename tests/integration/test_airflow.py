"""The provider inside a real Airflow 3: registration, connection form, a DAG run, parse-time cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moka_provider.engines.resources import SPARK_APPLICATION
from tests.conftest import REPO
from tests.integration.conftest import AIRFLOW, SyncOrAsync, airflow_home, run_dag


@pytest.fixture(scope="module")
def airflow_env(
    moka_local: Any, tmp_path_factory: pytest.TempPathFactory, shared_dir: Path
) -> dict[str, str]:
    """An Airflow home with a migrated metadata database and the example DAGs folder."""
    return airflow_home(tmp_path_factory.mktemp("airflow"), REPO / "dags_examples", shared_dir)


def test_airflow_lists_the_provider_and_its_connection_type(airflow_env: dict[str, str]) -> None:
    providers = subprocess.run(
        [AIRFLOW, "providers", "list", "-o", "json"],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert providers.returncode == 0, providers.stderr[-2000:]
    listed = {entry["package_name"]: entry for entry in json.loads(providers.stdout)}
    assert "moka-provider" in listed
    hooks = subprocess.run(
        [AIRFLOW, "providers", "hooks", "-o", "json"],
        env=airflow_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    moka = [entry for entry in json.loads(hooks.stdout) if entry["connection_type"] == "moka"]
    assert moka and moka[0]["class"] == "moka_provider.hooks.moka.MokaHook"


def test_connection_form_has_moka_fields(airflow_env: dict[str, str]) -> None:
    script = (
        "import json;from airflow.providers_manager import ProvidersManager as P;p=P();"
        "w={k:v.field for k,v in p.connection_form_widgets.items() if k.startswith('extra__moka__')};"
        "s={k:v.is_sensitive for k,v in p.connection_form_widgets.items() if k.startswith('extra__moka__')};"
        "print(json.dumps({'widgets':w,'sensitive':s,'behaviour':p.field_behaviours.get('moka')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=airflow_env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    form = json.loads(result.stdout.strip().splitlines()[-1])
    widgets = form["widgets"]
    for field in ("kube_config_path", "kube_config", "namespace", "queue", "spark_image", "moka_ui_url"):
        assert f"extra__moka__{field}" in widgets
    assert widgets["extra__moka__namespace"]["schema"]["title"] == "Namespace"
    assert form["sensitive"]["extra__moka__kube_config"] is True
    assert form["sensitive"]["extra__moka__namespace"] is False
    assert set(form["behaviour"]["hidden_fields"]) == {"host", "schema", "login", "password", "port"}
    assert form["behaviour"]["placeholders"]["extra__moka__spark_history_url"].endswith("{spark_app_id}")


def test_example_dag_runs_end_to_end(airflow_env: dict[str, str]) -> None:
    output = run_dag(airflow_env, "moka_hook_roundtrip")
    assert "SparkApplication moka/spark-pi-" in output and "type=Scala" in output  # read back from the server
    assert "deleted SparkApplication spark-pi-" in output
    leftovers = SyncOrAsync("sync").list(
        SPARK_APPLICATION, label_selector="moka.dev/dag-id=moka_hook_roundtrip"
    )
    assert leftovers == []


def test_spark_example_dag_runs_a_real_pyspark_job(airflow_env: dict[str, str]) -> None:
    output = run_dag(airflow_env, "moka_spark_pi")
    assert "created SparkApplication moka/spark-pi-" in output
    assert "-driver] Pi is roughly 3.1" in output  # the job's own output, in the task log
    assert "\nSparkApplication moka/spark-pi-" in output and ": COMPLETED\n" in output  # from XCom
    assert "\nlink job_log: http://127.0.0.1:" in output  # the archived log, served by moka local


def test_flink_example_dag_runs_a_real_pyflink_batch_job(airflow_env: dict[str, str]) -> None:
    from moka_provider.engines.resources import FLINK_DEPLOYMENT

    output = run_dag(airflow_env, "moka_flink_wordcount")
    assert "created FlinkDeployment moka/word-count-" in output
    assert "word count: runtime mode BATCH" in output and "word count done: 20 distinct words" in output
    assert "deleted FlinkDeployment" in output  # no JobManager left behind
    selector = "moka.dev/dag-id=moka_flink_wordcount"
    assert SyncOrAsync("sync").list(FLINK_DEPLOYMENT, label_selector=selector) == []


def test_ray_example_dag_runs_a_real_ray_job(airflow_env: dict[str, str]) -> None:
    output = run_dag(airflow_env, "moka_ray_job")
    assert "created RayJob moka/sum-squares-" in output
    assert "sum of squares below 8 is 140 (computed by 8 Ray tasks)" in output  # the job's output


def test_connection_test_button(moka_local: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moka_provider.hooks.moka import MokaHook

    ok, message = MokaHook().test_connection()
    assert ok and "namespace 'moka'" in message
    monkeypatch.setenv(
        "AIRFLOW_CONN_MOKA_ELSEWHERE", os.environ["AIRFLOW_CONN_MOKA_DEFAULT"] + "x"
    )  # ns "mokax"
    ok, message = MokaHook("moka_elsewhere").test_connection()
    assert not ok and "HTTP 403 Forbidden" in message


def test_importing_the_provider_pulls_in_no_kubernetes_client() -> None:
    """DAG files are parsed constantly: the hooks' modules must stay light until used."""
    script = (
        "import sys, moka_provider.get_provider_info, moka_provider.hooks.moka, moka_provider.hooks.moka_async;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'kubernetes_asyncio', 'aiohttp')))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
