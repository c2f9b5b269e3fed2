"""Pricing elasticity model (old DAG: numbers as ints, env passed to spark-submit)."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

with DAG(
    "monarch_27_price_elasticity",
    start_date=datetime(2021, 5, 1),
    schedule="0 11 * * 0",
    catchup=False,
) as dag:
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    elasticity = MokaSparkOperator(
        task_id="elasticity_model",
        application="s3a://moka-artifacts/apps/pricing/elasticity.py",
        arguments=["--week", "{{ ds }}", "--iterations", 50],
        spark_conf={
            "spark.sql.shuffle.partitions": 2000,
            "spark.executor.memoryOverhead": 4096,
            "spark.network.timeout": 600,
            "spark.speculation": True,
            "spark.kubernetes.driverEnv.MODEL_REGISTRY": "s3a://moka-lake/models/pricing",
        },
        driver={"memory": "6g", "env": {"OMP_NUM_THREADS": "1"}},
        executors={"memory": "18g", "cores": 5, "instances": 25},
        yunikorn_queue="pricing",
        spec_overrides={
            "driver": {"priorityClassName": "moka-batch-high"},
            "executor": {"priorityClassName": "moka-batch-high"},
        },
    )
