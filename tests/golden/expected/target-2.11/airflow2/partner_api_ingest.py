"""
Partner price feed ingest.

Calls the partner's REST API for the day's price list, stores the raw response in S3, copies it to
the curated prefix once the partner's completion marker exists, and cleans up old raw files.
Runs at 02:00 UTC for the previous day's interval (data-interval timetable).
"""
import json
from datetime import datetime

# Compat block so the file also parses on the 2.2 test cluster, which has no EmptyOperator.
# Keep it as is: both branches are intentional.
try:
    from airflow.operators.empty import EmptyOperator
except ImportError:  # Airflow < 2.3
    from airflow.operators.dummy import DummyOperator as EmptyOperator

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import (
    S3CopyObjectOperator,
    S3CreateObjectOperator,
    S3DeleteObjectsOperator,
)
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.http.operators.http import HttpOperator
from airflow.timetables.interval import CronDataIntervalTimetable

RAW_BUCKET = "acme-partner-raw"
CURATED_BUCKET = "acme-lake"


def response_is_complete(response):
    """The partner returns 200 with an empty list while the day is still being published."""
    return response.status_code == 200 and len(response.json().get("prices", [])) > 0


with DAG(
    dag_id="partner_api_ingest",
    start_date=datetime(2022, 1, 1),
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    catchup=True,
    max_active_runs=3,
    default_args={"owner": "partner-data", "retries": 3, "aws_conn_id": "aws_partner"},
    tags=["partner", "http", "s3"],
) as dag:
    start = EmptyOperator(task_id="start")

    fetch_prices = HttpOperator(
        task_id="fetch_prices",
        http_conn_id="partner_api",
        endpoint="v2/prices",
        method="GET",
        data={"date": "{{ ds }}", "until": "{{ data_interval_end | ds }}"},
        headers={"Accept": "application/json"},
        response_check=response_is_complete,
        response_filter=lambda response: json.dumps(response.json()["prices"]),
        log_response=False,
    )

    store_raw = S3CreateObjectOperator(
        task_id="store_raw_response",
        s3_bucket=RAW_BUCKET,
        s3_key="prices/{{ ds_nodash }}/prices.json",
        data="{{ ti.xcom_pull(task_ids='fetch_prices') }}",
        replace=True,
    )

    wait_marker = S3KeySensor(
        task_id="wait_for_completion_marker",
        bucket_name=RAW_BUCKET,
        bucket_key="prices/{{ ds_nodash }}/_COMPLETE",
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
    )

    copy_curated = S3CopyObjectOperator(
        task_id="copy_to_curated",
        source_bucket_name=RAW_BUCKET,
        source_bucket_key="prices/{{ ds_nodash }}/prices.json",
        dest_bucket_name=CURATED_BUCKET,
        dest_bucket_key="curated/partner_prices/dt={{ ds }}/prices.json",
    )

    # Raw responses are kept for a week; older prefixes go.
    cleanup = S3DeleteObjectsOperator(
        task_id="delete_old_raw",
        bucket=RAW_BUCKET,
        prefix="prices/{{ macros.ds_format(macros.ds_add(ds, -7), '%Y-%m-%d', '%Y%m%d') }}/",
    )

    start >> fetch_prices >> store_raw >> wait_marker >> copy_curated >> cleanup
