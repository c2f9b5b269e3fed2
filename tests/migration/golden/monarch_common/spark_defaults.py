"""Spark settings every Monarch pipeline starts from (the platform team owns this module)."""

SPARK_CONN_ID = "yarn_spark"
APPS = "hdfs://monarch-nn/apps"
DATA = "hdfs://monarch-nn/data"

#: The cluster-wide baseline: shuffle service on, dynamic allocation, the shared queue.
SPARK_CONF = {
    "spark.master": "yarn",
    "spark.submit.deployMode": "cluster",
    "spark.yarn.queue": "etl",
    "spark.dynamicAllocation.enabled": "true",
    "spark.shuffle.service.enabled": "true",
    "spark.dynamicAllocation.minExecutors": 2,
    "spark.dynamicAllocation.maxExecutors": 20,
    "spark.yarn.executor.memoryOverhead": "1024",
    "spark.sql.shuffle.partitions": 400,
}

#: For PySpark jobs that ship the team's virtualenv.
PYSPARK_CONF = dict(
    SPARK_CONF,
    **{
        "spark.yarn.appMasterEnv.PYSPARK_PYTHON": "./venv/bin/python",
        "spark.executorEnv.PYSPARK_PYTHON": "./venv/bin/python",
    },
)


def yarn_conf(queue: str, **extra: object) -> dict[str, object]:
    """The baseline with another queue and a few more settings."""
    conf: dict[str, object] = dict(SPARK_CONF)
    conf["spark.yarn.queue"] = queue
    conf.update(extra)
    return conf
