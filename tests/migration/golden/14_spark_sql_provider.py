"""Daily KPIs computed in Spark SQL."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSqlOperator
from airflow.sdk import DAG

with DAG(
    "monarch_14_daily_kpis",
    start_date=datetime(2022, 1, 1),
    schedule="0 8 * * *",
    catchup=False,
) as dag:
    kpis = MonarchSparkSqlOperator(
        task_id="daily_kpis",
        conn_id="spark_sql_default",
        sql="""
            INSERT OVERWRITE TABLE kpi.daily PARTITION (dt = '{{ ds }}')
            SELECT country, count(DISTINCT user_id) AS dau, sum(revenue) AS revenue
            FROM events.purchases
            WHERE dt = '{{ ds }}'
            GROUP BY country
        """,
        master="yarn",
        yarn_queue="kpi",
        executor_memory="4g",
        num_executors=8,
        conf="spark.sql.shuffle.partitions=200,spark.yarn.executor.memoryOverhead=1024",
    )
    churn = MonarchSparkSqlOperator(
        task_id="weekly_churn",
        sql="SELECT * FROM kpi.churn_view WHERE week = weekofyear('{{ ds }}')",
        master="yarn",
        yarn_queue="kpi",
        name="weekly-churn",
    )
    kpis >> churn
