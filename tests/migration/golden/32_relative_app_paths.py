"""Survey scoring: the PySpark code ships with the DAG repository, next to this file."""

import os
from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

JOBS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jobs")

with DAG(
    "monarch_32_survey_scoring",
    start_date=datetime(2022, 12, 1),
    schedule="@weekly",
    catchup=False,
) as dag:
    score = MonarchSparkSubmitOperator(
        task_id="score_surveys",
        application=os.path.join(JOBS_DIR, "score_surveys.py"),
        py_files=os.path.join(JOBS_DIR, "survey_lib.zip"),
        conf={"spark.yarn.queue": "research"},
        application_args=["{{ ds }}"],
    )
    # moka migrate: check application: jobs/nps_report.py is a file of the machine that ran...
    # moka migrate: check --files: jobs/nps_weights.csv#weights.csv is a file of the machine that...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    nps = MokaSparkOperator(
        task_id="nps_report",
        application="jobs/nps_report.py",
        arguments=["{{ ds }}", "weights.csv"],
        spark_deps={"files": ["jobs/nps_weights.csv#weights.csv"]},
        yunikorn_queue="research",
    )
    score >> nps
