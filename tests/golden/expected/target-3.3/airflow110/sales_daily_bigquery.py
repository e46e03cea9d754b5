"""
Daily sales rollup into BigQuery.

Loads the POS export that lands in GCS overnight into a staging table, then builds
analytics.daily_sales for the day with the SQL in sql/daily_sales.sql and sanity-checks it.
Owner: retail analytics (#retail-analytics).
"""
from datetime import timedelta

import pendulum
from airflow.providers.common.sql.operators.sql import SQLCheckOperator, SQLValueCheckOperator
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator
from airflow.sdk import CronDataIntervalTimetable, DAG

from common.helpers import GCP_CONN_ID, LANDING_BUCKET, TEAM_EMAIL, GcsPartitionCheckOperator

default_args = {
    "owner": "retail-analytics",
    "depends_on_past": False,
    "start_date": pendulum.datetime(2026, 11, 20, tz="UTC"),
    "email": [TEAM_EMAIL],
    "email_on_failure": True,
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
    # BigQuery jobs and checks all go through the same service account
    "gcp_conn_id": GCP_CONN_ID,
}

dag = DAG(
    dag_id="sales_daily_bigquery",
    default_args=default_args,
    description="POS export -> staging -> analytics.daily_sales",
    schedule=CronDataIntervalTimetable("30 4 * * *", timezone="UTC"),  # after the POS export finishes at ~04:00 UTC
    catchup=False,
    max_active_tasks=4,
    max_active_runs=1,
    tags=["sales", "bigquery"],
)

# Wait until the export for the day is complete (one file per store region).
check_landing = GcsPartitionCheckOperator(
    task_id="check_landing_partition",
    bucket=LANDING_BUCKET,
    prefix="pos/{{ ds_nodash }}/",
    min_objects=4,
    dag=dag,
)

load_staging = GCSToBigQueryOperator(
    task_id="load_pos_staging",
    bucket=LANDING_BUCKET,
    source_objects=["pos/{{ ds_nodash }}/*.csv"],
    destination_project_dataset_table="acme-retail.staging.pos_transactions${{ ds_nodash }}",
    source_format="CSV",
    skip_leading_rows=1,
    write_disposition="WRITE_TRUNCATE",
    autodetect=False,
    schema_object="schemas/pos_transactions.json",
    gcp_conn_id=GCP_CONN_ID,
    dag=dag,
)

build_daily_sales = BigQueryInsertJobOperator(
    task_id="build_daily_sales",
    configuration={
        "query": {
            "query": "sql/daily_sales.sql",
            "useLegacySql": False,
            "priority": "INTERACTIVE",
            "destinationTable": {"projectId": "acme-retail", "datasetId": "analytics", "tableId": "daily_sales${{ ds_nodash }}"},
            "allowLargeResults": False,
            "flattenResults": None,
            "writeDisposition": "WRITE_TRUNCATE",
            "createDisposition": "CREATE_IF_NEEDED",
        },
    },
    sla=timedelta(hours=2),
    dag=dag,
)

# A day with no rows means the export was empty, which has never been legitimate.
check_not_empty = SQLCheckOperator(
    task_id="check_daily_sales_not_empty",
    sql="SELECT COUNT(*) FROM `acme-retail.analytics.daily_sales` WHERE sales_date = '{{ ds }}'",
    conn_id=GCP_CONN_ID,
    dag=dag,
)

check_store_count = SQLValueCheckOperator(
    task_id="check_store_count",
    sql="SELECT COUNT(DISTINCT store_id) FROM `acme-retail.analytics.daily_sales` "
        "WHERE sales_date = '{{ macros.ds_add(ds, 0) }}'",
    pass_value=212,
    tolerance=0.05,
    conn_id=GCP_CONN_ID,
    dag=dag,
)

check_landing >> load_staging >> build_daily_sales >> [check_not_empty, check_store_count]
