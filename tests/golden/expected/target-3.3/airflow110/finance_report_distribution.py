"""
Finance report distribution.

Never scheduled: finance_month_close triggers it with the month's totals in the run payload.
Renders the PDF pack, uploads it to the finance share bucket and mails the controllers.
Can also be run by hand: `python finance_report_distribution.py test render_report_pack 2021-01-01`.
"""
import json

import pendulum
from airflow.providers.google.cloud.hooks.gcs import GCSHook
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG
from airflow.utils import dates

REPORT_BUCKET = "acme-finance-share"

args = {
    "owner": "finance-data",
    "start_date": pendulum.datetime(2026, 11, 20, tz="UTC"),
    "retries": 0,
}

dag = DAG(
    dag_id="finance_report_distribution",
    default_args=args,
    schedule=None,
    catchup=False,
)

render_pack = BashOperator(
    task_id="render_report_pack",
    bash_command=(
        "python /opt/jobs/finance_pack.py --period {{ ds }} "
        "--totals '{{ dag_run.conf | tojson if dag_run and dag_run.conf else \"{}\" }}' "
        "--out /tmp/finance_pack_{{ ds_nodash }}.pdf"
    ),
    dag=dag,
)


def upload_pack(**kwargs):
    """Upload with the contrib GCS hook; the object name carries the period and the next one."""
    ds_nodash = kwargs["ds_nodash"]
    dag_run = kwargs.get("dag_run")
    conf = (dag_run.conf or {}) if dag_run else {}
    hook = GCSHook(gcp_conn_id="google_cloud_default")
    object_name = "packs/{}/finance_pack_{}_to_{}.pdf".format(
        ds_nodash[:6], ds_nodash, kwargs["data_interval_end"].strftime("%Y%m%d"))
    hook.upload(REPORT_BUCKET, object_name, "/tmp/finance_pack_{}.pdf".format(ds_nodash),
                mime_type="application/pdf")
    kwargs["ti"].log.info("uploaded gs://%s/%s (%s)", REPORT_BUCKET, object_name, json.dumps(conf))
    return object_name


upload = PythonOperator(
    task_id="upload_report_pack",
    python_callable=upload_pack,
    dag=dag,
)

mail_controllers = EmailOperator(
    task_id="mail_controllers",
    to=["controllers@example.com"],
    subject="Finance pack for {{ logical_date.strftime('%B %Y') }}",
    html_content=(
        "The month-end pack for {{ ds }} is at "
        "gs://" + REPORT_BUCKET + "/{{ task_instance.xcom_pull(task_ids='upload_report_pack') }}."
        "<br>Previous period: {{ ds }}."
    ),
    dag=dag,
)

render_pack >> upload >> mail_controllers

if __name__ == "__main__":
    dag.test()
