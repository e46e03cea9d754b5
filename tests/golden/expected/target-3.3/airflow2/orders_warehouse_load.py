"""
Load curated orders into the warehouse whenever the lake has new ones.

Dataset-scheduled: runs after every update of the curated orders prefix, upserts the rows and
refreshes the reporting aggregates in one TaskGroup.
"""
import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, DAG, TaskGroup, chain

from dag_utils import DEFAULT_ARGS, ORDERS_URI, WAREHOUSE_CONN_ID

with DAG(
    dag_id="orders_warehouse_load",
    start_date=pendulum.datetime(2023, 6, 1, tz="UTC"),
    schedule=[Asset(ORDERS_URI)],
    catchup=False,
    default_args=DEFAULT_ARGS,
    template_searchpath=["/opt/airflow/dags/sql"],
    tags=["orders", "warehouse"],
) as dag:
    begin = EmptyOperator(task_id="begin")

    # Which producer runs fed this run (Dataset events carry the source run id).
    log_trigger = BashOperator(
        task_id="log_triggering_events",
        bash_command=(
            "echo 'triggered by: "
            "{% for uri, events in triggering_asset_events.items() %}"
            "{{ uri }} x{{ events | length }} {% endfor %}'"
        ),
    )

    stage = SQLExecuteQueryOperator(
        task_id="stage_orders",
        conn_id=WAREHOUSE_CONN_ID,
        sql="CALL staging.load_orders_from_lake(%(day)s)",
        parameters={"day": "{{ ds }}"},
    )

    upsert = SQLExecuteQueryOperator(
        task_id="upsert_orders",
        conn_id=WAREHOUSE_CONN_ID,
        sql="sql/upsert_orders.sql",
    )

    with TaskGroup(group_id="refresh_aggregates") as refresh_aggregates:
        for name in ("daily_revenue", "customer_ltv", "basket_size"):
            SQLExecuteQueryOperator(
                task_id="refresh_{}".format(name),
                conn_id=WAREHOUSE_CONN_ID,
                sql="REFRESH MATERIALIZED VIEW CONCURRENTLY reporting.{}".format(name),
            )

    done = EmptyOperator(task_id="done")

    chain(begin, log_trigger, stage, upsert, refresh_aggregates, done)
