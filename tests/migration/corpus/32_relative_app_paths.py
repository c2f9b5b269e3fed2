"""Survey scoring: the PySpark code ships with the DAG repository, next to this file."""

import os
from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

JOBS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jobs")

with DAG(
    "monarch_32_survey_scoring",
    start_date=datetime(2022, 12, 1),
    schedule="@weekly",
    catchup=False,
) as dag:
    score = SparkSubmitOperator(
        task_id="score_surveys",
        application=os.path.join(JOBS_DIR, "score_surveys.py"),
        py_files=os.path.join(JOBS_DIR, "survey_lib.zip"),
        conf={"spark.yarn.queue": "research"},
        application_args=["{{ ds }}"],
    )
    nps = SparkSubmitOperator(
        task_id="nps_report",
        application="jobs/nps_report.py",
        files="jobs/nps_weights.csv#weights.csv",
        conf={"spark.yarn.queue": "research"},
        application_args=["{{ ds }}", "weights.csv"],
    )
    score >> nps
