"""Partition repair for the legacy Hive tables (Airflow 1 imports, still in use)."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSqlOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

dag = DAG(
    "monarch_15_partition_repair",
    start_date=datetime(2018, 12, 1),
    schedule="@daily",
    catchup=False,
)

list_tables = BashOperator(
    task_id="list_tables",
    bash_command="beeline -u jdbc:hive2://hive.monarch.acme.internal:10000/default -e 'SHOW TABLES IN legacy'",
    dag=dag,
)

repair = MonarchSparkSqlOperator(
    task_id="repair_partitions",
    sql="MSCK REPAIR TABLE legacy.page_views",
    master="yarn",
    yarn_queue="maintenance",
    executor_cores=2,
    dag=dag,
)

list_tables >> repair
