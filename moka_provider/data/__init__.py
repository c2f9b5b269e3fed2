"""Files the package ships besides its modules: the official CRDs (``crds/``), the least-privilege
Role (``rbac/``) and the Spark runners (``spark/``): small programs for the Spark driver that the
drop-in operators and ``@task.moka_pyspark`` submit as their application (not modules of the provider).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SparkRunner:
    """A program shipped in ``spark/`` that ``operator`` submits as its Spark application.

    ``name`` is its file's stem and the ``moka`` connection field saying where the driver finds it
    (``local://`` in Moka's Spark image, or ``s3a://``); ``moka <name with dashes>`` prints the
    installed file's path or copies it for an image.
    """

    name: str
    operator: str
    title: str

    @property
    def path(self) -> Path:
        """The installed program: the file `moka local` runs in its drivers and teams copy into images."""
        return Path(__file__).parent / "spark" / f"{self.name}.py"

    @property
    def command(self) -> str:
        return self.name.replace("_", "-")


SPARK_SQL_RUNNER = SparkRunner("spark_sql_runner", "MonarchSparkSqlOperator", "Spark SQL runner")
SPARK_JDBC_RUNNER = SparkRunner("spark_jdbc_runner", "MonarchSparkJDBCOperator", "Spark JDBC runner")
PYSPARK_FUNCTION_RUNNER = SparkRunner(
    "pyspark_function_runner", "@task.moka_pyspark", "PySpark function runner"
)
SPARK_RUNNERS = (SPARK_SQL_RUNNER, SPARK_JDBC_RUNNER, PYSPARK_FUNCTION_RUNNER)
