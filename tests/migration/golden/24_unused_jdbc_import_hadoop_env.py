"""Vendor master data load. The JDBC operator was tried once and abandoned; its import stayed."""

import os
from datetime import datetime

from airflow.providers.apache.spark.operators.spark_jdbc import SparkJDBCOperator  # noqa: F401
from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

os.environ["HADOOP_CONF_DIR"] = "/etc/hadoop/conf.monarch"
os.environ["YARN_CONF_DIR"] = "/etc/hadoop/conf.monarch"

with DAG(
    "monarch_24_vendor_master",
    start_date=datetime(2020, 2, 1),
    schedule="0 1 * * *",
    catchup=False,
) as dag:
    # moka migrate: check --driver-class-path: hdfs://monarch-nn/libs/ojdbc8.jar is not a file of...
    # moka migrate: check arguments: a secret rendered into the job's spec is readable by anyone who...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    load = MokaSparkOperator(
        task_id="load_vendors",
        # the password reaches the job as an argument (visible in the YARN UI; yes, really)
        application="s3a://moka-artifacts/apps/procurement/load_vendors.py",
        arguments=[
            "--date",
            "{{ ds }}",
            "--db-password",
            "{{ conn.vendor_db.password }}",
        ],
        driver={"env": {"VENDOR_DB_SCHEMA": "PROCUREMENT"}},
        spark_deps={"jars": ["s3a://moka-artifacts/libs/ojdbc8.jar"]},
        yunikorn_queue="procurement",
    )
