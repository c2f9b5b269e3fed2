"""Run the local controllers against a cluster: ``python -m moka_provider.local.controllers``.

`moka local up` starts this with the instance's admin kubeconfig; it works against any API server
whose kubeconfig it is given (with rights to write the resources' status and to manage pods).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from moka_provider.local.kubeconfig import connection_uri

CONNECTION_ID = "moka_local_controllers"


async def run(kubeconfig: Path, node_name: str) -> None:
    from kubernetes_asyncio import client, config

    from moka_provider.local.controllers import CONTROLLERS
    from moka_provider.local.controllers.client import ControllerClient

    hook = ControllerClient(CONNECTION_ID)
    api_client = await config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(api_client)
    try:
        await asyncio.gather(*(controller(hook, core, node_name).run() for controller in CONTROLLERS))
    finally:
        await api_client.close()


def main() -> None:
    from moka_provider.local.kubelet import NODE_NAME

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--namespace", required=True, help="the jobs namespace the controllers watch")
    parser.add_argument("--node", default=NODE_NAME)
    parser.add_argument(
        "--airflow-home", type=Path, help="scratch Airflow home (the hook reads no other state)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ[f"AIRFLOW_CONN_{CONNECTION_ID.upper()}"] = connection_uri(args.kubeconfig, args.namespace)
    if args.airflow_home:
        os.environ["AIRFLOW_HOME"] = str(args.airflow_home)
    asyncio.run(run(args.kubeconfig, args.node))


if __name__ == "__main__":
    main()
