"""Geo enrichment: a PySpark job with its venv, helper zips, lookup files and Maven packages."""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

with DAG(
    "monarch_12_geo_enrichment",
    start_date=datetime(2022, 4, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    enrich = SparkSubmitOperator(
        task_id="enrich_events",
        application="hdfs://monarch-nn/apps/geo/enrich.py",
        archives="hdfs://monarch-nn/apps/geo/geo-venv-1.4.tar.gz#geovenv",
        py_files="hdfs://monarch-nn/apps/geo/geo_lib.zip,hdfs://monarch-nn/apps/geo/common.zip",
        files="hdfs://monarch-nn/apps/geo/GeoLite2-City.mmdb#geo.mmdb,hdfs://monarch-nn/apps/geo/log4j.properties",
        packages="org.apache.sedona:sedona-spark-shaded-3.0_2.12:1.5.1,org.datasyslab:geotools-wrapper:1.5.1-28.2",
        repositories="https://nexus.acme.internal/repository/maven-public",
        conf={
            "spark.yarn.queue": "geo",
            "spark.jars.ivySettings": "/etc/spark/ivysettings.xml",
            "spark.yarn.appMasterEnv.PYSPARK_PYTHON": "./geovenv/bin/python",
            "spark.executorEnv.PYSPARK_PYTHON": "./geovenv/bin/python",
        },
        application_args=[
            "--events",
            "hdfs://monarch-nn/data/events/dt={{ ds }}",
            "--mmdb",
            "geo.mmdb",
            "--out",
            "s3://acme-lake/geo/enriched/dt={{ ds }}",
        ],
    )
