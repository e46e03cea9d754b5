"""Parity: template files in subfolders of the DAG folder found through
template_searchpath=[os.path.dirname(os.path.abspath(__file__))], a script that includes another and
imports a macro, and the run object printed whole. The DAG file itself names no removed variable."""
import os
from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.postgres_operator import PostgresOperator

dag = DAG(
    "parity_subfolder_templates",
    start_date=datetime(2024, 1, 1),
    schedule_interval="@daily",
    catchup=False,
    template_searchpath=[os.path.dirname(os.path.abspath(__file__))],
)

run = BashOperator(task_id="run", bash_command="scripts/run.sh", dag=dag)
daily = PostgresOperator(task_id="daily", postgres_conn_id="warehouse", sql="queries/daily.sql", dag=dag)
included = BashOperator(task_id="included", bash_command="scripts/with_include.sh", dag=dag)
run_object = BashOperator(task_id="run_object", bash_command="echo {{ dag_run }} id={{ dag_run.run_id }}", dag=dag)

run >> daily >> included >> run_object
