"""Submit a SparkApplication to Moka through MokaHook, read it back, and delete it.

The first example of the provider (the Moka operators come next): three TaskFlow tasks that use
the ``moka_default`` connection. Run it on the embedded control plane with ``make demo``.
The manifest defaults to the Spark operator's own ``spark-pi.yaml`` from the project's reference
examples; pass another with ``--conf '{"manifest": "/path/app.yaml"}'``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from airflow.sdk import dag, get_current_context, task

SHARED = Path(os.environ.get("MOKA_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")


@dag(
    schedule=None,
    catchup=False,
    tags=["moka", "example"],
    params={"manifest": str(SHARED / "upstream-examples" / "spark" / "spark-pi.yaml")},
)
def moka_hook_roundtrip() -> None:
    @task
    def submit() -> dict[str, str]:
        import yaml

        from moka_provider.hooks.moka import MokaHook
        from moka_provider.resources import resource_for

        context = get_current_context()
        manifest = yaml.safe_load(Path(context["params"]["manifest"]).read_text())
        resource = resource_for(manifest)
        run_hash = hashlib.sha256(context["run_id"].encode()).hexdigest()[:8]
        manifest["metadata"] = {
            "name": f"{manifest['metadata']['name']}-{run_hash}",
            "labels": {"moka.dev/dag-id": context["dag"].dag_id, "moka.dev/run-hash": run_hash},
        }
        created = MokaHook().create(resource, manifest)
        print(f"created {resource.describe(created['metadata']['namespace'], created['metadata']['name'])}")
        return {
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "name": created["metadata"]["name"],
        }

    @task
    def show(job: dict[str, str]) -> str:
        from moka_provider.hooks.moka import MokaHook
        from moka_provider.resources import resource_for

        app = MokaHook().get(resource_for(job), job["name"])
        spec = app["spec"]
        summary = (
            f"{app['kind']} {app['metadata']['namespace']}/{app['metadata']['name']}: "
            f"type={spec['type']} image={spec.get('image')} main={spec.get('mainClass')} "
            f"driver={spec['driver'].get('cores')}c/{spec['driver'].get('memory')} "
            f"executors={spec['executor'].get('instances')}x{spec['executor'].get('cores')}c"
        )
        print(summary)
        return summary

    @task(trigger_rule="all_done")
    def clean_up(job: dict[str, str]) -> bool:
        from moka_provider.hooks.moka import MokaHook
        from moka_provider.resources import resource_for

        deleted = MokaHook().delete(resource_for(job), job["name"], missing_ok=True)
        print(f"deleted {job['kind']} {job['name']}: {deleted}")
        return deleted

    job = submit()
    show(job) >> clean_up(job)  # type: ignore[arg-type]  # TaskFlow passes an XComArg


moka_hook_roundtrip()
