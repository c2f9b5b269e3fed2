"""Geo enrichment: a PySpark job with its venv, helper zips, lookup files and Maven packages."""

from datetime import datetime

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG

with DAG(
    "monarch_12_geo_enrichment",
    start_date=datetime(2022, 4, 1),
    schedule="@daily",
    catchup=False,
) as dag:
    # moka migrate: check spark.jars.ivySettings: /etc/spark/ivysettings.xml is a file of the...
    # moka migrate: check spark.executor.memoryOverheadFactor: Kubernetes gives PySpark pods a...
    # moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
    enrich = MokaSparkOperator(
        task_id="enrich_events",
        application="s3a://moka-artifacts/apps/geo/enrich.py",
        arguments=[
            "--events",
            "s3a://moka-lake/data/events/dt={{ ds }}",
            "--mmdb",
            "geo.mmdb",
            "--out",
            "s3a://acme-lake/geo/enriched/dt={{ ds }}",
        ],
        spark_conf={
            "spark.jars.ivySettings": "/etc/spark/ivysettings.xml",
            "spark.kubernetes.driverEnv.PYSPARK_PYTHON": "./geovenv/bin/python",
            "spark.executorEnv.PYSPARK_PYTHON": "./geovenv/bin/python",
        },
        spark_deps={
            "files": [
                "s3a://moka-artifacts/apps/geo/GeoLite2-City.mmdb#geo.mmdb",
                "s3a://moka-artifacts/apps/geo/log4j.properties",
            ],
            "py_files": [
                "s3a://moka-artifacts/apps/geo/geo_lib.zip",
                "s3a://moka-artifacts/apps/geo/common.zip",
            ],
            "archives": ["s3a://moka-artifacts/apps/geo/geo-venv-1.4.tar.gz#geovenv"],
            "packages": [
                "org.apache.sedona:sedona-spark-shaded-3.0_2.12:1.5.1",
                "org.datasyslab:geotools-wrapper:1.5.1-28.2",
            ],
            "repositories": ["https://nexus.acme.internal/repository/maven-public"],
        },
        yunikorn_queue="geo",
    )
