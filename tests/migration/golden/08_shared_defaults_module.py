"""Search index export, using the platform team's shared Spark settings."""

from datetime import datetime

from monarch_common.spark_defaults import APPS, DATA, PYSPARK_CONF, SPARK_CONF, SPARK_CONN_ID, yarn_conf
from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG

with DAG(
    "monarch_08_search_export",
    start_date=datetime(2022, 2, 1),
    schedule="0 4 * * *",
    catchup=False,
) as dag:
    extract = MonarchSparkSubmitOperator(
        task_id="extract_documents",
        conn_id=SPARK_CONN_ID,
        application=f"{APPS}/search/extract_documents.py",
        conf=PYSPARK_CONF,
        archives=f"{APPS}/search/venv.tar.gz#venv",
        application_args=["--date", "{{ ds }}", "--out", f"{DATA}/search/documents"],
    )
    index = MonarchSparkSubmitOperator(
        task_id="build_index",
        conn_id=SPARK_CONN_ID,
        java_class="com.acme.search.BuildIndex",
        application=f"{APPS}/search/search-indexer.jar",
        conf=SPARK_CONF,
        application_args=["{{ ds }}"],
    )
    publish = MonarchSparkSubmitOperator(
        task_id="publish_index",
        conn_id=SPARK_CONN_ID,
        java_class="com.acme.search.Publish",
        application=f"{APPS}/search/search-indexer.jar",
        conf=yarn_conf("search", **{"spark.executor.instances": 2}),
        application_args=["{{ ds }}"],
    )
    extract >> index >> publish
