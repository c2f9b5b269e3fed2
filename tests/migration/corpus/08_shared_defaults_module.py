"""Search index export, using the platform team's shared Spark settings."""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from monarch_common.spark_defaults import APPS, DATA, PYSPARK_CONF, SPARK_CONF, SPARK_CONN_ID, yarn_conf

with DAG(
    "monarch_08_search_export",
    start_date=datetime(2022, 2, 1),
    schedule="0 4 * * *",
    catchup=False,
) as dag:
    extract = SparkSubmitOperator(
        task_id="extract_documents",
        conn_id=SPARK_CONN_ID,
        application=f"{APPS}/search/extract_documents.py",
        conf=PYSPARK_CONF,
        archives=f"{APPS}/search/venv.tar.gz#venv",
        application_args=["--date", "{{ ds }}", "--out", f"{DATA}/search/documents"],
    )
    index = SparkSubmitOperator(
        task_id="build_index",
        conn_id=SPARK_CONN_ID,
        java_class="com.acme.search.BuildIndex",
        application=f"{APPS}/search/search-indexer.jar",
        conf=SPARK_CONF,
        application_args=["{{ ds }}"],
    )
    publish = SparkSubmitOperator(
        task_id="publish_index",
        conn_id=SPARK_CONN_ID,
        java_class="com.acme.search.Publish",
        application=f"{APPS}/search/search-indexer.jar",
        conf=yarn_conf("search", **{"spark.executor.instances": 2}),
        application_args=["{{ ds }}"],
    )
    extract >> index >> publish
