"""HR headcount report on the secured cluster: kinit first, then a keytab-authenticated job."""

from datetime import datetime

from moka_provider.operators.monarch import MonarchSparkSubmitOperator
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

KEYTAB = "/etc/security/keytabs/svc_hr_etl.keytab"
PRINCIPAL = "svc_hr_etl@MONARCH.ACME.INTERNAL"

with DAG(
    "monarch_13_hr_headcount",
    start_date=datetime(2021, 3, 1),
    schedule="0 7 * * 1",
    catchup=False,
) as dag:
    kinit = BashOperator(
        task_id="kinit",
        bash_command=f"kinit -kt {KEYTAB} {PRINCIPAL}",
    )
    headcount = MonarchSparkSubmitOperator(
        task_id="headcount_report",
        conn_id="spark2_secure",
        spark_binary="spark2-submit",
        application="hdfs://monarch-nn/apps/hr/headcount.py",
        keytab=KEYTAB,
        principal=PRINCIPAL,
        proxy_user="hr_analyst",
        conf={"spark.yarn.queue": "hr", "spark.yarn.access.hadoopFileSystems": "hdfs://monarch-nn"},
        application_args=["--week", "{{ ds }}", "--ticket-cache", "{{ ti.xcom_pull(task_ids='kinit') }}"],
    )
    kinit >> headcount
