"""CRM sync: customers in from the CRM's PostgreSQL, a daily summary back out, with SparkJDBCOperator."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_jdbc import SparkJDBCOperator

JDBC_JARS = "hdfs://monarch-nn/libs/postgresql-42.5.jar"

default_args = {"owner": "crm-data", "retries": 2, "retry_delay": timedelta(minutes=10)}

with DAG(
    "monarch_50_crm_sync",
    start_date=datetime(2021, 6, 1),
    schedule="30 2 * * *",
    catchup=False,
    default_args=default_args,
) as dag:
    customers_in = SparkJDBCOperator(
        task_id="customers_in",
        cmd_type="jdbc_to_spark",
        jdbc_conn_id="crm_postgres",
        jdbc_table="public.customers",
        jdbc_driver="org.postgresql.Driver",
        metastore_table="crm.customers",
        save_mode="overwrite",
        save_format="parquet",
        fetch_size=5000,
        num_partitions=8,
        partition_column="customer_id",
        lower_bound="1",
        upper_bound="20000000",
        spark_jars=JDBC_JARS,
        spark_conf={"spark.yarn.queue": "crm", "spark.sql.shuffle.partitions": 64},
        executor_memory="4g",
        num_executors=4,
        spark_app_name="crm-customers-in",
    )
    summary_out = SparkJDBCOperator(
        task_id="summary_out",
        cmd_type="spark_to_jdbc",
        jdbc_conn_id="crm_postgres",
        jdbc_table="reporting.daily_summary",
        jdbc_driver="org.postgresql.Driver",
        metastore_table="crm.daily_summary",
        jdbc_truncate=True,
        save_mode="overwrite",
        batch_size=10000,
        create_table_column_types="segment VARCHAR(64), note VARCHAR(1024)",
        spark_jars=JDBC_JARS,
        spark_conf={"spark.yarn.queue": "crm"},
    )
    customers_in >> summary_out
