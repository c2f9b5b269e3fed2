"""Telemetry rollups, tuned over the years on the YARN cluster (every setting had a reason)."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG

TELEMETRY_CONF = {
    "spark.master": "yarn",
    "spark.submit.deployMode": "cluster",
    "spark.yarn.queue": "telemetry",
    "spark.yarn.maxAppAttempts": "3",
    "spark.yarn.executor.memoryOverhead": "2048",
    "spark.yarn.driver.memoryOverhead": "1024",
    "spark.yarn.appMasterEnv.PYSPARK_PYTHON": "./env/bin/python",
    "spark.yarn.appMasterEnv.TELEMETRY_ENV": "prod",
    "spark.executorEnv.PYSPARK_PYTHON": "./env/bin/python",
    "spark.yarn.jars": "hdfs://monarch-nn/libs/spark-2.4.8/jars/*.jar",
    "spark.dynamicAllocation.enabled": "true",
    "spark.shuffle.service.enabled": "true",
    "spark.dynamicAllocation.minExecutors": "4",
    "spark.dynamicAllocation.maxExecutors": "64",
    "spark.yarn.tags": "telemetry,rollup",
    "spark.yarn.executor.nodeLabelExpression": "highmem",
    "spark.yarn.am.memory": "2g",
    "spark.yarn.submit.waitAppCompletion": "true",
    "spark.yarn.exclude.nodes": "worker-17.monarch.acme.internal",
}

with DAG(
    "monarch_11_telemetry_rollups",
    start_date=datetime(2020, 10, 1),
    schedule="0 * * * *",
    catchup=False,
) as dag:
    hourly = MonarchSparkSubmitOperator(
        task_id="hourly_rollup",
        conn_id="yarn_spark",
        application="hdfs://monarch-nn/apps/telemetry/rollup.py",
        archives="hdfs://monarch-nn/apps/telemetry/env.tar.gz#env",
        conf=TELEMETRY_CONF,
        executor_memory="12g",
        executor_cores=4,
        application_args=["--hour", "{{ ts_nodash }}"],
    )
