"""``moka local install | up | down | status | env``: the local control plane's commands.

:func:`add_parser` and :func:`run` plug them into the ``moka`` script (:mod:`moka_provider.cli`);
``python -m moka_provider.local.cli`` runs that script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from moka_provider.local.paths import default_state_dir


def add_parser(commands: Any) -> None:
    """Add ``local`` to the ``moka`` subcommands (``commands``: argparse's subparsers action)."""
    local = commands.add_parser("local", help="a local Moka control plane for development and tests")
    local.set_defaults(run=run)
    actions = local.add_subparsers(dest="action", required=True)
    state_dir = argparse.ArgumentParser(add_help=False)
    state_dir.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="state directory of this instance (default: $MOKA_LOCAL_DIR or ~/.moka/local)",
    )
    install = actions.add_parser("install", help="build kube-apiserver once per machine (Debian/Ubuntu)")
    install.add_argument(
        "--engine",
        action="append",
        choices=["spark", "flink", "ray"],
        default=[],
        help="also install an engine to run jobs with (repeatable)",
    )
    up = actions.add_parser("up", parents=[state_dir], help="start etcd + kube-apiserver and prepare Moka")
    up.add_argument("--namespace", default="moka", help="namespace for jobs (default: moka)")
    up.add_argument("--port", type=int, help="API server port on 127.0.0.1 (default: a free one)")
    up.add_argument("--etcd-port", type=int, help="etcd client port on 127.0.0.1 (default: a free one)")
    up.add_argument("--kubeconfig", type=Path, help="prepare this existing cluster instead of starting one")
    up.add_argument("--context", help="context of --kubeconfig to use")
    actions.add_parser("down", parents=[state_dir], help="stop what `up` started")
    actions.add_parser("status", parents=[state_dir], help="say what runs (exit 1 if not healthy)")
    actions.add_parser(
        "env", parents=[state_dir], help="print KUBECONFIG and AIRFLOW_CONN_MOKA_DEFAULT to eval"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``moka local <action>`` with parsed ``args``; the exit code."""
    from moka_provider.local import control_plane
    from moka_provider.local.engines import install_engine
    from moka_provider.local.install import InstallError, install
    from moka_provider.local.paths import StatePaths

    paths = StatePaths((getattr(args, "dir", None) or default_state_dir()).expanduser().resolve())
    try:
        if args.action == "install":
            install()
            for engine in args.engine:
                install_engine(engine)
        elif args.action == "up":
            control_plane.up(
                paths,
                namespace=args.namespace,
                apiserver_port=args.port,
                etcd_port=args.etcd_port,
                kubeconfig=args.kubeconfig,
                context=args.context,
            )
            print(f'moka local is up; use it with:  eval "$(moka local env --dir {paths.root})"')
        elif args.action == "down":
            control_plane.down(paths)
        elif args.action == "status":
            healthy, lines = control_plane.status(paths)
            print("\n".join(lines))
            return 0 if healthy else 1
        elif args.action == "env":
            print("\n".join(control_plane.env_lines(paths)))
    except (control_plane.LocalError, InstallError) as error:
        print(f"moka local {args.action}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from moka_provider.cli import main

    sys.exit(main())
