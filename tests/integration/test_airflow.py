"""The provider inside a real Airflow 3: registration, connection form, the connection test, parse-time
cost. (The example DAGs run in the real deployment: tests/integration/test_deployment.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO
from tests.integration.conftest import AIRFLOW, AirflowHomes


@pytest.fixture(scope="module")
def airflow_env(moka_local: Any, airflow_homes: AirflowHomes) -> dict[str, str]:
    """An Airflow home with a migrated metadata database and the example DAGs folder."""
    return airflow_homes(REPO / "dags_examples")


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
