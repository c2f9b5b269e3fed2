"""Files the package ships besides its modules: the official CRDs (``crds/``), the least-privilege
Role (``rbac/``) and the Spark SQL runner (``spark/``), a program for the Spark driver that
``MonarchSparkSqlOperator`` submits as its application (not a module of the provider).
"""

from __future__ import annotations

from pathlib import Path


def spark_sql_runner_path() -> Path:
    """The installed Spark SQL runner: the file `moka local` runs in its drivers, and the one
    platform teams copy into their Spark image (``moka spark-sql-runner``)."""
    return Path(__file__).parent / "spark" / "spark_sql_runner.py"
