"""A Monarch-style DAG on the drop-in operators, as a team would have it after changing imports.

The applications live on "HDFS": the test's ``moka`` connection maps ``hdfs://monarch-nn/apps``
to the workloads folder through its ``monarch_path_map``. The JDBC task writes a JSON-lines file of
the workloads folder (a catalog table by its path) into the PostgreSQL database of the test's
``crm_pg`` connection, with Debian's JDBC driver.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG

from moka_provider.operators.monarch import (
    MonarchSparkJDBCOperator,
    MonarchSparkSqlOperator,
    MonarchSparkSubmitBashOperator,
    MonarchSparkSubmitOperator,
)

SQL = """
-- a view, a query over it; a semicolon inside a string does not end a statement
CREATE TEMPORARY VIEW squares AS SELECT id, id * id AS square FROM range(4);
SELECT sum(square) AS total FROM squares;
SELECT 'semi;colon' AS text
"""

CUSTOMERS = Path(__file__).resolve().parents[1] / "workloads" / "customers.jsonl"

with DAG("moka_monarch_dropins", schedule=None, catchup=False) as dag:
    submit = MonarchSparkSubmitOperator(
        task_id="submit",
        conn_id="yarn_spark",
        application="hdfs://monarch-nn:8020/apps/script.py",
        application_args=["dropin-{{ ds_nodash }}", "0", "0"],
        name="Nightly Load {{ ds_nodash }}",
        num_executors=1,
        executor_memory="512m",
        driver_memory="512m",
        conf={"spark.yarn.maxAppAttempts": "1", "spark.shuffle.service.enabled": "true"},
        env_vars={"HADOOP_CONF_DIR": "/etc/hadoop/conf"},
    )
    sql = MonarchSparkSqlOperator(
        task_id="sql", sql=SQL, conf="spark.sql.shuffle.partitions=2", executor_memory="512m"
    )
    bash = MonarchSparkSubmitBashOperator(
        task_id="bash",
        bash_command=(
            "HADOOP_CONF_DIR=/etc/hadoop/conf spark-submit --master yarn --deploy-mode cluster \\\n"
            "    --num-executors 1 --executor-memory 512m \\\n"
            "    hdfs://monarch-nn/apps/script.py bash-{{ ds_nodash }} 0 0"
        ),
        deferrable=True,
    )
    jdbc = MonarchSparkJDBCOperator(
        task_id="jdbc",
        cmd_type="spark_to_jdbc",
        jdbc_conn_id="crm_pg",
        jdbc_driver="org.postgresql.Driver",
        metastore_table=f"json.`{CUSTOMERS}`",
        jdbc_table="customers_{{ ds_nodash }}",
        save_mode="overwrite",
        batch_size=2,
        create_table_column_types="segment VARCHAR(16)",
        spark_jars="local:///usr/share/java/postgresql.jar",
        spark_conf={"spark.sql.shuffle.partitions": 1},
        driver_memory="512m",
    )
    submit >> sql >> bash >> jdbc
