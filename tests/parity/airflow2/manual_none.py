"""Parity: a manually triggered 2.x DAG (schedule None)."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("parity_manual_none", start_date=datetime(2024, 1, 1), schedule_interval=None) as dag:
    BashOperator(task_id="echo", bash_command="echo {{ ds }} {{ execution_date }} {{ ds_nodash }}")
