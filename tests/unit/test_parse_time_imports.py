"""What a DAG file (and the triggerer) pays to import the provider: no Kubernetes client.

The hooks import the clients on first use; everything else imports at module level. This checks,
in a fresh interpreter, that importing every module a DAG file or the triggerer imports loads none
of the client packages (nor libcst, which only ``moka migrate`` uses) beyond what ``airflow.sdk``
itself loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPO

#: The modules DAG files import, and the trigger's module (imported by the triggerer).
ENTRY_MODULES = (
    "moka_provider.operators.spark",
    "moka_provider.operators.flink",
    "moka_provider.operators.ray",
    "moka_provider.operators.monarch",
    "moka_provider.decorators.moka_pyspark",
    "moka_provider.sensors.job",
    "moka_provider.triggers.job",
    "moka_provider.get_provider_info",
)
HEAVY_PACKAGES = ("kubernetes", "kubernetes_asyncio", "urllib3", "aiohttp", "libcst")


def test_importing_the_operators_sensor_and_trigger_loads_no_kubernetes_client():
    code = textwrap.dedent(
        f"""
        import importlib, json, sys
        import airflow.sdk

        def heavy():
            return {{name for name in sys.modules if name.split(".")[0] in {HEAVY_PACKAGES!r}}}

        before = heavy()
        pulled = {{}}
        for module in {ENTRY_MODULES!r}:
            importlib.import_module(module)
            pulled[module] = sorted(heavy() - before)
        print(json.dumps(pulled))
        """
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    pulled = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(pulled) == list(ENTRY_MODULES)
    assert {module: names for module, names in pulled.items() if names} == {}
