"""Airflow 1 import paths for loading the ORIGINAL corpus DAGs in Airflow 3 (tests only).

Monarch DAGs written for Airflow 1.10 import ``airflow.contrib.operators.spark_submit_operator``,
``airflow.operators.bash_operator`` and friends. Airflow 3 has none of those modules, so the
original files would not import and could not be compared with their rewritten versions. This shim
registers those module names in ``sys.modules``, each re-exporting today's class (the apache-spark
and standard providers'), for the duration of a ``with legacy_imports():`` block. It is not part
of the provider. Rewritten DAGs need no shim: ``moka migrate``'s Airflow 3 pass moves every Airflow 1
import to its Airflow 3 home.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

#: Airflow 1 module -> {name it exported: (today's module, today's name)}.
LEGACY_MODULES: dict[str, dict[str, tuple[str, str]]] = {
    "airflow.contrib.operators.spark_submit_operator": {
        "SparkSubmitOperator": (
            "airflow.providers.apache.spark.operators.spark_submit",
            "SparkSubmitOperator",
        ),
    },
    "airflow.contrib.operators.spark_sql_operator": {
        "SparkSqlOperator": ("airflow.providers.apache.spark.operators.spark_sql", "SparkSqlOperator"),
    },
    "airflow.contrib.operators.spark_jdbc_operator": {
        "SparkJDBCOperator": ("airflow.providers.apache.spark.operators.spark_jdbc", "SparkJDBCOperator"),
    },
    "airflow.operators.bash_operator": {
        "BashOperator": ("airflow.providers.standard.operators.bash", "BashOperator"),
    },
    "airflow.operators.python_operator": {
        "PythonOperator": ("airflow.providers.standard.operators.python", "PythonOperator"),
        "BranchPythonOperator": ("airflow.providers.standard.operators.python", "BranchPythonOperator"),
    },
    "airflow.operators.dummy_operator": {
        "DummyOperator": ("airflow.providers.standard.operators.empty", "EmptyOperator"),
    },
}
_PACKAGES = ("airflow.contrib", "airflow.contrib.operators")


def legacy_modules(*, spark: bool = True) -> dict[str, types.ModuleType]:
    """The shim modules (and their parent packages), built from today's classes; without the Spark
    operators' modules unless ``spark``."""
    import importlib

    modules: dict[str, types.ModuleType] = {}
    for package in _PACKAGES:
        module = types.ModuleType(package, "Airflow 1 package (test shim)")
        module.__path__ = []
        modules[package] = module
    for name, exports in LEGACY_MODULES.items():
        if not spark and name.startswith("airflow.contrib.operators.spark_"):
            continue
        module = types.ModuleType(name, "Airflow 1 module (test shim)")
        for exported, (today_module, today_name) in exports.items():
            setattr(module, exported, getattr(importlib.import_module(today_module), today_name))
        modules[name] = module
    return modules


@contextmanager
def legacy_imports(*, spark: bool = True) -> Iterator[None]:
    """Make the Airflow 1 import paths importable inside the block; restore ``sys.modules`` after.

    ``spark=False`` leaves out the Spark operators' modules: a file loaded so must not import the
    Spark operators the Airflow 1 way.
    """
    modules = legacy_modules(spark=spark)
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
