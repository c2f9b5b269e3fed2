"""Copy a table between a JDBC database and Spark's catalog: what ``SparkJDBCOperator`` did on Monarch.

``MonarchSparkJDBCOperator`` submits this program as the application. ``--cmd-type jdbc_to_spark``
reads the JDBC table and saves it as the catalog table; ``spark_to_jdbc`` writes the catalog table
into the JDBC table. The other arguments are the options of Spark's JDBC data source (``fetchsize``,
``batchsize``, ``numPartitions``, ...). The password is never an argument, since arguments are part
of the SparkApplication anyone in the namespace can read: it is read from the environment variable
``--password-env`` names, which the driver pod takes from a Kubernetes Secret (Spark hands the
options to its executors itself). Runs in the Spark driver; needs nothing but PySpark and the
standard library.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

JDBC_TO_SPARK, SPARK_TO_JDBC = "jdbc_to_spark", "spark_to_jdbc"

#: Arguments that are options of Spark's JDBC data source in one direction: argument -> option.
_OPTIONS = {
    JDBC_TO_SPARK: {
        "fetch_size": "fetchsize",
        "num_partitions": "numPartitions",
        "partition_column": "partitionColumn",
        "lower_bound": "lowerBound",
        "upper_bound": "upperBound",
    },
    SPARK_TO_JDBC: {
        "batch_size": "batchsize",
        "num_partitions": "numPartitions",
        "create_table_column_types": "createTableColumnTypes",
    },
}


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The command line; argparse exits with a usage message when it is wrong."""
    parser = argparse.ArgumentParser(prog="spark_jdbc_runner.py", description=__doc__.split("\n")[0])
    parser.add_argument("--cmd-type", required=True, choices=(JDBC_TO_SPARK, SPARK_TO_JDBC))
    parser.add_argument("--url", required=True, help="the JDBC URL")
    parser.add_argument("--jdbc-table", required=True)
    parser.add_argument("--metastore-table", required=True, help="the table in Spark's catalog")
    parser.add_argument("--user")
    parser.add_argument("--password-env", help="the environment variable holding the password")
    parser.add_argument("--jdbc-driver", help="the JDBC driver class")
    parser.add_argument("--save-mode", help="append, overwrite, ignore, error (Spark's default)")
    parser.add_argument("--save-format", help="jdbc_to_spark: the catalog table's format")
    parser.add_argument("--truncate", action="store_true", help="spark_to_jdbc: truncate on overwrite")
    for argument in sorted({name for options in _OPTIONS.values() for name in options}):
        parser.add_argument("--" + argument.replace("_", "-"))
    return parser.parse_args(argv)


def jdbc_options(arguments: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """The options of Spark's JDBC data source for this run, the password read from ``environ``.

    Raises ``KeyError`` naming the variable when ``--password-env`` names one that is not set.
    """
    options = {"url": arguments.url, "dbtable": arguments.jdbc_table}
    if arguments.user:
        options["user"] = arguments.user
    if arguments.password_env:
        options["password"] = environ[arguments.password_env]
    if arguments.jdbc_driver:
        options["driver"] = arguments.jdbc_driver
    if arguments.truncate and arguments.cmd_type == SPARK_TO_JDBC:
        options["truncate"] = "true"
    for argument, option in _OPTIONS[arguments.cmd_type].items():
        if (value := getattr(arguments, argument)) is not None:
            options[option] = value
    return options


def main(argv: list[str], environ: Mapping[str, str] = os.environ) -> int:
    arguments = parse_arguments(argv)
    try:
        options = jdbc_options(arguments, environ)
    except KeyError as missing:
        print(f"spark_jdbc_runner.py: the environment variable {missing} is not set", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    source, target = arguments.jdbc_table, arguments.metastore_table
    if arguments.cmd_type == SPARK_TO_JDBC:
        source, target = target, source
    print(f"-- {arguments.cmd_type}: {source} -> {target}", file=sys.stderr, flush=True)
    try:
        if arguments.cmd_type == JDBC_TO_SPARK:
            frame = spark.read.format("jdbc").options(**options).load()
            frame.write.saveAsTable(target, format=arguments.save_format, mode=arguments.save_mode)
        else:
            spark.table(source).write.format("jdbc").options(**options).save(mode=arguments.save_mode)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
