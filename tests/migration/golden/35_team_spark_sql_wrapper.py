"""Daily revenue rollup in SQL through the team's SparkSqlOperator wrapper."""

from datetime import datetime

from airflow.sdk import DAG
from moka_provider.operators.monarch import MonarchSparkSqlOperator

with DAG(
    "monarch_35_revenue_rollup",
    start_date=datetime(2024, 2, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    MonarchSparkSqlOperator(
        task_id="revenue_rollup",
        sql="INSERT OVERWRITE TABLE finance.revenue_daily SELECT * FROM finance.revenue WHERE ds = '{{ ds }}'",
        yarn_queue="finance",
        master="yarn",
        conn_id="spark_sql_yarn",
        executor_memory="2g",
    )
