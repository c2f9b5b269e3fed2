"""Pricing elasticity model (old DAG: numbers as ints, env passed to spark-submit)."""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    "monarch_27_price_elasticity",
    start_date=datetime(2021, 5, 1),
    schedule="0 11 * * 0",
    catchup=False,
) as dag:
    elasticity = SparkSubmitOperator(
        task_id="elasticity_model",
        application="hdfs://monarch-nn/apps/pricing/elasticity.py",
        executor_cores=5,
        num_executors=25,
        executor_memory="18g",
        driver_memory="6g",
        conf={
            "spark.yarn.queue": "pricing",
            "spark.yarn.priority": 10,
            "spark.sql.shuffle.partitions": 2000,
            "spark.yarn.executor.memoryOverhead": 4096,
            "spark.network.timeout": 600,
            "spark.speculation": True,
            "spark.yarn.appMasterEnv.MODEL_REGISTRY": "hdfs://monarch-nn/models/pricing",
        },
        env_vars={"OMP_NUM_THREADS": "1", "YARN_CONF_DIR": "/etc/hadoop/conf"},
        application_args=["--week", "{{ ds }}", "--iterations", 50],
    )
