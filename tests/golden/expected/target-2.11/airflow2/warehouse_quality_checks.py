"""
Nightly warehouse quality gate.

Waits for the orders pipeline's last hourly run of the day, then runs the row-count and
freshness checks. Any failure stops the whole run at once (fail_stop) so the BI refresh that
polls this DAG never sees a half-checked day.
"""
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.models.baseoperator import chain
from airflow.operators.python import PythonOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.utils.task_group import TaskGroup

from dag_utils import DEFAULT_ARGS, WAREHOUSE_CONN_ID, last_successful_run_date

CHECKS = {
    "orders_not_empty": "SELECT 1/COUNT(*) FROM dw.orders WHERE load_date = '{{ ds }}'",
    "no_negative_amounts": "SELECT 1/(1 - SIGN(COUNT(*))) FROM dw.orders WHERE amount < 0",
    "customers_fresh": (
        "SELECT 1/COUNT(*) FROM dw.customers WHERE updated_at >= '{{ macros.ds_add(ds, -1) }}'"
    ),
}

with DAG(
    dag_id="warehouse_quality_checks",
    start_date=pendulum.datetime(2023, 1, 1, tz="UTC"),
    schedule="0 0 * * *",
    catchup=False,
    default_args=DEFAULT_ARGS,
    fail_stop=True,
    dagrun_timeout=timedelta(hours=4),
) as dag:
    # The 23:00 run of the hourly orders DAG covers the last hour of the day before this run.
    wait_for_orders = ExternalTaskSensor(
        task_id="wait_for_orders_pipeline",
        external_dag_id="orders_taskflow_pipeline",
        external_task_id="publish",
        execution_delta=timedelta(hours=1),
        mode="reschedule",
        timeout=3 * 3600,
    )

    def check_orders_dag_health(**context):
        last_ok = last_successful_run_date("orders_taskflow_pipeline")
        if last_ok is None or last_ok < context["logical_date"] - timedelta(days=1):
            raise ValueError("orders_taskflow_pipeline has not succeeded since %s" % last_ok)

    health = PythonOperator(task_id="check_orders_dag_health", python_callable=check_orders_dag_health)

    with TaskGroup(group_id="sql_checks", tooltip="division by zero fails the check") as sql_checks:
        for name, sql in CHECKS.items():
            SQLExecuteQueryOperator(task_id=name, conn_id=WAREHOUSE_CONN_ID, sql=sql)

    publish_ok = SQLExecuteQueryOperator(
        task_id="publish_gate_status",
        conn_id=WAREHOUSE_CONN_ID,
        sql=(
            "INSERT INTO ops.quality_gate (day, passed_at, prev_day) "
            "VALUES ('{{ ds }}', now(), '{{ macros.ds_add(ds, -1) }}')"
        ),
    )

    chain(wait_for_orders, health, sql_checks, publish_ok)
