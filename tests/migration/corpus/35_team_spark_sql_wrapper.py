"""Daily revenue rollup in SQL through the team's SparkSqlOperator wrapper."""

from datetime import datetime

from airflow.sdk import DAG
from team_airflow.spark_sql import TeamSparkSqlOperator

with DAG(
    "monarch_35_revenue_rollup",
    start_date=datetime(2024, 2, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    TeamSparkSqlOperator(
        task_id="revenue_rollup",
        sql="INSERT OVERWRITE TABLE finance.revenue_daily SELECT * FROM finance.revenue WHERE ds = '{{ ds }}'",
        team_queue="finance",
        executor_memory="2g",
    )
