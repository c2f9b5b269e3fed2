"""Fraud features: a factory builds each feature job from a base configuration."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG

BASE_CONF = {
    "spark.yarn.queue": "risk",
    "spark.submit.deployMode": "cluster",
    "spark.executor.memory": "6g",
    "spark.yarn.executor.memoryOverhead": "1024",
}


def feature_job(dag, feature, extra_conf=None, executors=8):
    """One Spark job computing ``feature`` for the day."""
    conf = dict(BASE_CONF, **(extra_conf or {}))
    return MonarchSparkSubmitOperator(
        task_id=f"feature_{feature}",
        dag=dag,
        conn_id="yarn_spark",
        application="hdfs://monarch-nn/apps/risk/features.py",
        name=f"fraud-feature-{feature}",
        num_executors=executors,
        conf=conf,
        application_args=["--feature", feature, "--date", "{{ ds }}"],
    )


dag = DAG(
    "monarch_07_fraud_features",
    start_date=datetime(2021, 11, 1),
    schedule="@daily",
    catchup=False,
)

velocity = feature_job(dag, "velocity")
geo = feature_job(dag, "geo_mismatch", {"spark.sql.shuffle.partitions": "600"})
devices = feature_job(dag, "device_graph", {"spark.driver.memory": "8g"}, executors=20)
merged = MonarchSparkSubmitOperator(
    task_id="merge_features",
    dag=dag,
    application="hdfs://monarch-nn/apps/risk/merge_features.py",
    conf=dict({"spark.sql.autoBroadcastJoinThreshold": "-1"}, **BASE_CONF),
    application_args=["--date", "{{ ds }}"],
)

[velocity, geo, devices] >> merged
