"""Vendor master data load. The JDBC operator was tried once and abandoned; its import stayed."""

import os
from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_jdbc import SparkJDBCOperator  # noqa: F401
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

os.environ["HADOOP_CONF_DIR"] = "/etc/hadoop/conf.monarch"
os.environ["YARN_CONF_DIR"] = "/etc/hadoop/conf.monarch"

with DAG(
    "monarch_24_vendor_master",
    start_date=datetime(2020, 2, 1),
    schedule="0 1 * * *",
    catchup=False,
) as dag:
    load = SparkSubmitOperator(
        task_id="load_vendors",
        application="hdfs://monarch-nn/apps/procurement/load_vendors.py",
        jars="hdfs://monarch-nn/libs/ojdbc8.jar",
        driver_class_path="hdfs://monarch-nn/libs/ojdbc8.jar",
        env_vars={"HADOOP_CONF_DIR": "/etc/hadoop/conf.monarch", "VENDOR_DB_SCHEMA": "PROCUREMENT"},
        conf={"spark.yarn.queue": "procurement"},
        # the password reaches the job as an argument (visible in the YARN UI; yes, really)
        application_args=["--date", "{{ ds }}", "--db-password", "{{ conn.vendor_db.password }}"],
    )
