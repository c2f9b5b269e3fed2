"""Recommendations training set, rebuilt on demand (trigger with {"model": "...", "days": N})."""

import pendulum
from airflow.sdk import dag, task
from moka_provider.operators.spark import MokaSparkOperator


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

    # moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    build = MokaSparkOperator(
        task_id="build_training_set",
        application="s3a://moka-artifacts/apps/reco/build_training_set.py",
        arguments=[
            "--model",
            "{{ dag_run.conf.get('model', params.model) }}",
            "--days",
            "{{ dag_run.conf.get('days', params.days) }}",
            "--end-date",
            "{{ ds }}",
        ],
        driver={"memory": "4g"},
        executors={"memory": "10g", "instances": 12},
        spark_deps={"py_files": ["s3a://moka-artifacts/apps/reco/reco_features.zip"]},
        yunikorn_queue="reco",
    )

    @task
    def notify(model):
        print(f"training set for {model} is ready")

    model = check_request()
    model >> build >> notify(model)


reco_training_set()
