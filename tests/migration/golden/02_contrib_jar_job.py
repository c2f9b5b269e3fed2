"""Billing aggregation (Scala) - written for Airflow 1.10, moved to Airflow 2 without changes."""

from datetime import datetime, timedelta

from moka_provider.operators.spark import MokaSparkOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

args = {
    "owner": "billing",
    "depends_on_past": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}

dag = DAG(
    "monarch_02_billing_aggregation",
    default_args=args,
    start_date=datetime(2019, 6, 1),
    schedule="@daily",
    catchup=False,
)

start = EmptyOperator(task_id="start", dag=dag)

# moka migrate: check --total-executor-cores: YARN ignores it: the Monarch job ran with...
# moka migrate: check conn_id: Moka uses the moka connection: check what this Spark connection...
# moka migrate: check spark.hadoop.fs.s3a.committer.name: output now goes to S3: use the S3A...
aggregate = MokaSparkOperator(
    task_id="aggregate_invoices",
    application="s3a://moka-artifacts/apps/billing/billing-assembly-2.4.1.jar",
    main_class="com.acme.billing.AggregateInvoices",
    arguments=[
        "--date",
        "{{ ds }}",
        "--output",
        "s3a://moka-lake/data/billing/invoices_daily/{{ ds_nodash }}",
    ],
    spark_conf={
        "spark.executor.maxNumFailures": "8",
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    },
    driver={"memory": "2g"},
    executors={"memory": "6g", "cores": 4},
    spark_deps={
        "jars": [
            "s3a://moka-artifacts/libs/postgresql-42.2.5.jar",
            "s3a://moka-artifacts/libs/acme-commons-1.9.jar",
        ],
    },
    spec_overrides={"restartPolicy": {"type": "Never"}},
    dag=dag,
)

start >> aggregate
