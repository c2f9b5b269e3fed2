"""Recommendations training set, rebuilt on demand (trigger with {"model": "...", "days": N})."""

import pendulum
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import dag, task


@dag(
    dag_id="monarch_04_reco_training_set",
    schedule=None,
    start_date=pendulum.datetime(2023, 5, 1, tz="UTC"),
    catchup=False,
    params={"model": "als", "days": 30},
    tags=["reco"],
)
def reco_training_set():
    @task
    def check_request(params=None):
        print(f"building a training set for {params['model']}")
        return params["model"]

    build = SparkSubmitOperator(
        task_id="build_training_set",
        conn_id="spark3",
        application="hdfs://monarch-nn/apps/reco/build_training_set.py",
        py_files="hdfs://monarch-nn/apps/reco/reco_features.zip",
        application_args=[
            "--model",
            "{{ dag_run.conf.get('model', params.model) }}",
            "--days",
            "{{ dag_run.conf.get('days', params.days) }}",
            "--end-date",
            "{{ ds }}",
        ],
        conf={
            "spark.yarn.queue": "reco",
            "spark.executor.memory": "10g",
            "spark.executor.instances": "12",
            "spark.driver.memory": "4g",
        },
    )

    @task
    def notify(model):
        print(f"training set for {model} is ready")

    model = check_request()
    model >> build >> notify(model)


reco_training_set()
