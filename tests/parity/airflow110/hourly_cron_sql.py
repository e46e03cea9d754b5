"""Parity: an hourly cron 1.10 DAG with SQL templates inline and in a file."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.postgres_operator import PostgresOperator

dag = DAG(
    "parity_hourly_cron_sql",
    start_date=datetime(2024, 1, 1),
    schedule_interval="15 * * * *",
    catchup=False,
)

load = PostgresOperator(
    task_id="load",
    postgres_conn_id="warehouse",
    sql="sql/load_hour.sql",
    dag=dag,
)

inline = PostgresOperator(
    task_id="inline",
    postgres_conn_id="warehouse",
    sql=[
        "DELETE FROM t WHERE hour = '{{ execution_date }}'",
        "INSERT INTO t SELECT * FROM s WHERE hour >= '{{ execution_date }}' AND hour < '{{ next_execution_date }}'",
    ],
    dag=dag,
)

stamp = BashOperator(task_id="stamp", bash_command="echo {{ prev_execution_date }} {{ prev_ds_nodash }}", dag=dag)

load >> inline >> stamp
