"""The installed half of scripts/check_distribution.py: run by a clean virtualenv's Python (``-I``,
from outside the repository) where only the built wheel and stock Airflow are installed.

    python -I check_distribution_installed.py --dags DAGS_FOLDER [--airflow VERSION]

Checks that moka_provider is imported from the virtualenv, not a source tree; that Airflow's
ProvidersManager registers the provider with what its get_provider_info declares (version, the
connection type and its hook, form fields and behaviour, the extra links, the triggers; hooks,
operators, sensors and triggers import); and that every DAG file in DAGS_FOLDER parses into at
least one DAG with no import errors. Prints one line of what it saw; raises on the first mismatch.
Standard library, Airflow and the provider only: nothing else is installed there.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

import airflow
from airflow.dag_processing.dagbag import DagBag
from airflow.providers_manager import ProvidersManager

import moka_provider
from moka_provider.get_provider_info import get_provider_info


class Mismatch(AssertionError):
    """The installed provider is not what it declares."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def declared_modules(info: dict[str, Any], section: str) -> list[str]:
    return [module for entry in info.get(section, []) for module in entry["python-modules"]]


def check_registration(package: str, version: str, info: dict[str, Any]) -> str:
    manager = ProvidersManager()
    expect(package in manager.providers, f"ProvidersManager does not list {package}")
    expect(manager.providers[package].version == version, f"registered {manager.providers[package].version}")
    connection_types = info["connection-types"]
    expect(bool(connection_types), "get_provider_info declares no connection type")
    for connection in connection_types:
        conn_type = connection["connection-type"]
        hook = manager.hooks.get(conn_type)  # imports the hook class
        if hook is None:
            raise Mismatch(f"no hook for the {conn_type!r} connection type")
        expect(hook.hook_class_name == connection["hook-class-name"], f"{conn_type}: {hook.hook_class_name}")
        expect(hook.package_name == package, f"{conn_type} registered by {hook.package_name}")
        widgets = {f"extra__{conn_type}__{field}" for field in connection.get("conn-fields", {})}
        missing = widgets - set(manager.connection_form_widgets)
        expect(not missing, f"connection form lacks {sorted(missing)}")
        expect(conn_type in manager.field_behaviours, f"no field behaviour for {conn_type}")
    links = set(info["extra-links"])
    expect(bool(links), "get_provider_info declares no extra links")
    missing = links - set(manager.extra_links_class_names)  # listed only if the class imports
    expect(not missing, f"extra links not registered: {sorted(missing)}")
    triggers = set(declared_modules(info, "triggers"))
    registered = {
        trigger.trigger_class_name for trigger in manager.trigger if trigger.package_name == package
    }
    expect(
        bool(triggers) and triggers == registered, f"triggers declared {triggers}, registered {registered}"
    )
    modules = [
        module
        for section in ("hooks", "operators", "sensors", "triggers")
        for module in declared_modules(info, section)
    ]
    for module in modules:
        importlib.import_module(module)
    return (
        f"{package} {version} registered: connection types {[c['connection-type'] for c in connection_types]}, "
        f"{len(links)} extra links, {len(triggers)} trigger modules, {len(modules)} modules import"
    )


def check_dags(folder: Path) -> str:
    files = sorted(folder.glob("*.py"))
    expect(bool(files), f"no DAG files in {folder}")
    bag = DagBag(dag_folder=folder)  # no examples: AIRFLOW__CORE__LOAD_EXAMPLES=False
    expect(not bag.import_errors, f"import errors: {bag.import_errors}")
    parsed = {Path(dag.fileloc) for dag in bag.dags.values()}
    unparsed = [path.name for path in files if path not in parsed]
    expect(not unparsed, f"no DAG from {unparsed}")
    return f"{len(bag.dags)} example DAGs from {len(files)} files parse"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dags", type=Path, required=True, help="the example DAGs folder")
    parser.add_argument("--airflow", help="the Airflow version that must be installed")
    args = parser.parse_args()
    expect(Path(moka_provider.__file__).is_relative_to(sys.prefix), f"imported {moka_provider.__file__}")
    expect(args.airflow in (None, airflow.__version__), f"Airflow {airflow.__version__} installed")
    info = get_provider_info()
    print(
        f"Airflow {airflow.__version__}; {check_registration(info['package-name'], moka_provider.__version__, info)}; "
        f"{check_dags(args.dags.resolve())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
