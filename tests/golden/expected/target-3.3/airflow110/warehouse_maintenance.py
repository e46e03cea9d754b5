# -*- coding: latin-1 -*-
"""
Warehouse housekeeping, every six hours.

Vacuums the hot fact tables, expires staging partitions older than the retention window and
records what it did in ops.maintenance_log. Written by the Zürich platform team (ops-zrh).
"""
from datetime import timedelta

# Plugin-style imports, as in the 1.8/1.9 docs; still resolved by airflow.operators in 1.10.
import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, DeltaDataIntervalTimetable

RETENTION_DAYS = 14
DW_CONN_ID = "warehouse_dw"

dag = DAG(
    dag_id="warehouse_maintenance",
    start_date=pendulum.datetime(2026, 11, 20, tz="UTC"),
    schedule=DeltaDataIntervalTimetable(timedelta(hours=6)),
    default_args={"owner": "ops-zrh", "retries": 1, "retry_delay": timedelta(minutes=15)},
    catchup=False,
    max_active_runs=1,
)


def expire_staging_partitions(**kwargs):
    """Drop staging partitions older than RETENTION_DAYS, counted from the run's execution date."""
    execution_date = kwargs["logical_date"]
    cutoff = (execution_date - timedelta(days=RETENTION_DAYS)).strftime("%Y%m%d")
    hook = PostgresHook(postgres_conn_id=DW_CONN_ID)
    rows = hook.get_records(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'staging' "
        "AND tablename ~ '_p[0-9]{8}$' AND right(tablename, 8) < %s",
        parameters=(cutoff,),
    )
    for (table,) in rows:
        hook.run("DROP TABLE IF EXISTS staging.{}".format(table))
    return len(rows)


def log_maintenance(**context):
    # Réglage: the log row covers [ds, next_ds) so overlapping runs are easy to spot.
    dropped = context["ti"].xcom_pull(task_ids="expire_staging_partitions")
    PostgresHook(postgres_conn_id=DW_CONN_ID).run(
        "INSERT INTO ops.maintenance_log (window_start, window_end, dropped) VALUES (%s, %s, %s)",
        parameters=(context["ds"], context["data_interval_end"].strftime("%Y-%m-%d"), dropped),
    )


vacuum_facts = SQLExecuteQueryOperator(
    task_id="vacuum_fact_tables",
    conn_id=DW_CONN_ID,
    sql=[
        "VACUUM ANALYZE dw.fact_sales",
        "VACUUM ANALYZE dw.fact_inventory",
    ],
    autocommit=True,  # VACUUM cannot run inside a transaction
    max_active_tis_per_dag=1,
    dag=dag,
)

expire_partitions = PythonOperator(
    task_id="expire_staging_partitions",
    python_callable=expire_staging_partitions,
    max_active_tis_per_dag=1,
    dag=dag,
)

record_run = PythonOperator(
    task_id="log_maintenance",
    python_callable=log_maintenance,
    dag=dag,
)

# Disk usage of the warehouse volume, for the ops dashboard (scraped from the task log).
report_disk = BashOperator(
    task_id="report_disk_usage",
    bash_command="df -h /var/lib/postgresql | tail -1  # run {{ ts }}",
    dag=dag,
)

vacuum_facts >> expire_partitions >> record_run
report_disk
